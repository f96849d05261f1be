"""Where JudgerBenchV2 puts the base model: Model A or Model B, per record.

The published loader (OpenCompass ``opencompass/datasets/judge/judgerbenchv2.py``,
``generate_balanced_list``) seeds Python's ``random`` with 0, shuffles ONE list of 50 zeros and
50 ones, and tiles that same shuffled list ten times (``balanced_list * 10``); it is not
reshuffled per block. Record ``i`` of a scenario file gets entry ``i``: 0 puts the base model
as Model A, 1 puts it as Model B. Reproducing this exactly is what lets saved outputs of other
tools score identically here.
"""

from __future__ import annotations

import random

BLOCK = 100  # one block per query batch of a scenario: 50 zeros, 50 ones
REPEATS = 10  # 10 models x 100 queries = 1000 records per scenario
BASE_IS_A = 0
BASE_IS_B = 1


def balanced_positions(length: int = BLOCK, seed: int = 0) -> list[int]:
    """A seeded shuffle of ``length // 2`` zeros and ``length // 2`` ones (one more coin if odd)."""
    rng_state = random.getstate()
    try:
        # The published code seeds the global generator; an odd length draws its extra
        # entry before the shuffle, and the order of those draws is part of the result.
        random.seed(seed)
        positions = [BASE_IS_A] * (length // 2) + [BASE_IS_B] * (length // 2)
        if length % 2:
            positions.append(random.choice([BASE_IS_A, BASE_IS_B]))
        random.shuffle(positions)
        return positions
    finally:
        # Our callers should not see their own random stream changed by scoring.
        random.setstate(rng_state)


def judgerbench_positions(num_records: int) -> list[int]:
    """Base-model positions for the first ``num_records`` records of a scenario file."""
    tiled = balanced_positions(BLOCK) * REPEATS
    if num_records > len(tiled):
        raise ValueError(f"a JudgerBenchV2 scenario holds at most {len(tiled)} records (the published position list), got {num_records}")
    return tiled[:num_records]
