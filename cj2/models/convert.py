"""The ``convert`` task: HF directory <-> cj2 (megatron dist_checkpointing) checkpoint.

The direction follows from what ``src`` holds. The conversion runs as ``parallel.tp x
parallel.pp`` CPU processes (gloo), each holding only its shard; HF tensors stream shard file
by shard file. With ``verify=true`` the written result is read back and compared, tensor by
tensor and bit for bit, with the source.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from cj2.models.checkpoint import META_FILE, is_checkpoint, read_meta
from cj2.models.hf_config import model_config_from_hf

HF_TO_CJ2 = "hf->cj2"
CJ2_TO_HF = "cj2->hf"
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json")


class ConvertError(ValueError):
    pass


def direction_of(src) -> str:
    src = Path(src)
    if not src.is_dir():
        raise ConvertError(f"src={src}: no such directory")
    if is_checkpoint(src):
        return CJ2_TO_HF
    if (src / "config.json").is_file():
        return HF_TO_CJ2
    raise ConvertError(f"src={src}: neither a HF checkpoint (config.json + *.safetensors) nor a cj2 checkpoint ({META_FILE})")


def source_model_config(src) -> dict[str, Any]:
    """The architecture stored in ``src`` as ModelConfig fields (json only, no torch)."""
    if direction_of(src) == CJ2_TO_HF:
        return dict(read_meta(src)["model"])
    model_cfg = model_config_from_hf(src, name=Path(src).name)
    return {k: getattr(model_cfg, k) for k in model_cfg.__dataclass_fields__}


def with_source_model(cfg: DictConfig) -> DictConfig:
    """``cfg`` with ``model`` replaced by src's architecture, so validation checks the real model."""
    architecture = source_model_config(cfg.src)
    keep = {"tokenizer": cfg.model.tokenizer, "hf_path": str(cfg.src) if direction_of(cfg.src) == HF_TO_CJ2 else None}
    merged = OmegaConf.merge(cfg.model, {**architecture, **keep, "name": architecture.get("name") or Path(cfg.src).name})
    cfg.model = merged
    # Conversion reads no data; keep the (validated) data settings consistent with the model.
    cfg.data.seq_length = min(cfg.data.seq_length, merged.max_position_embeddings)
    return cfg


def _has_tokenizer(path) -> bool:
    return path is not None and any((Path(path) / f).is_file() for f in TOKENIZER_FILES)


def _init_process_group(cfg) -> int:
    """Join (or, alone, create) a gloo group: conversion is CPU work on any machine."""
    import datetime

    import torch.distributed as dist

    from cj2.cluster.env import dist_env
    from cj2.cluster.local import free_port

    if not dist.is_initialized():
        env = dist_env()
        port = env.master_port if env.world_size > 1 else free_port()
        os.environ.update(MASTER_ADDR=env.master_addr, MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=env.rank, world_size=env.world_size, timeout=datetime.timedelta(seconds=cfg.parallel.collective_timeout_s))
    return dist.get_rank()


def _say(rank: int, message: str) -> None:
    if rank == 0:
        print(f"cj2 convert: {message}", flush=True)


def _checkpoint_dtype(src, direction: str):
    import torch

    from cj2.models.hf_io import FLOAT_DTYPES, HFCheckpoint

    if direction == CJ2_TO_HF:
        return getattr(torch, read_meta(src)["params_dtype"])
    embed = HFCheckpoint.scan(src).tensors.get("model.embed_tokens.weight")
    return FLOAT_DTYPES.get(embed.dtype, torch.float32) if embed else torch.float32


def _build(model_cfg, parallel_cfg, dtype):
    from cj2.models.build import build_model

    return build_model(model_cfg, parallel_cfg, params_dtype=dtype, initialize=False)


def _count_differences(different) -> int:
    import torch
    import torch.distributed as dist

    count = torch.tensor([len(different)])
    dist.all_reduce(count)
    return int(count.item())


def run(cfg: DictConfig) -> dict[str, Any]:
    """Convert ``cfg.src`` into ``cfg.dst`` at the layout ``cfg.parallel``; returns a summary."""
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # before torch: CPU ranks, gloo
    world = cfg.parallel.tp * cfg.parallel.pp
    if world > 1 and "RANK" not in os.environ:
        from cj2.cluster.local import run_processes

        return run_processes("convert", cfg, world)

    import torch.distributed as dist
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed

    from cj2 import cpu_shims
    from cj2.models.checkpoint import load_checkpoint, save_checkpoint
    from cj2.models.hf_io import check_hf_checkpoint, export_hf, load_hf_weights, verify_against_hf

    src, dst = Path(cfg.src), Path(cfg.dst)
    if src.resolve() == dst.resolve():
        raise ConvertError(f"dst={dst} is src: write the conversion somewhere else")
    direction = direction_of(src)
    model_cfg = cfg.model
    rank = _init_process_group(cfg)
    cpu_shims.apply()
    parallel_state.initialize_model_parallel(tensor_model_parallel_size=cfg.parallel.tp, pipeline_model_parallel_size=cfg.parallel.pp)
    model_parallel_cuda_manual_seed(cfg.seed)
    dtype = _checkpoint_dtype(src, direction)
    _say(rank, f"{direction} {src} -> {dst} ({model_cfg.name}: {model_cfg.num_layers} layers, hidden {model_cfg.hidden_size}, {str(dtype).replace('torch.', '')}) at tp={cfg.parallel.tp} pp={cfg.parallel.pp}")
    start = time.perf_counter()
    model = _build(model_cfg, cfg.parallel, dtype)
    if direction == HF_TO_CJ2:
        load_hf_weights(model, src, model_cfg)
        tokenizer = str(src) if _has_tokenizer(src) else None
        save_checkpoint(dst, model, extra={"converted_from": str(src), "tokenizer": tokenizer}, model_cfg=model_cfg)
        written = sorted(p.name for p in dst.iterdir())
    else:
        extra = load_checkpoint(src, model)
        tokenizer = extra.get("tokenizer") or cfg.model.tokenizer
        source_dir = extra.get("converted_from")
        summary = export_hf(model, dst, model_cfg, tokenizer_source=tokenizer, source_dir=source_dir if source_dir and Path(source_dir).is_dir() else None)
        written = summary["files"]
    seconds = time.perf_counter() - start
    _say(rank, f"wrote {dst} in {seconds:.1f}s: {', '.join(written)}")

    verified = None
    if cfg.verify:
        if direction == HF_TO_CJ2:
            del model
            gc.collect()
            model = _build(model_cfg, cfg.parallel, dtype)
            load_checkpoint(dst, model)
            different = verify_against_hf(model, src, model_cfg)
        else:
            check_hf_checkpoint(dst, model_cfg)
            different = verify_against_hf(model, dst, model_cfg)
        mismatched = _count_differences(different)
        if mismatched:
            raise ConvertError(f"verification failed: {mismatched} parameter shard(s) of {dst} differ from {src} (first on rank {rank}: {different[:3]})")
        verified = True
        _say(rank, f"verified: every parameter of {dst} equals {src} bit for bit")
    parallel_state.destroy_model_parallel()
    dist.barrier()
    return {"direction": direction, "src": str(src), "dst": str(dst), "files": written, "seconds": round(seconds, 3), "verified": verified}
