"""Hugging Face safetensors checkpoints in and out of a (TP/PP-sharded) Megatron ``GPTModel``.

Import streams: each rank opens one shard file at a time and reads only the rows its own
parameters need (safetensors slices), so no rank ever holds the full model. Export gathers one
parameter at a time over the TP group; the TP-rank-0 of each pipeline stage writes its stage's
tensors as safetensors parts, and global rank 0 names the parts, writes the index, config,
generation config and tokenizer, then renames the staged directory into place.
Only safetensors is read or written: no pickle.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import torch

from cj2.models import hf_mapping
from cj2.models.checkpoint import dtype_name, unwrap
from cj2.models.hf_config import check_hf_config, hf_config_dict
from cj2.utils.atomic import atomic_write_text, replace_dir

INDEX_FILE = "model.safetensors.index.json"
SINGLE_FILE = "model.safetensors"
FLOAT_DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16}
DEFAULT_SHARD_BYTES = 4 * 1024**3


class CheckpointMismatch(ValueError):
    """A checkpoint whose tensors do not fit the model config (raised before any weight loads)."""


@dataclass
class TensorInfo:
    file: str
    shape: tuple[int, ...]
    dtype: str


@dataclass
class HFCheckpoint:
    """The tensor table of a HF safetensors directory, from file headers only."""

    root: Path
    tensors: dict[str, TensorInfo]
    _open: OrderedDict[str, object] = field(default_factory=OrderedDict, repr=False)

    @classmethod
    def scan(cls, root) -> HFCheckpoint:
        from safetensors import safe_open

        root = Path(root)
        index = root / INDEX_FILE
        if index.is_file():
            try:
                weight_map = json.loads(index.read_text())["weight_map"]
            except (json.JSONDecodeError, KeyError) as e:
                raise CheckpointMismatch(f"{index}: not a safetensors index (needs a 'weight_map' object): {e}") from e
            files = sorted(set(weight_map.values()))
        elif (root / SINGLE_FILE).is_file():
            files = [SINGLE_FILE]
        else:
            pickled = sorted(p.name for p in root.glob("*.bin")) + sorted(p.name for p in root.glob("*.pt"))
            hint = f" (found {', '.join(pickled)}: pickle checkpoints are not loaded; convert them to safetensors first)" if pickled else ""
            raise CheckpointMismatch(f"{root}: no {SINGLE_FILE} or {INDEX_FILE}{hint}")
        tensors = {}
        for name in files:
            path = root / name
            if not path.is_file():
                raise CheckpointMismatch(f"{index}: lists {name}, which does not exist")
            with safe_open(str(path), "pt") as f:
                for key in f.keys():
                    s = f.get_slice(key)
                    tensors[key] = TensorInfo(name, tuple(s.get_shape()), s.get_dtype())
        return cls(root, tensors)

    def read_rows(self, name: str, start: int, end: int) -> torch.Tensor:
        """Rows ``start:end`` of a tensor; keeps at most two shard files open (streaming)."""
        from safetensors import safe_open

        file = self.tensors[name].file
        if file not in self._open:
            if len(self._open) >= 2:
                self._open.popitem(last=False)[1].__exit__(None, None, None)
            handle = safe_open(str(self.root / file), "pt")
            self._open[file] = handle.__enter__()
        self._open.move_to_end(file)
        return self._open[file].get_slice(name)[start:end]

    def close(self) -> None:
        while self._open:
            self._open.popitem()[1].__exit__(None, None, None)


def required_hf_tensors(model_cfg) -> list[str]:
    names = ["model.embed_tokens.weight", "model.norm.weight"]
    if not model_cfg.tie_word_embeddings:
        names.append("lm_head.weight")
    for i in range(model_cfg.num_layers):
        for _, _, hf in hf_mapping.LAYER_PARAMS:
            names += [f"model.layers.{i}.{s}" for s in hf if model_cfg.qkv_bias or not s.endswith(".bias")]
    return list(dict.fromkeys(names))


def check_hf_checkpoint(hf_dir, model_cfg) -> HFCheckpoint:
    """Config, tensor names, shapes and dtypes of a HF checkpoint against ``model_cfg``.

    Every problem is listed at once, naming the file and tensor, before any weight is read.
    """
    check_hf_config(hf_dir, model_cfg)
    ckpt = HFCheckpoint.scan(hf_dir)
    problems = []
    for name in required_hf_tensors(model_cfg):
        info = ckpt.tensors.get(name)
        if info is None:
            problems.append(f"{name}: missing")
            continue
        expected = hf_mapping.expected_hf_shape(name, model_cfg)
        if info.shape != expected:
            problems.append(f"{info.file}: {name} has shape {list(info.shape)}, the config needs {list(expected)}")
        if info.dtype not in FLOAT_DTYPES:
            problems.append(f"{info.file}: {name} has dtype {info.dtype}; only {', '.join(FLOAT_DTYPES)} weights can be loaded")
    if problems:
        shown = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise CheckpointMismatch(f"{hf_dir}: checkpoint does not match model config {model_cfg.name!r} ({len(problems)} problem(s)):\n{shown}{more}")
    return ckpt


def _tp():
    from megatron.core import parallel_state

    return parallel_state.get_tensor_model_parallel_rank(), parallel_state.get_tensor_model_parallel_world_size()


def _progress(iterable, total: int, description: str):
    import torch.distributed as dist
    from tqdm import tqdm

    quiet = dist.is_initialized() and dist.get_rank() != 0
    return tqdm(iterable, total=total, desc=description, unit="tensor", disable=quiet or not os.isatty(2), leave=False)


@torch.no_grad()
def load_hf_weights(model, hf_dir, model_cfg) -> int:
    """Fill this rank's parameters from a HF checkpoint; returns the bytes read on this rank.

    Parameters are visited grouped by the shard file that holds them, so each file is opened
    once and only this rank's rows are read.
    """
    ckpt = check_hf_checkpoint(hf_dir, model_cfg)
    shape = hf_mapping.AttentionShape.of(model_cfg)
    tp_rank, tp_size = _tp()
    model = unwrap(model)
    params = dict(model.named_parameters())
    mappings = sorted(hf_mapping.model_mappings(model), key=lambda m: ckpt.tensors[m.hf[0]].file)
    hf_shapes = {name: info.shape for name, info in ckpt.tensors.items()}
    read = 0
    try:
        for mapping in _progress(mappings, len(mappings), f"import {Path(hf_dir).name}"):
            shard = hf_mapping.shard_for_rank(mapping, ckpt.read_rows, hf_shapes, shape, tp_rank, tp_size)
            param = params[mapping.megatron]
            if shard.shape != param.shape:
                raise CheckpointMismatch(f"{hf_dir}: {mapping.hf} give {list(shard.shape)} for {mapping.megatron}, the model has {list(param.shape)}")
            param.copy_(shard.to(param.dtype))
            read += shard.numel() * shard.element_size()
    finally:
        ckpt.close()
    return read


@torch.no_grad()
def verify_against_hf(model, hf_dir, model_cfg) -> list[str]:
    """Names of this rank's parameters that differ from the HF checkpoint (bit for bit)."""
    ckpt = HFCheckpoint.scan(hf_dir)
    shape = hf_mapping.AttentionShape.of(model_cfg)
    tp_rank, tp_size = _tp()
    model = unwrap(model)
    params = dict(model.named_parameters())
    hf_shapes = {name: info.shape for name, info in ckpt.tensors.items()}
    different = []
    try:
        for mapping in hf_mapping.model_mappings(model):
            param = params[mapping.megatron]
            shard = hf_mapping.shard_for_rank(mapping, ckpt.read_rows, hf_shapes, shape, tp_rank, tp_size)
            if shard.shape != param.shape or not torch.equal(shard.to(param.dtype), param):
                different.append(mapping.megatron)
    finally:
        ckpt.close()
    return different


def _gather_tp(tensor: torch.Tensor, tp_size: int) -> list[torch.Tensor]:
    import torch.distributed as dist
    from megatron.core import parallel_state

    if tp_size == 1:
        return [tensor]
    shards = [torch.empty_like(tensor) for _ in range(tp_size)]
    dist.all_gather(shards, tensor.contiguous(), group=parallel_state.get_tensor_model_parallel_group())
    return shards


def _staging_dir(out_dir: Path) -> Path:
    return out_dir.parent / f".{out_dir.name}.partial"


@torch.no_grad()
def export_hf(model, out_dir, model_cfg, tokenizer_source: str | None = None, *, dtype: torch.dtype | None = None, source_dir: str | None = None, max_shard_bytes: int = DEFAULT_SHARD_BYTES) -> dict[str, object]:
    """Write this (sharded) model as a HF checkpoint directory; every rank must call it.

    The directory appears atomically (staged, then renamed) with safetensors shards and their
    index, ``config.json``, ``generation_config.json`` (copied from ``source_dir``, default
    ``model_cfg.hf_path``, when it has one) and the tokenizer of ``tokenizer_source`` (a HF
    directory or a bundled name like ``"qwen2.5"``; None writes none). ``dtype`` defaults to
    the parameters' dtype. Returns a summary (files, tensors, bytes) on every rank.
    """
    import torch.distributed as dist
    from megatron.core import parallel_state
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    if tokenizer_source:
        check_tokenizer_fits(tokenizer_source, model_cfg.vocab_size)  # before any work
    staging = _staging_dir(out_dir)
    rank = dist.get_rank()
    if rank == 0:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    dist.barrier()
    source_dir = source_dir if source_dir is not None else getattr(model_cfg, "hf_path", None)

    dtype = dtype or next(unwrap(model).parameters()).dtype
    shape = hf_mapping.AttentionShape.of(model_cfg)
    _, tp_size = _tp()
    writer = parallel_state.get_tensor_model_parallel_rank() == 0 and parallel_state.get_data_parallel_rank() == 0
    stage = parallel_state.get_pipeline_model_parallel_rank()
    model = unwrap(model)
    params = dict(model.named_parameters())
    mappings = [m for m in hf_mapping.model_mappings(model) if not (m.megatron == "output_layer.weight" and model_cfg.tie_word_embeddings)]

    parts: list[tuple[int, int, list[str], int]] = []  # (stage, part, names, bytes)
    pending: dict[str, torch.Tensor] = {}
    pending_bytes = 0

    def flush():
        nonlocal pending, pending_bytes
        if pending:
            part_name = f"stage{stage:03d}-part{len(parts):05d}.safetensors"
            save_file(pending, str(staging / part_name), metadata={"format": "pt"})
            parts.append((stage, len(parts), list(pending), pending_bytes))
        pending, pending_bytes = {}, 0

    for mapping in _progress(mappings, len(mappings), f"export {out_dir.name}"):
        shards = _gather_tp(params[mapping.megatron].detach(), tp_size)
        if not writer:
            continue
        for name, tensor in hf_mapping.merge_shards(mapping, shards, shape).items():
            tensor = tensor.to(dtype).contiguous()
            if pending and pending_bytes + tensor.numel() * tensor.element_size() > max_shard_bytes:
                flush()
            pending[name] = tensor
            pending_bytes += tensor.numel() * tensor.element_size()
    if writer and model_cfg.frozen_layers:
        # The frozen bottom never changed: its layers come from the checkpoint training started
        # from, so the export is a whole model that transformers (or launch/eval.py) loads alone.
        for name, tensor in frozen_bottom_tensors(source_dir, model_cfg.frozen_layers):
            tensor = tensor.to(dtype).contiguous()
            if pending and pending_bytes + tensor.numel() * tensor.element_size() > max_shard_bytes:
                flush()
            pending[name] = tensor
            pending_bytes += tensor.numel() * tensor.element_size()
    if writer:
        flush()

    all_parts: list[list[tuple[int, int, list[str], int]]] = [None] * dist.get_world_size()  # type: ignore[list-item]
    dist.all_gather_object(all_parts, parts)
    if rank == 0:
        ordered = sorted({(s, p, tuple(n), b) for rank_parts in all_parts for s, p, n, b in rank_parts})
        _finish_export(staging, out_dir, ordered, model_cfg, dtype, tokenizer_source, source_dir)
    dist.barrier()
    total_bytes = sum(b for rank_parts in all_parts for *_, b in rank_parts)
    tensors = sum(len(n) for rank_parts in all_parts for _, _, n, _ in rank_parts)
    summary = {"dir": str(out_dir), "tensors": tensors, "bytes": total_bytes, "files": sorted(p.name for p in out_dir.iterdir())}
    return summary


def frozen_bottom_tensors(source_dir: str | None, frozen_layers: int):
    """``(name, tensor)`` of the checkpoint's decoder layers below ``frozen_layers``."""
    if not source_dir:
        raise CheckpointMismatch("exporting a model with a frozen bottom needs the checkpoint it started from (model.hf_path)")
    ckpt = HFCheckpoint.scan(source_dir)
    try:
        for name in sorted(n for n in ckpt.tensors if (m := re.match(r"model\.layers\.(\d+)\.", n)) and int(m.group(1)) < frozen_layers):
            yield name, ckpt.read_rows(name, 0, ckpt.tensors[name].shape[0])
    finally:
        ckpt.close()


def _finish_export(staging: Path, out_dir: Path, parts, model_cfg, dtype, tokenizer_source, source_dir) -> None:
    """Rank 0: name the shards, write index/config/generation config/tokenizer, move into place."""
    weight_map, total = {}, 0
    names = [SINGLE_FILE] if len(parts) == 1 else [f"model-{i + 1:05d}-of-{len(parts):05d}.safetensors" for i in range(len(parts))]
    for (stage, part, tensor_names, nbytes), final in zip(parts, names, strict=True):
        os.replace(staging / f"stage{stage:03d}-part{part:05d}.safetensors", staging / final)
        weight_map.update({t: final for t in tensor_names})
        total += nbytes
    if len(parts) > 1:
        index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
        atomic_write_text(staging / INDEX_FILE, json.dumps(index, indent=2))
    special = _write_tokenizer(staging, tokenizer_source) if tokenizer_source else {}
    config = hf_config_dict(model_cfg, dtype_name(dtype), special)
    atomic_write_text(staging / "config.json", json.dumps(config, indent=2))
    _write_generation_config(staging, source_dir, special)
    replace_dir(staging, out_dir)


def check_tokenizer_fits(tokenizer_source: str, vocab_size: int) -> None:
    from cj2.data.packed.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(str(tokenizer_source))
    if len(tokenizer) > vocab_size:
        raise CheckpointMismatch(f"tokenizer {tokenizer_source!r} has {len(tokenizer)} tokens but model.vocab_size is {vocab_size}: ids past the embedding would crash; set model.tokenizer=DIR to this model's own tokenizer")


def _write_tokenizer(staging: Path, tokenizer_source: str) -> dict[str, int]:
    from cj2.data.packed.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(str(tokenizer_source))
    tokenizer.save_pretrained(str(staging))
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    bos = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else pad
    return {k: v for k, v in {"bos_token_id": bos, "eos_token_id": eos, "pad_token_id": pad}.items() if v is not None}


def _write_generation_config(staging: Path, source_dir: str | None, special: dict[str, int]) -> None:
    """The source checkpoint's generation config when there is one, else the special tokens."""
    source = Path(source_dir) / "generation_config.json" if source_dir else None
    if source is not None and source.is_file():
        shutil.copyfile(source, staging / "generation_config.json")
        return
    eos = [t for t in dict.fromkeys([special.get("eos_token_id"), special.get("pad_token_id")]) if t is not None]
    generation = {"bos_token_id": special.get("bos_token_id"), "eos_token_id": eos if len(eos) > 1 else (eos[0] if eos else None), "pad_token_id": special.get("pad_token_id")}
    atomic_write_text(staging / "generation_config.json", json.dumps({k: v for k, v in generation.items() if v is not None}, indent=2))
