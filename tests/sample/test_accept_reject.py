"""The sampling path with candidates that parse: which are accepted, kept and written, per label
and position, driven through the real runner (cj2.sample.job.sample_and_summarize) with a
deterministic engine, so the accepted side of every comparison is non-empty."""

from __future__ import annotations

import json
import re

from cj2.config import compose, finalize
from cj2.sample.engines.base import Usage
from cj2.sample.job import sample_and_summarize
from tests.data.helpers import cot_judgment
from tests.sample.outputs import accepted_lines, shard_records

CHOOSE_A = cot_judgment("A", Reasoning="Response A adds correctly.")
CHOOSE_B = cot_judgment("B", Reasoning="Response B adds correctly.")
NO_VERDICT = "Both responses look plausible; I cannot decide."
SELF_CONTRADICTING = '{"Choice": "Model A"} ... on reflection {"Choice": "Model B"}'

# item id -> (label, the engine's candidates in order, accepted per position, kept per position with accept_cap=1)
SCRIPT = {
    "q0": ("A", [CHOOSE_A, CHOOSE_B, NO_VERDICT], [True, False, False], [True, False, False]),
    "q1": ("B", [CHOOSE_A, CHOOSE_B, NO_VERDICT], [False, True, False], [False, True, False]),
    "q2": ("A", [CHOOSE_B, CHOOSE_A, CHOOSE_A], [False, True, True], [False, True, False]),
    "q3": ("B", [CHOOSE_B, CHOOSE_B, CHOOSE_A], [True, True, False], [True, False, False]),
    "q4": ("A", [CHOOSE_B, NO_VERDICT, SELF_CONTRADICTING], [False, False, False], [False, False, False]),
    "q5": ("B", [SELF_CONTRADICTING, CHOOSE_A, CHOOSE_B], [False, False, True], [False, False, True]),
}


class ScriptedEngine:
    """The engine interface (cj2.sample.engines.base.Engine) answering from SCRIPT by the item's question."""

    def __init__(self):
        self.usage = Usage()

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed):
        out = []
        for messages in prompts:
            item = re.search(r"Question (q\d):", messages[-1]["content"]).group(1)
            texts = SCRIPT[item][1]
            assert n == len(texts)
            self.usage.completion_tokens += sum(len(t.split()) for t in texts)
            out.append(list(texts))
        return out

    def close(self):
        pass


def test_accepted_and_rejected_candidates_per_label_and_position(tmp_path):
    """Catches: candidates checked against label "A" instead of the item's label (cj2/sample/runner.py
    sample_batch), acceptance of any parsed verdict, the accept cap ignored or keeping the last
    instead of the first accepted candidate, a self-contradicting judgment accepted."""
    source = tmp_path / "pairs.jsonl"
    rows = [{"id": item, "question": f"Question {item}: what is 2 + 2?", "responses": ["4", "5"] if label == "A" else ["5", "4"], "label": label, "source": "math"}
            for item, (label, *_rest) in SCRIPT.items()]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = finalize(compose([
        "sample.engine=hf", "sample.model=scripted", "sample.n=3", "sample.num_shards=2", "sample.flush_every=2",
        "sample.progress=false", "sample.accept_cap=1", "sample.swap_positions=none", "sample.template=cj2_cot", "sample.verdict_format=cj2_cot",
        f"sample.input={source}", f"sample.output_dir={tmp_path / 'out'}", f"run_dir={tmp_path / 'run'}",
    ]))
    engine = ScriptedEngine()
    summary = sample_and_summarize(cfg.sample, lambda: engine)

    records = {r["id"]: r for r in shard_records(tmp_path / "out")}
    assert sorted(records) == sorted(SCRIPT)
    for item, (label, _texts, accepted, kept) in SCRIPT.items():
        candidates = records[item]["candidates"]
        assert records[item]["label"] == label
        assert [c["accepted"] for c in candidates] == accepted, item
        assert [c["kept"] for c in candidates] == kept, item
        assert records[item]["num_accepted"] == sum(accepted)
    assert records["q4"]["candidates"][2]["reason"].startswith("two conflicting verdicts")
    written = [json.loads(line) for line in accepted_lines(tmp_path / "out")]
    expected = {f"{item}#{k}": SCRIPT[item][1][k] for item in SCRIPT for k, keep in enumerate(SCRIPT[item][3]) if keep}
    assert {s["id"]: s["target"] for s in written} == expected
    assert all(s["verdict"] == SCRIPT[s["meta"]["item_id"]][0] for s in written)
    assert summary["training_samples"] == 5
    everything = summary["groups"]["all"]
    assert (everything["items"], everything["candidates"], everything["accepted"], everything["kept"], everything["zero_accepted_items"]) == (6, 18, 7, 5, 1)
