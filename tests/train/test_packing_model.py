"""Packed == unpacked through a real GPTModel (losses and gradients), at TP=1 and TP=2."""

from pathlib import Path

import pytest

from tests.dist import run_torchrun


@pytest.mark.distributed
@pytest.mark.slow
def test_packed_batch_matches_unpacked(tmp_path):
    out = run_torchrun(Path(__file__).with_name("packing_worker.py"), nproc=2, args=[str(tmp_path)], timeout=300)
    assert "PACKING CHECKS PASSED" in out
