"""Rejection sampling with a real pretrained model whose candidates all parse: SmolLM2-135M-Instruct
under constrained decoding (``sample.choices``), through the sampling job.

Free-running, this model wrote 0 parseable verdicts in 192 candidates; constrained to
``[[A]]`` / ``[[B]]`` every candidate is a verdict, so both the accept path (verdict == label) and
the reject path (``wrong_verdict``) carry real work, and the kept candidates become training rows.
"""

from __future__ import annotations

import json

import pytest

from cj2.config import ConfigError, compose, finalize, validate
from cj2.sample.job import run
from tests.data.helpers import read_jsonl, write_jsonl

ITEMS = 6


def pairs(path):
    write_jsonl(path, [{"id": f"p{i}", "question": f"What is {i} + {i}?", "response_a": f"{2 * i}", "response_b": f"{2 * i + 3}", "label": "A", "source": "arith"}
                       for i in range(ITEMS)])


def overrides(tmp_path, model_dir, *extra):
    return ["sample.engine=hf", f"sample.model={model_dir}", "sample.device=cpu", "sample.template=mtbench_pair", "sample.verdict_format=mtbench_pair",
            "sample.choices=['[[A]]','[[B]]']", "sample.n=2", "sample.max_tokens=8", "sample.accept_cap=0", "sample.progress=false",
            f"sample.input={tmp_path / 'pairs.jsonl'}", f"sample.output_dir={tmp_path / 'out'}", f"run_dir={tmp_path / 'run'}", *extra]


@pytest.mark.slow
def test_constrained_smollm2_candidates_all_parse_and_split_into_accepted_and_rejected(tmp_path, smollm2_dir):
    """Catches: choices not passed to generate (free text: the parse rate falls to ~0 and nothing is
    accepted), a constraint that lets a choice run on (``[[A]]]``: unparsed), and acceptance that
    ignores the label (every candidate accepted, or none)."""
    pairs(tmp_path / "pairs.jsonl")
    summary = run(finalize(compose(overrides(tmp_path, smollm2_dir))))
    records = [r for p in sorted((tmp_path / "out" / "shards").glob("*/items.jsonl")) for r in read_jsonl(p)]
    candidates = [(c, r["label"]) for r in records for c in r["candidates"]]
    assert len(candidates) == ITEMS * 2
    assert {c["text"] for c, _ in candidates} <= {"[[A]]", "[[B]]"}
    assert all(c["parsed"] for c, _ in candidates)
    assert all(c["accepted"] == (c["verdict"] == label) for c, label in candidates)
    accepted = sum(c["accepted"] for c, _ in candidates)
    assert 0 < accepted < len(candidates), "both paths: some candidates accepted, some rejected as wrong_verdict"
    assert summary["candidate_rejections"] == {"wrong_verdict": len(candidates) - accepted}
    # labels are half A, half B after position balancing, so a judge that always says one letter is half right
    assert {r["label"] for r in records} == {"A", "B"}
    # an item's second accepted "[[A]]" copies its first: a near-duplicate, accepted but not kept as a training row
    kept = [c for c, _ in candidates if c["kept"]]
    assert all(c["accepted"] for c in kept) and all(c["duplicate_of"] is not None for c, _ in candidates if c["accepted"] and not c["kept"])
    assert len(read_jsonl(tmp_path / "out" / "accepted.jsonl")) == len(kept) == len({(r["id"], c["verdict"]) for r in records for c in r["candidates"] if c["accepted"]})
    print(json.dumps({"candidates": len(candidates), "accepted": accepted}))


def test_choices_must_be_verdicts_of_the_format_and_need_the_hf_engine(tmp_path):
    """Catches: choices the verdict format cannot read (every candidate rejected after hours of
    sampling) and choices silently ignored by an engine that cannot constrain."""
    with pytest.raises(ConfigError, match=r"sample.choices: \['Model A'\] state no verdict in format mtbench_pair"):
        validate(compose(overrides(tmp_path, "m", "sample.choices=['[[A]]','Model A']")))
    with pytest.raises(ConfigError, match="constrained decoding is an option of the hf engine, not openai"):
        validate(compose(overrides(tmp_path, "m", "sample.engine=openai", "sample.base_url=http://localhost:1/v1")))
