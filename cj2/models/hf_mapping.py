"""Which HF tensors make each Megatron ``GPTModel`` parameter, and how TP splits them.

Pure tensor code, no I/O and no process groups: import (:mod:`cj2.models.hf_io`) reads the
HF tensors a parameter needs and calls :func:`shard_for_rank`; export gathers the TP shards of
a parameter and calls :func:`merge_shards`. Only whole-tensor concatenations and slices are
used, so HF -> Megatron -> HF is bit-identical.

Two layouts are not plain concatenations (the classic conversion bugs):

- ``linear_qkv`` is grouped: for each KV group, its ``heads_per_group * head_dim`` query rows,
  then its ``head_dim`` key rows, then its ``head_dim`` value rows. TP ranks hold whole groups.
- ``linear_fc1`` is ``[gate; up]`` *per rank*: rank r holds ``[gate_r; up_r]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch

# How a parameter is split over TP ranks.
REPLICATED = "replicated"
ROWS = "rows"  # dim 0: embedding, output layer
COLUMNS = "columns"  # dim 1: linear_proj (o_proj), linear_fc2 (down_proj)
QKV = "qkv"
FC1 = "fc1"

# (megatron suffix inside a layer, kind, HF suffixes inside a layer). TE's fused norms are
# aliases of the local spec's separate norms.
LAYER_PARAMS: Sequence[tuple[str, str, tuple[str, ...]]] = (
    ("input_layernorm.weight", REPLICATED, ("input_layernorm.weight",)),
    ("self_attention.linear_qkv.layer_norm_weight", REPLICATED, ("input_layernorm.weight",)),
    ("self_attention.linear_qkv.weight", QKV, ("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight")),
    ("self_attention.linear_qkv.bias", QKV, ("self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias")),
    ("self_attention.linear_proj.weight", COLUMNS, ("self_attn.o_proj.weight",)),
    ("pre_mlp_layernorm.weight", REPLICATED, ("post_attention_layernorm.weight",)),
    ("mlp.linear_fc1.layer_norm_weight", REPLICATED, ("post_attention_layernorm.weight",)),
    ("mlp.linear_fc1.weight", FC1, ("mlp.gate_proj.weight", "mlp.up_proj.weight")),
    ("mlp.linear_fc2.weight", COLUMNS, ("mlp.down_proj.weight",)),
)
LAYER_PARAM_BY_SUFFIX = {suffix: (kind, hf) for suffix, kind, hf in LAYER_PARAMS}
_LAYER_NAME = re.compile(r"^decoder\.layers\.(\d+)\.(.+)$")


@dataclass(frozen=True)
class ParamMapping:
    megatron: str  # name in this rank's GPTModel (local layer index)
    kind: str
    hf: tuple[str, ...]  # HF names, global layer index


@dataclass(frozen=True)
class AttentionShape:
    num_heads: int
    num_groups: int
    head_dim: int

    @property
    def heads_per_group(self) -> int:
        return self.num_heads // self.num_groups

    @classmethod
    def of(cls, model_cfg) -> AttentionShape:
        return cls(model_cfg.num_attention_heads, model_cfg.num_query_groups, model_cfg.hidden_size // model_cfg.num_attention_heads)


def param_mapping(name: str, global_layer: Mapping[int, int], tied: bool) -> ParamMapping | None:
    """The HF source of one Megatron parameter; None for names with no HF counterpart.

    ``global_layer`` maps this pipeline stage's local layer index to the model's layer index.
    With tied embeddings the output layer of a last stage that is not the first is a copy of
    the embedding (megatron keeps them equal across stages), so it maps to ``embed_tokens``.
    """
    if name == "embedding.word_embeddings.weight":
        return ParamMapping(name, ROWS, ("model.embed_tokens.weight",))
    if name == "decoder.final_layernorm.weight":
        return ParamMapping(name, REPLICATED, ("model.norm.weight",))
    if name == "output_layer.weight":
        return ParamMapping(name, ROWS, ("model.embed_tokens.weight" if tied else "lm_head.weight",))
    match = _LAYER_NAME.match(name)
    if match is None:
        return None
    local, suffix = int(match.group(1)), match.group(2)
    if suffix not in LAYER_PARAM_BY_SUFFIX:
        return None
    kind, hf_suffixes = LAYER_PARAM_BY_SUFFIX[suffix]
    prefix = f"model.layers.{global_layer[local]}."
    return ParamMapping(name, kind, tuple(prefix + s for s in hf_suffixes))


def model_mappings(model) -> list[ParamMapping]:
    """Mappings of every parameter of this rank's ``GPTModel``; an unknown one is an error."""
    first = getattr(model, "cj2_first_layer", 0)  # > 0: the layers below are a frozen bottom (cj2.models.build)
    global_layer = {i: first + layer.layer_number - 1 for i, layer in enumerate(model.decoder.layers)}
    tied = bool(model.share_embeddings_and_output_weights)
    mappings = []
    for name, _ in model.named_parameters():
        mapping = param_mapping(name, global_layer, tied)
        if mapping is None:
            raise KeyError(f"megatron parameter {name!r} has no Hugging Face counterpart (unsupported layer spec?)")
        mappings.append(mapping)
    return mappings


# ---- import: full HF tensors -> this rank's shard -------------------------------------------

RowReader = Callable[[str, int, int], torch.Tensor]  # (hf name, first row, end row) -> rows


def qkv_rows(shape: AttentionShape, tp_rank: int, tp_size: int) -> dict[str, tuple[int, int]]:
    """Row ranges of q, k and v that TP rank ``tp_rank`` holds (whole KV groups)."""
    groups = shape.num_groups // tp_size
    g0, g1 = tp_rank * groups, (tp_rank + 1) * groups
    q_rows = shape.heads_per_group * shape.head_dim
    return {"q": (g0 * q_rows, g1 * q_rows), "k": (g0 * shape.head_dim, g1 * shape.head_dim), "v": (g0 * shape.head_dim, g1 * shape.head_dim)}


def interleave_qkv(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, shape: AttentionShape) -> torch.Tensor:
    """``[q_g; k_g; v_g]`` for each KV group g in q/k/v (rows of whole groups, weight or bias)."""
    groups = k.shape[0] // shape.head_dim
    tail = q.shape[1:]
    grouped = torch.cat([q.reshape(groups, shape.heads_per_group * shape.head_dim, *tail), k.reshape(groups, shape.head_dim, *tail), v.reshape(groups, shape.head_dim, *tail)], dim=1)
    return grouped.reshape(-1, *tail)


def split_qkv(qkv: torch.Tensor, shape: AttentionShape) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inverse of :func:`interleave_qkv`."""
    rows_per_group = (shape.heads_per_group + 2) * shape.head_dim
    tail = qkv.shape[1:]
    grouped = qkv.reshape(qkv.shape[0] // rows_per_group, rows_per_group, *tail)
    q, k, v = torch.split(grouped, [shape.heads_per_group * shape.head_dim, shape.head_dim, shape.head_dim], dim=1)
    return q.reshape(-1, *tail), k.reshape(-1, *tail), v.reshape(-1, *tail)


def shard_for_rank(mapping: ParamMapping, read_rows: RowReader, hf_shapes: Mapping[str, Sequence[int]], shape: AttentionShape, tp_rank: int, tp_size: int) -> torch.Tensor:
    """This TP rank's slice of one parameter, reading only the HF rows it needs."""
    kind, hf = mapping.kind, mapping.hf
    if kind == REPLICATED:
        return read_rows(hf[0], 0, hf_shapes[hf[0]][0])
    if kind == ROWS:
        rows = hf_shapes[hf[0]][0] // tp_size
        return read_rows(hf[0], tp_rank * rows, (tp_rank + 1) * rows)
    if kind == COLUMNS:
        full = read_rows(hf[0], 0, hf_shapes[hf[0]][0])
        cols = full.shape[1] // tp_size
        return full[:, tp_rank * cols : (tp_rank + 1) * cols].contiguous()
    if kind == QKV:
        ranges = qkv_rows(shape, tp_rank, tp_size)
        q, k, v = (read_rows(name, *ranges[part]) for name, part in zip(hf, "qkv", strict=True))
        return interleave_qkv(q, k, v, shape)
    if kind == FC1:
        rows = hf_shapes[hf[0]][0] // tp_size
        gate, up = (read_rows(name, tp_rank * rows, (tp_rank + 1) * rows) for name in hf)
        return torch.cat([gate, up], dim=0)
    raise ValueError(f"unknown mapping kind {kind!r}")


def expected_hf_shape(hf_name: str, model_cfg) -> tuple[int, ...]:
    """The shape a HF tensor must have for ``model_cfg`` (checked before anything loads)."""
    h, ffn, vocab = model_cfg.hidden_size, model_cfg.ffn_hidden_size, model_cfg.vocab_size
    kv = model_cfg.num_query_groups * (h // model_cfg.num_attention_heads)
    suffix = hf_name.split(".", 3)[-1] if hf_name.startswith("model.layers.") else hf_name
    shapes = {
        "model.embed_tokens.weight": (vocab, h),
        "lm_head.weight": (vocab, h),
        "model.norm.weight": (h,),
        "input_layernorm.weight": (h,),
        "post_attention_layernorm.weight": (h,),
        "self_attn.q_proj.weight": (h, h),
        "self_attn.q_proj.bias": (h,),
        "self_attn.k_proj.weight": (kv, h),
        "self_attn.k_proj.bias": (kv,),
        "self_attn.v_proj.weight": (kv, h),
        "self_attn.v_proj.bias": (kv,),
        "self_attn.o_proj.weight": (h, h),
        "mlp.gate_proj.weight": (ffn, h),
        "mlp.up_proj.weight": (ffn, h),
        "mlp.down_proj.weight": (h, ffn),
    }
    return shapes[suffix]


# ---- export: TP shards of one parameter -> full HF tensors ----------------------------------


def merge_shards(mapping: ParamMapping, shards: Sequence[torch.Tensor], shape: AttentionShape) -> dict[str, torch.Tensor]:
    """The full HF tensors of one parameter from its shards in TP-rank order."""
    kind, hf = mapping.kind, mapping.hf
    if kind == REPLICATED:
        return {hf[0]: shards[0]}
    if kind == ROWS:
        return {hf[0]: torch.cat(list(shards), dim=0)}
    if kind == COLUMNS:
        return {hf[0]: torch.cat(list(shards), dim=1)}
    if kind == QKV:
        parts = [split_qkv(shard, shape) for shard in shards]
        return {name: torch.cat([p[i] for p in parts], dim=0) for i, name in enumerate(hf)}
    if kind == FC1:
        halves = [torch.chunk(shard, 2, dim=0) for shard in shards]
        return {name: torch.cat([h[i] for h in halves], dim=0) for i, name in enumerate(hf)}
    raise ValueError(f"unknown mapping kind {kind!r}")
