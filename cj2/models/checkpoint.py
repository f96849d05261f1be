"""Megatron ``dist_checkpointing`` checkpoints of model (+ optimizer) state, any TP/PP layout.

A checkpoint directory holds megatron's layout-agnostic sharded files plus
``cj2_checkpoint.json`` (format version, model architecture, the layout and dtype it was saved
with, and the caller's ``extra`` JSON). It is written to a staging directory and renamed into
place, so a killed job never leaves a half-written checkpoint under the final name. Loading at
another TP/PP layout reshards the model.

The optimizer state is saved DP-sharded (megatron's ``dp_reshardable``, Megatron-LM's default):
every rank writes its own shard in parallel and no rank gathers anyone else's (the
``fully_reshardable`` format gathers the whole DP optimizer state on every rank: ~88 GB of host
memory per rank at 7B). Such state reshards along DP only; :func:`export_portable` re-saves a
checkpoint in the ``fully_reshardable`` format (gathered on one DP rank at a time), which loads
at any layout.

Import-light (no torch at import): the converter's launcher reads checkpoint metadata from here.
Callers' scripts must have an ``if __name__ == "__main__":`` guard: the save starts a spawn
``multiprocessing`` Manager that re-imports ``__main__``. That Manager outlives the save and
ignores SIGUSR2 (:func:`_preemption_proof_results_queue`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from cj2.models.hf_config import config_mismatches, model_config_dict
from cj2.utils.atomic import atomic_write_text, replace_dir

META_FILE = "cj2_checkpoint.json"
FORMAT = "cj2-megatron-dist"
FORMAT_VERSION = 1
DP_SHARDED = "dp_reshardable"
PORTABLE = "fully_reshardable"
# Checkpoints written before the optimizer format was recorded used the portable one.
_DEFAULT_OPTIMIZER_FORMAT = PORTABLE


def _sharding_metadata(optimizer_format: str) -> dict[str, Any]:
    # Fresh dicts: megatron caches this layout's process groups in the metadata it is given.
    metadata: dict[str, Any] = {"distrib_optim_sharding_type": optimizer_format}
    if optimizer_format == PORTABLE:
        metadata["distrib_optim_fully_reshardable_mem_efficient"] = True  # gather on DP rank 0 only
    return metadata


def dtype_name(dtype) -> str:
    """``torch.bfloat16`` -> ``"bfloat16"`` (the spelling of HF's ``torch_dtype``)."""
    return str(dtype).removeprefix("torch.")


class CheckpointError(ValueError):
    """A checkpoint directory that is not a cj2 checkpoint, or not one for this model."""


def unwrap(model):
    """The ``GPTModel`` inside megatron DDP (or Float16Module) wrappers."""
    while hasattr(model, "module"):
        model = model.module
    return model


def model_config_of(model) -> dict[str, Any]:
    """The cj2 ModelConfig fields of a built ``GPTModel`` (so every checkpoint describes itself)."""
    config = model.config
    return {
        "name": "",
        "family": "qwen2" if config.add_qkv_bias else "llama",
        "num_layers": config.num_layers,
        "hidden_size": config.hidden_size,
        "ffn_hidden_size": config.ffn_hidden_size,
        "num_attention_heads": config.num_attention_heads,
        "num_query_groups": config.num_query_groups,
        "vocab_size": model.vocab_size,
        "max_position_embeddings": model.max_sequence_length,
        "rope_theta": float(model.rotary_base),
        "rms_norm_eps": config.layernorm_epsilon,
        "qkv_bias": config.add_qkv_bias,
        "tie_word_embeddings": bool(model.share_embeddings_and_output_weights),
        "init_method_std": config.init_method_std,
    }


def read_meta(ckpt_dir) -> dict[str, Any]:
    path = Path(ckpt_dir) / META_FILE
    if not path.is_file():
        raise CheckpointError(f"{ckpt_dir}: no {META_FILE} (not a cj2 checkpoint directory)")
    try:
        meta = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from e
    if meta.get("format") != FORMAT or meta.get("version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path}: format {meta.get('format')!r} version {meta.get('version')!r}; this cj2 reads {FORMAT!r} up to version {FORMAT_VERSION}")
    return meta


def is_checkpoint(path) -> bool:
    return (Path(path) / META_FILE).is_file()


def _sharded_state(model, optimizer, is_loading: bool, optimizer_format: str = DP_SHARDED) -> dict[str, Any]:
    state = {"model": unwrap(model).sharded_state_dict(metadata=_sharding_metadata(optimizer_format))}
    if optimizer is not None:
        from cj2.cpu_shims import cuda_literals_to_cpu

        with cuda_literals_to_cpu():
            state["optimizer"] = optimizer.sharded_state_dict(state["model"], is_loading=is_loading, metadata=_sharding_metadata(optimizer_format))
    return state


def _layout() -> dict[str, int]:
    from megatron.core import parallel_state

    return {"tp": parallel_state.get_tensor_model_parallel_world_size(), "pp": parallel_state.get_pipeline_model_parallel_world_size(), "dp": parallel_state.get_data_parallel_world_size()}


def _shared_dir_barrier() -> None:
    import torch.distributed as dist

    dist.barrier()


def _preemption_proof_results_queue() -> None:
    """megatron's checkpoint writer reports through a queue served by a Manager process it spawns
    at the first save and keeps (``filesystem_async._results_queue``). SLURM sends its preemption
    and time-limit warning (SIGUSR2) to every process of the job step: with the default action that
    Manager dies, and the save the warning asked for fails (BrokenPipeError). Start it here, ignoring
    SIGUSR2 (the ranks themselves handle it: cj2.cluster.preemption)."""
    import multiprocessing as mp
    import signal
    from multiprocessing.managers import SyncManager

    from megatron.core.dist_checkpointing.strategies import filesystem_async

    if filesystem_async._results_queue is None:
        manager = SyncManager(ctx=mp.get_context("spawn"))
        manager.start(signal.signal, (signal.SIGUSR2, signal.SIG_IGN))
        filesystem_async._results_queue = manager.Queue()


def save_checkpoint(ckpt_dir, model, optimizer=None, extra: dict[str, Any] | None = None, *, model_cfg=None, optimizer_format: str = DP_SHARDED) -> Path:
    """Save model (and optimizer) state from every rank; returns the final directory.

    ``extra`` (JSON-serialisable: step, data position, ...) is stored in the metadata file and
    returned by :func:`load_checkpoint`. ``model_cfg`` names the architecture in the metadata;
    without it the architecture is read off the model. ``optimizer_format``: ``dp_reshardable``
    (parallel, DP-sharded; the default) or ``fully_reshardable`` (portable to any layout).
    """
    import torch.distributed as dist
    from megatron.core import dist_checkpointing, parallel_state

    from cj2 import cpu_shims

    cpu_shims.apply()
    ckpt_dir = Path(ckpt_dir)
    staging = ckpt_dir.parent / f".{ckpt_dir.name}.partial"
    if dist.get_rank() == 0:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    _shared_dir_barrier()
    if optimizer_format not in (DP_SHARDED, PORTABLE):
        raise ValueError(f"optimizer_format={optimizer_format!r}: choose {DP_SHARDED} or {PORTABLE}")
    # Fully parallel: every rank writes its own part (no rank-0 funnel for replicated tensors).
    from megatron.core.dist_checkpointing.strategies.fully_parallel import FullyParallelSaveStrategyWrapper
    from megatron.core.dist_checkpointing.strategies.torch import TorchDistSaveShardedStrategy

    strategy = FullyParallelSaveStrategyWrapper(TorchDistSaveShardedStrategy("torch_dist", 1), parallel_state.get_data_parallel_group(with_context_parallel=True))
    _preemption_proof_results_queue()
    dist_checkpointing.save(_sharded_state(model, optimizer, is_loading=False, optimizer_format=optimizer_format), str(staging), sharded_strategy=strategy)
    _shared_dir_barrier()
    if dist.get_rank() == 0:
        inner = unwrap(model)
        architecture = model_config_dict(model_cfg) if model_cfg is not None else model_config_of(inner)
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": architecture,
            "layout": _layout(),
            "optimizer_format": optimizer_format if optimizer is not None else None,
            "params_dtype": dtype_name(next(inner.parameters()).dtype),
            "has_optimizer": optimizer is not None,
            "extra": extra or {},
        }
        atomic_write_text(staging / META_FILE, json.dumps(meta, indent=2, sort_keys=True))
        replace_dir(staging, ckpt_dir)
    _shared_dir_barrier()
    return ckpt_dir


def check_compatible(meta: dict[str, Any], model, ckpt_dir) -> None:
    """A checkpoint for another architecture fails here, listing every differing field."""
    from types import SimpleNamespace

    saved, ours = SimpleNamespace(**meta["model"]), SimpleNamespace(**model_config_of(unwrap(model)))
    lines = config_mismatches(saved, ours, checkpoint_keys={})
    if lines:
        listing = "\n".join(f"  - {line}" for line in lines)
        raise CheckpointError(f"{ckpt_dir}: checkpoint was saved for another architecture ({len(lines)} mismatch(es)):\n{listing}")


def load_checkpoint(ckpt_dir, model, optimizer=None) -> dict[str, Any]:
    """Load model (and optimizer) state into this rank's shards, at any TP/PP layout.

    Returns the ``extra`` dict given to :func:`save_checkpoint`.
    """
    from megatron.core import dist_checkpointing

    from cj2 import cpu_shims

    cpu_shims.apply()
    meta = read_meta(ckpt_dir)
    check_compatible(meta, model, ckpt_dir)
    if optimizer is not None and not meta.get("has_optimizer"):
        raise CheckpointError(f"{ckpt_dir}: holds no optimizer state (saved for inference/conversion); load the model only")
    optimizer_format = meta.get("optimizer_format") or _DEFAULT_OPTIMIZER_FORMAT
    if optimizer is not None:
        from cj2.models import megatron_fixes

        _check_optimizer_layout(meta, optimizer_format, ckpt_dir)
        megatron_fixes.apply()
        _ensure_adam_state(optimizer)
    state = dist_checkpointing.load(_sharded_state(model, optimizer, is_loading=True, optimizer_format=optimizer_format), str(ckpt_dir))
    unwrap(model).load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
        _unshare_adam_steps(optimizer)
    return meta.get("extra", {})


def _check_optimizer_layout(meta: dict[str, Any], optimizer_format: str, ckpt_dir) -> None:
    saved, ours = meta.get("layout", {}), _layout()
    if optimizer_format == DP_SHARDED and (saved.get("tp"), saved.get("pp")) != (ours["tp"], ours["pp"]):
        raise CheckpointError(
            f"{ckpt_dir}: its optimizer state was saved DP-sharded at TP{saved.get('tp')} x PP{saved.get('pp')} and reshards "
            f"along DP only, but this run is TP{ours['tp']} x PP{ours['pp']}. Resume at TP{saved.get('tp')} x PP{saved.get('pp')} "
            "(any DP), load the model alone (weights reshard at any layout), or export it once at its own layout with "
            "`python launch/export_checkpoint.py <the run's options> train.portable_export_dir=NEW_RUN_DIR` and resume "
            "from run_dir=NEW_RUN_DIR at any layout"
        )


def export_portable(src, dst, model, optimizer) -> Path:
    """Re-save checkpoint ``src`` (loaded into ``model`` / ``optimizer``, built at ``src``'s
    TP/PP layout) with its optimizer state in the ``fully_reshardable`` format at ``dst``.

    Collective. The gather runs one DP rank at a time (megatron's memory-efficient variant).
    """
    extra = load_checkpoint(src, model, optimizer)
    return save_checkpoint(dst, model, optimizer, extra=extra, model_cfg=None, optimizer_format=PORTABLE)


def _torch_adams(optimizer):
    import torch

    for chained in getattr(optimizer, "chained_optimizers", [optimizer]):
        inner = getattr(chained, "optimizer", None)
        if isinstance(inner, torch.optim.Adam | torch.optim.AdamW):
            yield inner


def _unshare_adam_steps(optimizer) -> None:
    """Give every param its own ``step`` tensor after a load.

    Without Apex/TE, ``DistributedOptimizer.load_state_dict`` puts one ``step`` tensor into every
    param's state; torch Adam increments it in place once per param, so the next step's bias
    correction would use a step count of (params + 1) instead of 2.
    """
    for inner in _torch_adams(optimizer):
        for state in inner.state.values():
            if "step" in state:
                state["step"] = state["step"].clone()


def _ensure_adam_state(optimizer) -> None:
    """Give a fresh torch Adam its (zero) state, step included, so megatron can load into it.

    Without Apex/TE, ``DistributedOptimizer.state_dict`` reads ``step`` from every param's
    state; an optimizer that has not stepped yet has none and fails an assertion.
    """
    import torch

    for inner in _torch_adams(optimizer):
        for group in inner.param_groups:
            for param in group["params"]:
                state = inner.state[param]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(param)
                    state["exp_avg_sq"] = torch.zeros_like(param)
