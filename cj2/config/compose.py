"""Composing a config outside ``@hydra.main`` (tests, jobs) and freezing one for a job."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


def compose(overrides: Sequence[str] = (), config_name: str = "config") -> DictConfig:
    """Compose ``conf/config.yaml`` with Hydra overrides, exactly as the launchers do."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from cj2.config import store  # noqa: F401

    with initialize_config_dir(config_dir=str(CONF_DIR), version_base=None):
        cfg = hydra_compose(config_name=config_name, overrides=list(overrides))
    return cfg


def finalize(cfg: DictConfig) -> DictConfig:
    """Fix the run dir and resolve every interpolation, so a job gets a plain, frozen config.

    Inside a Hydra multirun each job's run dir is its own sweep sub-directory; a single run
    keeps ``run_dir`` (not time-stamped), so a rerun or a requeued job finds its state again.
    """
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        hc = HydraConfig.get() if HydraConfig.initialized() else None
        if hc is not None and hc.mode == RunMode.MULTIRUN:
            cfg.run_dir = hc.runtime.output_dir
    except ValueError:
        pass
    OmegaConf.resolve(cfg)
    OmegaConf.set_readonly(cfg, True)
    return cfg
