"""The jobs cj2 can run, each a function ``run(cfg)`` imported only inside the job."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from omegaconf import DictConfig

TASKS = {
    "train": "cj2.train.job:run",
    "sample": "cj2.sample.job:run",
    "eval": "cj2.eval.job:run",
    "compare": "cj2.eval.studies.ablation:table_job",
    "judge": "cj2.judge.job:run",
    "curate": "cj2.sample.curate:run",
    "build_data": "cj2.data.job:run",
    "build_bench": "cj2.benchmark.job:run",
    "convert": "cj2.models.convert:run",
    "export_checkpoint": "cj2.train.export:run",
    "mini_table4": "cj2.miniature.job:run",
}

# Tasks whose world size is the parallel layout (one process per GPU / CPU rank).
DISTRIBUTED_TASKS = ("train", "export_checkpoint")


def is_distributed(task: str, cfg: DictConfig) -> bool:
    """Training always runs one process per rank; sampling and curation too with the Megatron engine."""
    return task in DISTRIBUTED_TASKS or (task in ("sample", "curate") and cfg.sample.engine == "megatron")


def world_size(task: str, cfg: DictConfig) -> int:
    if task in DISTRIBUTED_TASKS:
        return cfg.parallel.tp * cfg.parallel.pp * cfg.parallel.dp
    if is_distributed(task, cfg):
        return cfg.parallel.tp
    return 1


def task_function(task: str) -> Callable[[DictConfig], object]:
    """The function of a named task, or of a ``module:function`` spec (tests, user tasks)."""
    if task not in TASKS and ":" not in task:
        raise KeyError(f"unknown task {task!r}; known: {', '.join(TASKS)} (or module:function)")
    module, func = TASKS.get(task, task).split(":")
    return getattr(importlib.import_module(module), func)
