"""Core attention for packed judge rows without an ``[S, S]`` mask.

Training batches are packed (cj2.data.packed.stream.collate): one sequence of many samples whose
boundaries arrive as megatron ``PackedSeqParams`` in the THD layout (``cu_seqlens``). Each
backend attends causally inside each sample and never across:

- ``te``: Transformer Engine's fused attention (megatron's TE layer spec); megatron hands it the
  THD params and TE runs its varlen kernels with a padding-causal mask.
- ``flash_attn``: ``flash_attn_varlen_func`` over the same ``cu_seqlens`` (GPU, when installed).
- ``sdpa``: one causal ``scaled_dot_product_attention`` call per sample. A plain causal call is
  flash-eligible on GPU and uses the CPU flash kernel on CPU; no score matrix larger than one
  sample's is ever made.

The last two plug into the local layer spec (:class:`PackedAttention`). Without packing
(``packed_seq_params=None``: inference, HF parity checks), a ``None`` mask means plain causal
attention and a Megatron bool mask (True = masked out) is still honoured.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from megatron.core.transformer.dot_product_attention import DotProductAttention

import cj2.models.megatron_pin  # noqa: F401  (refuses any megatron-core release but the pinned one)

BACKENDS = ("auto", "te", "flash_attn", "sdpa")


@functools.cache
def transformer_engine_available() -> bool:
    """Whether megatron can build its TE layer spec here (imports TE, as megatron itself does)."""
    if not torch.cuda.is_available():
        return False
    from megatron.core.models.gpt import gpt_layer_specs

    return bool(gpt_layer_specs.HAVE_TE)


@functools.cache
def flash_attn_varlen():
    """``flash_attn_varlen_func`` when flash-attn imports on a GPU machine, else None."""
    if not torch.cuda.is_available():
        return None
    try:
        from flash_attn import flash_attn_varlen_func
    except ImportError:
        return None
    return flash_attn_varlen_func


def resolve_backend(requested: str) -> str:
    """The attention backend a model gets: ``auto`` picks te > flash_attn > sdpa by availability."""
    if requested not in BACKENDS:
        raise ValueError(f"model.attention={requested!r}: choose one of {', '.join(BACKENDS)}")
    if requested == "auto":
        if transformer_engine_available():
            return "te"
        return "flash_attn" if flash_attn_varlen() is not None else "sdpa"
    if requested == "te" and not transformer_engine_available():
        raise RuntimeError("model.attention=te needs a GPU with transformer_engine installed (pip install 'cj2[gpu]'); use auto or sdpa")
    if requested == "flash_attn" and flash_attn_varlen() is None:
        raise RuntimeError("model.attention=flash_attn needs a GPU with flash-attn installed; use auto or sdpa")
    return requested


def packed_seq_params(cu_seqlens: torch.Tensor, max_seqlen: int, host_cu_seqlens: torch.Tensor | None = None):
    """Megatron's THD description of one packed sequence (the same boundaries for q and kv).

    ``host_cu_seqlens``: a CPU copy of the boundaries for the local spec. Megatron's unfused
    THD RoPE and the per-sample SDPA loop read the boundaries on the host, and megatron reads
    them from ``cu_seqlens_*_padded`` when set (equal to the unpadded ones: samples carry no
    internal padding), so no layer waits on a device-to-host copy. Leave it None for
    Transformer Engine, which takes every boundary tensor on the GPU.
    """
    from megatron.core.packed_seq_params import PackedSeqParams

    return PackedSeqParams(
        qkv_format="thd",
        cu_seqlens_q=cu_seqlens,
        cu_seqlens_kv=cu_seqlens,
        cu_seqlens_q_padded=host_cu_seqlens,
        cu_seqlens_kv_padded=host_cu_seqlens,
        max_seqlen_q=max_seqlen,
        max_seqlen_kv=max_seqlen,
    )


class PackedAttention(DotProductAttention):
    """Drop-in for megatron's local ``DotProductAttention`` (same constructor and shapes) that
    takes packed sequences; ``use_flash_attn`` selects flash-attn's varlen kernel."""

    use_flash_attn = False

    def forward(self, query, key, value, attention_mask, attn_mask_type=None, attention_bias=None, packed_seq_params=None):
        if attention_bias is not None:
            raise NotImplementedError("PackedAttention takes no attention_bias")
        scale = self.softmax_scale
        dropout = self.attention_dropout.p if self.training else 0.0
        if packed_seq_params is not None:
            # THD: megatron squeezed the batch dimension: [t, heads, d] -> [t, heads * d].
            if packed_seq_params.qkv_format != "thd":
                raise NotImplementedError(f"packed_seq_params.qkv_format={packed_seq_params.qkv_format!r}: only 'thd' is supported")
            cu = packed_seq_params.cu_seqlens_q
            if self.use_flash_attn:
                context = flash_attn_varlen()(query, key, value, cu, cu, packed_seq_params.max_seqlen_q, packed_seq_params.max_seqlen_q, dropout_p=dropout, softmax_scale=scale, causal=True)
            else:
                host = packed_seq_params.cu_seqlens_q_padded
                context = varlen_causal_sdpa(query, key, value, cu if host is None else host, scale, dropout)
            return context.reshape(context.size(0), self.hidden_size_per_partition)
        # [s, b, heads, d] -> [b, heads, s, d]
        q, k, v = (t.permute(1, 2, 0, 3) for t in (query, key, value))
        gqa = k.size(1) != q.size(1)
        if attention_mask is None:
            context = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True, scale=scale, enable_gqa=gqa)
        else:
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=~attention_mask, dropout_p=dropout, scale=scale, enable_gqa=gqa)
        # [b, heads, s, d] -> [s, b, heads * d]
        sq, b = context.size(2), context.size(0)
        return context.permute(2, 0, 1, 3).reshape(sq, b, self.hidden_size_per_partition)


class FlashAttnVarlen(PackedAttention):
    use_flash_attn = True


def varlen_causal_sdpa(query, key, value, cu_seqlens: torch.Tensor, scale, dropout: float = 0.0) -> torch.Tensor:
    """Causal attention inside each ``[cu_seqlens[i], cu_seqlens[i+1])`` of ``[t, heads, d]``
    tensors, one fused SDPA call per sample; returns ``[t, heads, d]``."""
    gqa = key.size(1) != query.size(1)
    bounds = cu_seqlens.tolist()  # free for a host copy; a device tensor costs a sync
    outputs = []
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        # [L, heads, d] -> [1, heads, L, d]
        q, k, v = (t[start:end].transpose(0, 1).unsqueeze(0) for t in (query, key, value))
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True, scale=scale, enable_gqa=gqa)
        outputs.append(out.squeeze(0).transpose(0, 1))
    return torch.cat(outputs, dim=0)
