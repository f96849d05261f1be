"""``launch/export_checkpoint.py`` lands here: a run's newest checkpoint, re-saved with its optimizer
state portable, as the first checkpoint of another run dir.

Training saves optimizer state DP-sharded (cj2.models.checkpoint): no rank ever holds more than
its own shard, and a resume may change DP but not TP/PP. To continue at another TP/PP, export once
at the checkpoint's own layout (the run's own options), then train with ``run_dir`` = the export
dir at the new layout. The export gathers one DP rank at a time, so it is the only step that
needs the host memory of a whole copy of the optimizer state.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from cj2.models.checkpoint import PORTABLE, CheckpointError
from cj2.train.checkpoint import Checkpoints
from cj2.train.job import build_training_model, rank_console, setup_parallel, training_dtype
from cj2.train.optim import build_optimizer


def run(cfg: DictConfig) -> str:
    env = setup_parallel(cfg)
    console = rank_console(env.rank)
    source = Checkpoints(Path(cfg.run_dir) / "checkpoints", cfg.train.keep_checkpoints)
    params_dtype = training_dtype(cfg, console)
    # The checkpoint overwrites every weight: no HF weights to read first.
    blank = OmegaConf.merge(cfg, {"model": {"hf_path": None}})
    model = build_training_model(blank, params_dtype)
    optimizer = build_optimizer(model, cfg.train, cfg.parallel, params_dtype)
    state = source.load_latest(model.module, optimizer)
    if state is None:
        raise CheckpointError(f"{source.root} holds no complete checkpoint to export")
    target = Checkpoints(Path(cfg.train.portable_export_dir) / "checkpoints", keep=1)
    final = target.save(state["step"], model.module, optimizer, state, optimizer_format=PORTABLE)
    console.print(f"exported step {state['step']} of {source.root} to {final} (optimizer state portable: resume it at any TP/PP "
                  f"with run_dir={cfg.train.portable_export_dir})")
    return str(final)
