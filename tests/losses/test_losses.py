"""Each loss and its gradient vs an independent full-vocabulary reference, at TP=1 and TP=2."""

from pathlib import Path

import pytest

from tests.dist import run_torchrun


@pytest.mark.distributed
@pytest.mark.slow
def test_losses_match_reference_at_tp1_and_tp2():
    out = run_torchrun(Path(__file__).with_name("loss_worker.py"), nproc=2, timeout=300)
    assert "LOSS CHECKS PASSED" in out
