"""Submitting cj2 tasks as SLURM jobs through submitit, from a login node.

Only submitit and omegaconf are imported here: the job's own code (torch, Megatron) is imported
inside the job, so submitting is quick. Each job gets ``cluster.tasks_per_node`` tasks per node,
one per GPU (or CPU rank), and its rank wiring comes from SLURM's variables
(:mod:`cj2.cluster.env`). Logs and submitit's files live in ``run_dir/slurm``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig

from cj2.cluster import frozen, registry
from cj2.cluster.job import SlurmTask
from cj2.cluster.tasks import is_distributed


def inside_job() -> bool:
    """True inside a submitit SLURM job (then a launcher runs the task here instead of submitting)."""
    return "SUBMITIT_FOLDER" in os.environ and "SLURM_JOB_ID" in os.environ


def layout(task: str, cfg: DictConfig) -> tuple[int, int]:
    """(nodes, tasks per node): one task per GPU for distributed tasks (training); other tasks
    (sampling, data, evaluation) run as one process on one node and use its GPUs themselves."""
    if is_distributed(task, cfg) or ":" in task:
        return cfg.cluster.nodes, cfg.cluster.tasks_per_node
    return 1, 1


def memory_options(mem_gb: int | None) -> tuple[int | None, dict[str, str]]:
    """submitit's ``mem_gb`` and the extra sbatch options for ``cluster.mem_gb``: 0 asks for all of
    each node's memory as ``--mem=0`` (submitit would write ``0GB``); null leaves the partition's default."""
    return (None, {"mem": "0"}) if mem_gb == 0 else (mem_gb, {})


def sbatch_parameters(task: str, cfg: DictConfig, name: str, dependency: str | None = None) -> dict[str, Any]:
    """submitit ``update_parameters`` keywords for this config's cluster section."""
    c = cfg.cluster
    nodes, tasks_per_node = layout(task, cfg)
    additional = dict(c.additional)
    if dependency:
        additional["dependency"] = dependency
        # A failed upstream stage cancels the downstream ones instead of leaving them pending.
        additional.setdefault("kill_on_invalid_dep", "yes")
    mem_gb, mem_options = memory_options(c.mem_gb)
    params: dict[str, Any] = {
        "name": name,
        "nodes": nodes,
        "tasks_per_node": tasks_per_node,
        "cpus_per_task": c.cpus_per_task,
        "timeout_min": c.time_min,
        "slurm_signal_delay_s": c.signal_delay_s,
        "slurm_array_parallelism": c.array_parallelism,
        "slurm_setup": list(c.setup),
        "slurm_additional_parameters": {**mem_options, **additional},
        # One failed rank ends the step: the others would otherwise wait in a collective.
        "slurm_srun_args": ["--kill-on-bad-exit=1"],
    }
    if c.gpus_per_node > 0:
        params["gpus_per_node"] = c.gpus_per_node
    if mem_gb:
        params["mem_gb"] = mem_gb
    for key in ("partition", "account", "qos", "constraint"):
        if c.get(key):
            params[f"slurm_{key}"] = c.get(key)
    return params


def executor(task: str, cfg: DictConfig, dependency: str | None = None, home: str | None = None):
    """``home``: the run dir whose ``slurm/`` holds the logs (default ``cfg.run_dir``; a sweep's dir for its pipeline)."""
    import submitit

    ex = submitit.AutoExecutor(folder=str(registry.slurm_dir(home or cfg.run_dir)), cluster="slurm", slurm_max_num_timeout=cfg.cluster.max_requeues)
    ex.update_parameters(**sbatch_parameters(task, cfg, job_name(task, cfg), dependency))
    return ex


def job_name(task: str, cfg: DictConfig) -> str:
    return f"cj2-{task.split(':')[-1]}-{cfg.run_name}"


def submit(task: str, cfg: DictConfig, dependency: str | None = None, quiet: bool = False, home: str | None = None):
    """Submit ``task`` on the frozen ``cfg`` as one SLURM job; print and return its submitit job.
    ``home``: the run dir that records the job and its logs (default ``cfg.run_dir``)."""
    home = home or cfg.run_dir
    job = executor(task, cfg, dependency, home).submit(SlurmTask(task, frozen.to_plain(cfg)))
    entry = registry.record(home, task, job)
    if not quiet:
        announce(task, home, [entry])
    return job


def submit_array(task: str, cfgs: Sequence[DictConfig], dependency: str | None = None, quiet: bool = False, home: str | None = None) -> list:
    """Submit one job per config as a single SLURM array, at most ``cluster.array_parallelism`` at a time.

    Resources and the concurrency limit come from the first config; each task keeps its own
    frozen config (and run dir). ``home``: the run dir that records every task and holds the logs
    (default: each task's own run dir records it, the first one's holds the logs).
    """
    first = cfgs[0]
    ex = executor(task, first, dependency, home)
    with ex.batch():
        jobs = [ex.submit(SlurmTask(task, frozen.to_plain(cfg))) for cfg in cfgs]
    entries = [registry.record(home or cfg.run_dir, task, job) for cfg, job in zip(cfgs, jobs, strict=True)]
    if not quiet:
        announce(task, home or first.run_dir, entries)
    return jobs


def announce(task: str, run_dir: str, entries: list[dict[str, Any]]) -> None:
    first = entries[0]
    ids = first["job_id"] if len(entries) == 1 else f"{first['job_id'].split('_')[0]} (array of {len(entries)})"
    print(f"cj2 {task}: submitted SLURM job {ids}")
    print(f"  logs:   {first['stdout']}\n          {first['stderr']}")
    print(f"  status: python launch/cluster.py status {run_dir}   (logs / cancel likewise)")


def dependency_on(jobs: Sequence) -> str:
    """``afterok`` on every job (an array counts once, by its array id)."""
    ids = sorted({str(j.job_id).split("_")[0] for j in jobs}, key=int)
    return "afterok:" + ":".join(ids)


def result(job) -> Any:
    """Block until ``job`` ends; rank 0's return value (every task of a multi-task job returns one)."""
    return job.results()[0]
