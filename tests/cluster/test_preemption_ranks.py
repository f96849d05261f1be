"""Preemption across ranks: one signalled rank makes every rank save and stop at the same step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dist import run_torchrun

WORKER = Path(__file__).with_name("preemption_ranks_worker.py")


@pytest.mark.distributed
@pytest.mark.slow
def test_a_signal_on_one_rank_stops_every_rank_at_the_same_step(tmp_path):
    """Catches (cj2/cluster/preemption.py requested_by_any): the flag reduced with MIN (one signalled
    rank -> nobody stops, the run ends at STEPS) and the flag not reduced at all (rank 1 stops alone,
    rank 0 waits in the next step's collective: the worker's collective timeout fails the run)."""
    run_torchrun(WORKER, nproc=2, args=[str(tmp_path)], timeout=180)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(2)]
    assert json.loads((tmp_path / "stops.json").read_text()) == [3, 3]
    assert [r["stopped_at"] for r in ranks] == [3, 3]
    assert [r["requested"] for r in ranks] == [False, True]  # only rank 1 got the signal
    assert [r["total"] for r in ranks] == [2.0 * (1 + 2 + 3)] * 2  # both ran exactly steps 1-3
