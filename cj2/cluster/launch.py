"""From a composed config to a running job: validate, plan, record, then run or submit."""

from __future__ import annotations

import json
import sys

from omegaconf import DictConfig

from cj2.cluster.tasks import task_function, world_size
from cj2.config import ConfigError, finalize, validate


def launch(task: str, cfg: DictConfig):
    """Entry of every ``launch/*.py``. Nothing heavy is imported before validation passes."""
    cfg = finalize(cfg)
    try:
        validate(cfg, stage="compose" if cfg.dry_run else "run", task=task)
    except ConfigError as e:
        # One clear message, no traceback: the user fixes a config, not the code.
        print(f"cj2 {task}: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    if cfg.dry_run:
        from cj2.config.plan import run_plan

        print(json.dumps({"task": task, "run_dir": cfg.run_dir, **run_plan(cfg)}, indent=2))
        return None
    if cfg.cluster.kind == "slurm":
        from cj2.cluster.slurm import inside_job, submit

        if not inside_job():
            return submit(task, cfg)
        # A Hydra submitit-launcher sweep job: this process already is one SLURM task (rank).
        from cj2.cluster.job import run_in_job

        return run_in_job(task, cfg)
    from cj2.tracking.run_record import write_run_record

    write_run_record(cfg, task)
    world = world_size(task, cfg)
    if world == 1:
        return task_function(task)(cfg)
    from cj2.cluster.local import run_processes

    return run_processes(task, cfg, world)
