"""The JudgerBenchV2 A/B positions against an independent re-implementation of the published rule."""

from __future__ import annotations

import random

from cj2.eval.benchmarks.judgerbenchv2.positions import BASE_IS_A, balanced_positions, judgerbench_positions


def independent_published_positions():
    # random.seed(0), then one shuffled list of 50 zeros and 50 ones, repeated ten times
    random.seed(0)
    block = [0] * 50 + [1] * 50
    random.shuffle(block)
    return block * 10


def test_positions_match_the_published_rule():
    state = random.getstate()
    expected = independent_published_positions()
    random.setstate(state)
    assert judgerbench_positions(1000) == expected


def test_the_block_is_shuffled_once_and_tiled():
    positions = judgerbench_positions(1000)
    blocks = [positions[i : i + 100] for i in range(0, 1000, 100)]
    assert all(b == blocks[0] for b in blocks)
    assert blocks[0].count(BASE_IS_A) == 50
    assert blocks[0] != sorted(blocks[0])


def test_a_shorter_file_takes_the_prefix():
    assert judgerbench_positions(37) == judgerbench_positions(1000)[:37]


def test_callers_random_stream_is_untouched():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    balanced_positions(100)
    assert random.random() == expected


def test_more_than_a_thousand_records_is_refused():
    import pytest

    with pytest.raises(ValueError, match="at most 1000"):
        judgerbench_positions(1001)
