"""``cluster=slurm`` against the real local cluster: submission, rank wiring, failures, helpers."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
import submitit

from cj2.cluster import registry, status
from cj2.cluster.launch import launch
from cj2.cluster.slurm import submit
from tests.cluster.helpers import result_of, slurm_config, wait_for_accounting, wait_until

cluster_cli = runpy.run_path(str(Path(__file__).resolve().parents[2] / "launch" / "cluster.py"))["main"]

pytestmark = pytest.mark.slurm


def test_launch_submits_and_prints_job_id_and_logs(slurm, tmp_path, capsys):
    from cj2.config import compose

    cfg = compose(["cluster=slurm_local", f"run_dir={tmp_path / 'run'}", "cluster.time_min=5"])
    job = launch("tests.cluster.tasks:echo_run_dir", cfg)
    out = result_of(job)
    printed = capsys.readouterr().out
    assert f"submitted SLURM job {job.job_id}" in printed
    assert str(job.paths.stdout) in printed
    assert out["run_dir"] == str(tmp_path / "run") and out["job_id"] == job.job_id
    # The job recorded its attempt in the run dir fixed at submission.
    assert (tmp_path / "run" / "run.json").exists()
    assert [e["job_id"] for e in registry.jobs(tmp_path / "run")] == [job.job_id]


def test_two_tasks_per_node_all_reduce_over_gloo(slurm, tmp_path):
    cfg = slurm_config(tmp_path / "run", "cluster.nproc=2", "parallel.dp=2")
    job = submit("tests.cluster.tasks:allreduce", cfg)
    out = result_of(job)
    assert out["sum"] == 3.0 and out["world_size"] == 2
    assert [(r["rank"], r["local_rank"], r["node_rank"]) for r in out["ranks"]] == [(0, 0, 0), (1, 1, 0)]
    assert out["master"].startswith("localhost:")


def test_failed_job_surfaces_log_tail_and_exit_reason(slurm, tmp_path, capsys):
    run_dir = tmp_path / "run"
    cfg = slurm_config(run_dir, "cluster.nproc=2", "parallel.dp=2")
    job = submit("tests.cluster.tasks:fail_on_rank1", cfg)
    with pytest.raises((submitit.core.utils.FailedJobError, submitit.core.utils.UncompletedJobError)):
        result_of(job)
    rows = wait_for_accounting(run_dir)
    assert rows[0]["state"] == "FAILED" and rows[0]["exit_code"] != "0:0"
    assert "deliberate failure on rank 1" in status.logs(run_dir)
    # The same, as a user sees it.
    assert cluster_cli(["status", str(run_dir)]) == 0 and "FAILED" in capsys.readouterr().out
    assert cluster_cli(["logs", str(run_dir), "--lines", "80"]) == 0 and "deliberate failure on rank 1" in capsys.readouterr().out


def test_cancel_stops_a_running_job(slurm, tmp_path):
    run_dir = tmp_path / "run"
    job = submit("tests.cluster.tasks:wait_forever", slurm_config(run_dir))
    wait_until(lambda: job.state == "RUNNING", what="the job to start")
    assert status.cancel(run_dir) == [job.job_id]
    with pytest.raises(submitit.core.utils.UncompletedJobError):
        result_of(job)
    assert wait_for_accounting(run_dir)[0]["state"].startswith("CANCELLED")

