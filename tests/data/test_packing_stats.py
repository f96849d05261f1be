"""What a packed build reports about itself (index.json) and how it splits into shards: the numbers
a user reads to size a run, checked against counts made by hand."""

from __future__ import annotations

import json

from cj2.data.packed import packing
from cj2.data.packed.packing import pack_lengths, write_tokenized
from cj2.data.packed.tokenize import TokenizedSample


def sample(n: int, learned: int, verdict_index: int = -1) -> TokenizedSample:
    return TokenizedSample(list(range(1, n + 1)), [0] * (n - learned) + [1] * learned, verdict_index=verdict_index)


def test_build_stats_count_loss_tokens_verdicts_and_fill_by_hand(tmp_path):
    """Catches (mutation survivors): the loss-token count starting at 1, a verdict at token 0 not
    counted (``>= 1``), and the fill fraction computed with ``**``, ``|`` or a wrong denominator.

    Hand count: lengths 5, 3, 2 (10 real tokens) in rows of 8 -> rows [5, 3] and [2]: fill
    10 / 16 = 0.625; learned tokens 2 + 1 + 2 = 5; verdicts at index 0 and 4 -> 2 verdict samples."""
    samples = [sample(5, 2, verdict_index=4), sample(3, 1), sample(2, 2, verdict_index=0)]
    stats = write_tokenized(samples, tmp_path, seq_length=8, pad_id=0)
    assert (stats["rows"], stats["real_tokens"], stats["loss_tokens"], stats["verdict_samples"]) == (2, 10, 5, 2)
    assert stats["fill_fraction"] == 10 / 16
    assert json.loads((tmp_path / "index.json").read_text())["stats"] == stats


def test_shards_hold_what_the_byte_budget_allows(tmp_path, monkeypatch):
    """Catches: the rows per shard computed from 4 bytes a token instead of 5 (int32 token + uint8
    mask), or with ``^``/``>>`` instead of ``//``, and a budget of 0 bytes (one row a shard).
    A budget of 160 bytes at seq_length 8 is 160 // 40 = 4 rows a shard: 7 rows -> shards of 4, 3."""
    samples = [sample(8, 1) for _ in range(7)]
    write_tokenized(samples, tmp_path / "small", seq_length=8, pad_id=0)  # the real budget: one shard
    assert [s["rows"] for s in json.loads((tmp_path / "small" / "index.json").read_text())["shards"]] == [7]
    monkeypatch.setattr(packing, "SHARD_BYTES", 160)
    write_tokenized(samples, tmp_path / "budget", seq_length=8, pad_id=0)
    assert [s["rows"] for s in json.loads((tmp_path / "budget" / "index.json").read_text())["shards"]] == [4, 3]


def test_a_one_token_gap_still_takes_a_one_token_sample():
    """Catches: rows with exactly one free token dropped from the free list (``left > 1``), which
    opens a new row for a one-token sample that fits: [3, 1] in rows of 4 is one row."""
    assert pack_lengths([3, 1], 4) == [[0, 1]]
    assert pack_lengths([3, 2, 1], 4) == [[0, 2], [1]]
