"""Helpers of the SLURM tests: a config for the local cluster, and bounded polling on a condition."""

from __future__ import annotations

import time

from cj2.cluster import status


def slurm_config(run_dir, *overrides: str):
    """A frozen config for the local cluster: partition debug, 1 CPU and 1 GB per task, 5 minutes."""
    from cj2.config import compose, finalize

    return finalize(compose(["cluster=slurm_local", f"run_dir={run_dir}", "cluster.time_min=5", "cluster.mem_gb=1", "cluster.cpus_per_task=1", *overrides]))


def wait_until(condition, what: str, timeout_s: float = 120):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.5)


def wait_for_accounting(run_dir, timeout_s: float = 120) -> list:
    """The run's status rows once every job of it is final in sacct (about 2 s after it ends)."""
    rows: list = []

    def settled() -> bool:
        rows[:] = status.status(run_dir)
        return bool(rows) and all(r["state"].startswith(status.FINISHED) for r in rows)

    wait_until(settled, what=f"the jobs of {run_dir} to reach a final state in sacct", timeout_s=timeout_s)
    return rows


def result_of(job, timeout_s: float = 240):
    """Rank 0's result of a submitit job, failing the test instead of hanging if it never ends."""
    from cj2.cluster.slurm import result

    wait_until(job.done, what=f"job {job.job_id} to end", timeout_s=timeout_s)
    return result(job)
