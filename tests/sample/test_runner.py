"""The sharded runner end to end on the tiny Qwen2: outputs, quarantine, summary, skip, refusal."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from cj2.config import compose, finalize
from cj2.sample.runner import RunMismatch, claim_output_dir, sample_shard
from tests.sample.conftest import sample_overrides
from tests.sample.inputs import BAD_ROWS, GOOD_IDS
from tests.sample.outputs import quarantine_rows, shard_records


def test_every_item_once_with_all_candidates_and_their_verdicts(reference_run):
    records = shard_records(reference_run)
    assert sorted(r["id"] for r in records) == sorted(GOOD_IDS)  # nothing missing, nothing twice
    for r in records:
        assert len(r["candidates"]) == 2 and [c["index"] for c in r["candidates"]] == [0, 1]
        for c in r["candidates"]:
            assert isinstance(c["text"], str) and set(c) == {"index", "text", "verdict", "parsed", "reason", "accepted", "rejected", "kept", "duplicate_of"}
            assert c["parsed"] == (c["reason"] is None)
        sampling = r["sampling"]
        assert (sampling["n"], sampling["temperature"], sampling["top_p"], sampling["max_tokens"], sampling["base_seed"]) == (2, 1.0, 0.95, 4, 1234)
        assert sampling["template"] == sampling["verdict_format"] == "cj2_cot"
        assert r["messages"][-1]["content"].endswith(f"[Model B's Response]\n{r['example']['responses'][1]}")
    # A random model states no verdict: every item has zero accepted candidates, and is still recorded.
    assert all(r["num_accepted"] == 0 for r in records)
    assert len({r["sampling"]["seed"] for r in records}) == len(records)


def test_quarantine_and_summary(reference_run, sample_input):
    rows = quarantine_rows(reference_run)
    assert Counter(r["kind"] for r in rows) == Counter(BAD_ROWS)
    assert all(r["file"] == str(sample_input) and r["row"] > 0 and r["reason"] for r in rows)
    summary = json.loads((reference_run / "summary.json").read_text())
    assert summary["quarantined"] == sum(BAD_ROWS.values())
    assert summary["groups"]["all"]["items"] == len(GOOD_IDS) and summary["groups"]["all"]["candidates"] == 2 * len(GOOD_IDS)
    # Groups by the label each item was judged with (swap_positions=random flips half of them).
    assert {f"{r['source']} / {r['label']}" for r in shard_records(reference_run)} | {"all"} == set(summary["groups"])
    assert summary["groups"]["all"]["zero_accepted_items"] == len(GOOD_IDS)
    assert summary["completion_tokens"] > 0 and summary["tokens_per_s"] > 0
    assert (reference_run / "summary.png").stat().st_size > 0
    assert (reference_run / "accepted.jsonl").read_text() == ""
    assert not list(reference_run.glob("shards/*/parts")) and not list(reference_run.rglob("*.tmp"))


def test_finished_shards_are_skipped_without_loading_a_model(reference_run, tiny_qwen2_dir, sample_input):
    cfg = finalize(compose(sample_overrides(tiny_qwen2_dir, sample_input, reference_run, reference_run.parent / "run")))

    def no_engine():
        raise AssertionError("a finished shard must not sample again")

    before = {p: p.stat().st_mtime_ns for p in reference_run.glob("shards/*/*")}
    manifests = [sample_shard(cfg.sample, i, no_engine, progress=False) for i in range(3)]
    assert sum(m["items"] for m in manifests) == len(GOOD_IDS)
    assert {p: p.stat().st_mtime_ns for p in reference_run.glob("shards/*/*")} == before


def test_an_output_dir_refuses_a_run_with_other_settings(reference_run, tiny_qwen2_dir, sample_input):
    cfg = finalize(compose([*sample_overrides(tiny_qwen2_dir, sample_input, reference_run, reference_run.parent / "run"), "sample.temperature=0.7"]))
    with pytest.raises(RunMismatch, match="temperature: 1.0 -> 0.7"):
        claim_output_dir(cfg.sample)


def test_launcher_rejects_a_missing_input_before_loading_anything(repo_root, tmp_path):
    proc = subprocess.run([sys.executable, "launch/sample.py", f"run_dir={tmp_path}", f"sample.input={tmp_path}/none.jsonl", f"sample.model={tmp_path}"], cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "sample.input: no input file" in proc.stderr
