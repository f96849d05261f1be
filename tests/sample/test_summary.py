"""The summary of finished shards: rates per source and label, throughput, plot, training samples."""

from __future__ import annotations

import json

import pytest

from cj2.data.records import JudgeExample, TrainingSample
from cj2.sample.acceptance import judge_candidates
from cj2.sample.items import Item
from cj2.sample.records import item_record
from cj2.sample.runner import shard_stats
from cj2.sample.shard_store import ShardStore
from cj2.sample.summary import ShardsPending, summarize
from tests.sample.test_acceptance import judgment

SAMPLING = {"engine": "hf", "model": "m", "template": "cj2_cot", "verdict_format": "cj2_cot", "n": 4, "temperature": 1.0, "top_p": 0.95, "max_tokens": 64, "base_seed": 1, "seed": 9}


def record(row: int, source: str, label: str, texts, cap: int = 1):
    item = Item(row, JudgeExample(f"question {row}", ["a", "b"], label, source=source, id=f"i{row}"))
    messages = [{"role": "user", "content": item.example.question}]
    return item_record(item, messages, judge_candidates(texts, label, "cj2_cot", cap), dict(SAMPLING), gen_tokens=10.0, gen_seconds=0.5)


def test_summary_rates_plot_and_training_samples(tmp_path):
    shard0 = [record(1, "math", "A", [judgment("A"), judgment("A"), judgment("B"), "junk"]), record(2, "math", "B", ["junk", "junk", judgment("A"), judgment("A")])]
    shard1 = [record(3, "chat", "A", [judgment("A"), judgment("B"), judgment("B"), judgment("B")])]
    for index, records in enumerate([shard0, shard1]):
        quarantined = [{"file": "in.jsonl", "row": 9, "kind": "invalid_json", "reason": "x", "text": "{"}] if index else []
        ShardStore(str(tmp_path), index, 2).finish(records, quarantined, shard_stats(records))
    summary = summarize(str(tmp_path), 2)
    groups = summary["groups"]
    assert groups["math / A"]["acceptance_rate"] == 2 / 4 and groups["math / A"]["parse_failure_rate"] == 1 / 4
    assert groups["math / B"]["acceptance_rate"] == 0 and groups["math / B"]["zero_accepted_items"] == 1
    assert groups["chat / A"]["acceptance_rate"] == 1 / 4
    assert groups["all"]["items"] == 3 and groups["all"]["candidates"] == 12 and groups["all"]["accepted"] == 3
    assert summary["quarantined"] == 1 and summary["quarantine_reasons"] == {"invalid_json": 1}
    assert summary["tokens_per_s"] == pytest.approx(30 / 1.5)
    samples = [TrainingSample.from_dict(json.loads(line)) for line in (tmp_path / "accepted.jsonl").read_text().splitlines()]
    assert [s.id for s in samples] == ["i1#0", "i3#0"]  # accept_cap=1: the first accepted candidate per item
    assert all(s.verdict == "A" and s.verdict_format == "cj2_cot" and s.target.endswith('"Choice": "Model A"}') for s in samples)
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert (tmp_path / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_no_summary_before_every_shard_is_done(tmp_path):
    records = [record(1, "math", "A", ["junk"])]
    ShardStore(str(tmp_path), 0, 2).finish(records, [], shard_stats(records))
    with pytest.raises(ShardsPending, match=r"\[1\]"):
        summarize(str(tmp_path), 2)
