"""A job's config as plain data: what crosses a process or SLURM boundary (field-notes 11).

Jobs receive a resolved, plain dict (no interpolations, no Hydra objects holding locks that
fail to pickle, hydra#3038) and rebuild a read-only DictConfig from it inside the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf


def to_plain(cfg: DictConfig) -> dict[str, Any]:
    return OmegaConf.to_container(cfg, resolve=True)


def from_plain(plain: dict[str, Any]) -> DictConfig:
    cfg = OmegaConf.create(plain)
    OmegaConf.set_readonly(cfg, True)
    return cfg


def save(cfg: DictConfig, path: Path) -> Path:
    from cj2.utils.atomic import atomic_write_text

    atomic_write_text(path, OmegaConf.to_yaml(OmegaConf.create(to_plain(cfg))))
    return path


def load(path: Path) -> DictConfig:
    return from_plain(OmegaConf.to_container(OmegaConf.load(path)))
