"""Rejection sampling of chosen-first reward data ends half A, half B, and the build shows the balance.

Reward data lists the chosen response first; sampled as read, every RFT target says "A" (the
issue measured 200/200) and the judge learns a position. The engine is an oracle that picks the
response marked CHOSEN wherever the prompt shows it, so every candidate is accepted and the
labels, prompts and targets can be checked against each other.
"""

from __future__ import annotations

import json
from collections import Counter

from cj2.config import compose, finalize
from cj2.data.job import build_mixture
from cj2.sample.engines.base import Usage
from cj2.sample.job import sample_and_summarize
from tests.data.helpers import cot_judgment, data_cfg, read_jsonl, write_jsonl
from tests.sample.outputs import shard_records

ROWS = 200


class OracleEngine:
    """Judges like a teacher that is always right: the response holding "CHOSEN" wins."""

    def __init__(self):
        self.usage = Usage()

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed):
        return [[cot_judgment("A" if self.chosen_first(p[-1]["content"]) else "B")] * n for p in prompts]

    @staticmethod
    def chosen_first(prompt):
        return prompt.index("CHOSEN") < prompt.index("REJECTED")

    def close(self):
        pass


def chosen_first_rows():
    return [{"id": f"r{i}", "question": f"Question {i}?", "response_a": f"CHOSEN answer {i}", "response_b": f"REJECTED answer {i}",
             "label": "A", "source": "reward"} for i in range(ROWS)]


def test_rft_of_chosen_first_data_is_position_balanced_through_to_the_build(tmp_path, qwen_tokenizer):
    """Catches: sampling items in the input's order (sample.swap_positions ignored: 200/200 "A"), a swap that
    flips the label without exchanging the responses, and a build whose stats.json lacks the per-component A share."""
    source = write_jsonl(tmp_path / "reward.jsonl", chosen_first_rows())
    cfg = finalize(compose(["sample.engine=hf", "sample.model=oracle", "sample.n=2", "sample.num_shards=3", "sample.flush_every=16",
                            "sample.progress=false", f"sample.input={source}", f"sample.output_dir={tmp_path / 'rft'}", f"run_dir={tmp_path / 'run'}"]))
    assert cfg.sample.swap_positions == "random"  # the mixture's setting, by default
    summary = sample_and_summarize(cfg.sample, OracleEngine)
    records = shard_records(tmp_path / "rft")
    assert len(records) == ROWS and Counter(r["label"] for r in records) == {"A": ROWS // 2, "B": ROWS // 2}
    for r in records:  # the label names the position where the prompt shows the chosen response
        assert OracleEngine.chosen_first(r["messages"][-1]["content"]) == (r["label"] == "A")
    accepted = read_jsonl(tmp_path / "rft" / "accepted.jsonl")
    assert summary["training_samples"] == len(accepted) == ROWS  # accept_cap=1: one target per item
    assert Counter(s["verdict"] for s in accepted) == {"A": ROWS // 2, "B": ROWS // 2}
    assert all(json.loads(s["target"])["Choice"] == f"Model {s['verdict']}" for s in accepted)

    components = {
        "rft": {"kind": "sft", "path": str(tmp_path / "rft" / "accepted.jsonl")},
        "reward_pairs": {"kind": "pairwise", "path": str(source), "template": "cj2_short"},
    }
    out = build_mixture(data_cfg(tmp_path / "data", components, validation_fraction=0.0, seq_length=2048), show_progress=False)
    stats = json.loads((out / "stats.json").read_text())["components"]
    for name in components:
        assert stats[name]["kept"] == ROWS
        assert 0.48 <= stats[name]["a_share"] <= 0.52, (name, stats[name]["verdicts"])
    assert stats["rft"]["verdicts"] == {"A": ROWS // 2, "B": ROWS // 2}
