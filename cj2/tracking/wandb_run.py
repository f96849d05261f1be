"""Weights & Biases for training runs: online, offline (real run files, ``wandb sync`` later) or
disabled; only global rank 0 talks to W&B.

The run id is created once and kept in ``<run_dir>/wandb_id``, so a resumed or requeued job
continues the same W&B run instead of starting a duplicate. The config is logged at start
(not at finish), with every secret-looking value redacted.
"""

from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

from cj2.tracking.run_record import plain_config
from cj2.utils.atomic import atomic_write_text

ID_FILE = "wandb_id"


def run_id(run_dir: Path) -> str:
    path = run_dir / ID_FILE
    if path.is_file():
        return path.read_text().strip()
    alphabet = string.ascii_lowercase + string.digits  # W&B's run id alphabet
    new_id = "".join(secrets.choice(alphabet) for _ in range(8))
    atomic_write_text(path, new_id)
    return new_id


class Tracker:
    """Rank 0's W&B run, or a no-op on other ranks and with ``tracking.mode=disabled``."""

    def __init__(self, run=None):
        self._run = run

    @classmethod
    def start(cls, cfg, rank: int) -> Tracker:
        if rank != 0 or cfg.tracking.mode == "disabled":
            return cls()
        import wandb

        run_dir = Path(cfg.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        run = wandb.init(
            project=cfg.tracking.project,
            entity=cfg.tracking.entity,
            group=cfg.tracking.group,
            tags=list(cfg.tracking.tags),
            name=cfg.run_name,
            id=run_id(run_dir),
            resume="allow",
            mode=cfg.tracking.mode,
            dir=str(run_dir),
            config=plain_config(cfg),
            # No stdout capture: the console may echo environment-derived text.
            settings=wandb.Settings(console="off", x_disable_stats=True, silent=True),
        )
        return cls(run)

    @property
    def id(self) -> str | None:
        return self._run.id if self._run else None

    @property
    def files_dir(self) -> str | None:
        return os.path.dirname(self._run.dir) if self._run else None

    def log(self, metrics: dict[str, float], step: int) -> None:
        if self._run:
            self._run.log(metrics, step=step)

    def summary(self, values: dict[str, object]) -> None:
        if self._run:
            self._run.summary.update(values)

    def finish(self) -> None:
        if self._run:
            self._run.finish()
