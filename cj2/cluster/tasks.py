"""The jobs cj2 can run, each a function ``run(cfg)`` imported only inside the job."""

from __future__ import annotations

import importlib
from typing import Callable

from omegaconf import DictConfig

TASKS = {
    "train": "cj2.train.job:run",
    "sample": "cj2.sample.job:run",
    "eval": "cj2.eval.job:run",
    "judge": "cj2.eval.judge:run",
    "build_data": "cj2.data.build:run",
    "convert": "cj2.models.convert:run",
}

# Tasks whose world size is the parallel layout (one process per GPU / CPU rank).
DISTRIBUTED_TASKS = ("train",)


def task_function(task: str) -> Callable[[DictConfig], object]:
    if task not in TASKS:
        raise KeyError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
    module, func = TASKS[task].split(":")
    return getattr(importlib.import_module(module), func)
