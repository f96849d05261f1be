"""Hydra multirun on SLURM: checks every sweep point before hydra-submitit-launcher submits.

A Hydra callback (``conf/hydra/callbacks/cj2_sweep.yaml``, selected with ``cluster=slurm*``) that
runs on the login node before the array is submitted: it composes and validates every point
(a bad value in point 17 fails in seconds, before any job runs), and hands the launcher the
options its typed config cannot interpolate (``cluster.setup``, ``cluster.additional``; no
``--gpus-per-node`` on CPU nodes).
"""

from __future__ import annotations

import sys
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict

from cj2.cluster.slurm import memory_options
from cj2.cluster.tasks import TASKS


def sweep_points(config: DictConfig) -> list[list[str]]:
    """The override list of every point, expanded as Hydra's basic sweeper does."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    arguments = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    arguments += list(OmegaConf.to_container(config.hydra.overrides.task, resolve=False))
    parsed = OverridesParser.create().parse_overrides(arguments)
    return [point for batch in BasicSweeper.split_arguments(parsed, None) for point in batch]


class SweepChecks(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from hydra.core.global_hydra import GlobalHydra

        from cj2.config import ConfigError, validate

        loader = GlobalHydra.instance().config_loader()
        task = str(config.hydra.job.name)  # launch/<task>.py
        problems, first = [], None
        for idx, overrides in enumerate(sweep_points(config)):
            point = loader.load_sweep_config(config, overrides)
            first = first or point
            try:
                validate(point, stage="run" if task in TASKS else "compose", task=task if task in TASKS else "train")
            except ConfigError as e:
                problems.append(f"sweep point #{idx} ({' '.join(overrides)}): {e}")
        if problems:
            print("cj2: nothing submitted:\n" + "\n".join(problems), file=sys.stderr)
            raise SystemExit(2)
        cluster = first.cluster
        with open_dict(config.hydra.launcher):
            launcher = config.hydra.launcher
            launcher.setup = OmegaConf.to_container(cluster.setup, resolve=True)
            launcher.mem_gb, mem_options = memory_options(cluster.mem_gb)
            launcher.additional_parameters = {**mem_options, **OmegaConf.to_container(cluster.additional, resolve=True)}
            launcher.gpus_per_node = cluster.gpus_per_node or None
