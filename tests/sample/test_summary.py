"""The summary of finished shards: rates per source and label, throughput, plot, training samples."""

from __future__ import annotations

import json
import tracemalloc

import pytest

from cj2.data.records import JudgeExample, TrainingSample
from cj2.sample.acceptance import judge_candidates
from cj2.sample.items import Item
from cj2.sample.records import item_record
from cj2.sample.runner import shard_stats
from cj2.sample.summary import ShardsPending, summarize
from cj2.utils.shard_store import ShardOrderError, ShardStore
from tests.sample.test_acceptance import judgment

SAMPLING = {"engine": "hf", "model": "m", "template": "cj2_cot", "verdict_format": "cj2_cot", "n": 4, "temperature": 1.0, "top_p": 0.95, "max_tokens": 64, "base_seed": 1, "seed": 9}


def record(row: int, source: str, label: str, texts, cap: int = 1):
    item = Item(row, JudgeExample(f"question {row}", ["a", "b"], label, source=source, id=f"i{row}"))
    messages = [{"role": "user", "content": item.example.question}]
    return item_record(item, messages, judge_candidates(texts, label, "cj2_cot", cap), dict(SAMPLING), gen_tokens=10.0, gen_seconds=0.5)


def finished_shard(output_dir, index: int, count: int, records: list, quarantined: list | None = None) -> dict:
    store = ShardStore(str(output_dir), index, count)
    store.commit_part(records)
    return store.finish(quarantined or [], shard_stats)


def test_summary_rates_plot_and_training_samples(tmp_path):
    shard0 = [record(1, "math", "A", [judgment("A"), judgment("A"), judgment("B"), "junk"]), record(2, "math", "B", ["junk", "junk", judgment("A"), judgment("A")])]
    shard1 = [record(3, "chat", "A", [judgment("A"), judgment("B"), judgment("B"), judgment("B")])]
    for index, records in enumerate([shard0, shard1]):
        quarantined = [{"file": "in.jsonl", "row": 9, "kind": "invalid_json", "reason": "x", "text": "{"}] if index else []
        finished_shard(tmp_path, index, 2, records, quarantined)
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
    finished_shard(tmp_path, 0, 2, records)
    with pytest.raises(ShardsPending, match=r"\[1\]"):
        summarize(str(tmp_path), 2)


def test_finishing_and_summarising_stream_the_records(tmp_path):
    """A shard of ~20 MB of records is finished and summarised with a peak of Python allocations
    under a tenth of that. Catches: finish or summarize collecting the records or the accepted
    samples in a list (the old ``records`` / ``accepted`` lists: a peak above the file size)."""
    import matplotlib.pyplot  # noqa: F401  (imported before measuring: the plot's import is not the records)

    def verbose(choice: str) -> str:  # a complete CoT judgment with a long analysis
        return judgment(choice).replace("A is correct", "A is correct " + "x" * 2000)

    parts = 40
    store = ShardStore(str(tmp_path), 0, 1)
    for part in range(parts):
        store.commit_part([record(part * 50 + i, "math", "A", [verbose("A"), verbose("A"), verbose("B"), "x" * 2000], cap=2) for i in range(50)])
    parts_bytes = sum(p.stat().st_size for p in store.parts_dir.iterdir())
    assert parts_bytes > 15e6

    tracemalloc.start()
    try:
        manifest = store.finish([], shard_stats)
        summary = summarize(str(tmp_path), 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert manifest["items"] == parts * 50 and summary["training_samples"] == 2 * parts * 50  # real work went through
    assert peak < parts_bytes / 10, f"peak {peak / 1e6:.1f} MB for {parts_bytes / 1e6:.1f} MB of records"


def test_parts_out_of_input_order_are_refused(tmp_path):
    """Catches: finish writing items.jsonl without checking that the parts follow input order
    (a shard whose items file silently lists rows out of order)."""
    store = ShardStore(str(tmp_path), 0, 1)
    store.commit_part([record(2, "math", "A", ["junk"])])
    store.commit_part([record(1, "math", "A", ["junk"])])
    with pytest.raises(ShardOrderError, match="row 1 committed after row 2"):
        store.finish([], shard_stats)
    assert store.manifest() is None
