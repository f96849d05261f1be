"""Megatron ``dist_checkpointing`` checkpoints of model (+ optimizer) state, any TP/PP layout.

A checkpoint directory holds megatron's layout-agnostic sharded files plus
``cj2_checkpoint.json`` (format version, model architecture, the layout and dtype it was saved
with, and the caller's ``extra`` JSON). It is written to a staging directory and renamed into
place, so a killed job never leaves a half-written checkpoint under the final name. Loading at
another TP/PP layout reshards; the optimizer state uses megatron's ``fully_reshardable`` format
so it reshards too.

Import-light (no torch at import): the converter's launcher reads checkpoint metadata from here.
Callers' scripts must have an ``if __name__ == "__main__":`` guard: the save starts a spawn
``multiprocessing`` Manager that re-imports ``__main__``.
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
SHARDING_METADATA = {"distrib_optim_sharding_type": "fully_reshardable"}


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


def _sharded_state(model, optimizer, is_loading: bool) -> dict[str, Any]:
    # Fresh dicts: megatron caches this layout's process groups in the metadata it is given.
    state = {"model": unwrap(model).sharded_state_dict(metadata=dict(SHARDING_METADATA))}
    if optimizer is not None:
        from cj2.cpu_shims import cuda_literals_to_cpu

        with cuda_literals_to_cpu():
            state["optimizer"] = optimizer.sharded_state_dict(state["model"], is_loading=is_loading, metadata=dict(SHARDING_METADATA))
    return state


def _shared_dir_barrier() -> None:
    import torch.distributed as dist

    dist.barrier()


def save_checkpoint(ckpt_dir, model, optimizer=None, extra: dict[str, Any] | None = None, *, model_cfg=None) -> Path:
    """Save model (and optimizer) state from every rank; returns the final directory.

    ``extra`` (JSON-serialisable: step, data position, ...) is stored in the metadata file and
    returned by :func:`load_checkpoint`. ``model_cfg`` names the architecture in the metadata;
    without it the architecture is read off the model.
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
    dist_checkpointing.save(_sharded_state(model, optimizer, is_loading=False), str(staging))
    _shared_dir_barrier()
    if dist.get_rank() == 0:
        inner = unwrap(model)
        architecture = model_config_dict(model_cfg) if model_cfg is not None else model_config_of(inner)
        meta = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "model": architecture,
            "layout": {"tp": parallel_state.get_tensor_model_parallel_world_size(), "pp": parallel_state.get_pipeline_model_parallel_world_size(), "dp": parallel_state.get_data_parallel_world_size()},
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
    if optimizer is not None:
        _ensure_adam_state(optimizer)
    state = dist_checkpointing.load(_sharded_state(model, optimizer, is_loading=True), str(ckpt_dir))
    unwrap(model).load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
        _unshare_adam_steps(optimizer)
    return meta.get("extra", {})


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
