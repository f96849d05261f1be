"""``cluster=local`` with several ranks: real processes, gloo, fail-fast."""

from __future__ import annotations

import pytest

from cj2.cluster.local import RankFailed, run_processes
from cj2.config import compose, finalize


@pytest.fixture
def cfg(tmp_path, monkeypatch, repo_root):
    monkeypatch.setenv("PYTHONPATH", str(repo_root))
    return finalize(compose(["cluster=local", f"run_dir={tmp_path / 'run'}"]))


@pytest.mark.distributed
def test_two_local_ranks_all_reduce(cfg, tmp_path):
    out = run_processes("tests.cluster.tasks:allreduce", cfg, world=2)
    assert out["sum"] == 3.0 and out["world_size"] == 2
    assert [r["rank"] for r in out["ranks"]] == [0, 1]
    assert (tmp_path / "run" / "logs" / "rank1.log").exists()


@pytest.mark.distributed
def test_failing_rank_stops_the_others_and_shows_its_log(cfg):
    with pytest.raises(RankFailed) as err:
        run_processes("tests.cluster.tasks:fail_on_rank1", cfg, world=2)
    assert err.value.rank == 1
    assert "exited with code 1" in str(err.value)
    assert "deliberate failure on rank 1" in str(err.value)


@pytest.mark.distributed
def test_a_missing_peer_is_a_clear_error_not_a_hang(cfg):
    with pytest.raises(RankFailed) as err:
        run_processes("tests.cluster.tasks:rank1_never_joins", cfg, world=2)
    assert err.value.rank == 0
    assert "rank 0/2" in str(err.value) and "within 5s" in str(err.value)
