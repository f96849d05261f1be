"""Core attention through PyTorch's scaled_dot_product_attention.

Megatron-core's local ``DotProductAttention`` materialises the full [b, heads, s, s] score matrix
(and its softmax) for every layer; at seq 8192 that is gigabytes per layer. Without Transformer
Engine or flash-attn, this module plugs into the same spot of the local layer spec and lets
PyTorch pick a fused backend (flash for plain causal attention; memory-efficient for packed
batches, whose block-diagonal mask forbids attention across samples).

Mask convention (Megatron's): ``attention_mask`` is bool, True = masked out, broadcastable to
[b, 1, sq, sk]. ``None`` means plain causal attention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from megatron.core.transformer.dot_product_attention import DotProductAttention


class SDPAttention(DotProductAttention):
    """Drop-in for ``DotProductAttention`` (same constructor, same shapes, same results)."""

    def forward(self, query, key, value, attention_mask, attn_mask_type=None, attention_bias=None, packed_seq_params=None):
        if packed_seq_params is not None or attention_bias is not None:
            raise NotImplementedError("SDPAttention takes packing as a block-diagonal attention_mask, not packed_seq_params/attention_bias")
        # [s, b, heads, d] -> [b, heads, s, d]
        q, k, v = (t.permute(1, 2, 0, 3) for t in (query, key, value))
        dropout = self.attention_dropout.p if self.training else 0.0
        if attention_mask is None:
            context = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True, scale=self.softmax_scale, enable_gqa=k.size(1) != q.size(1))
        else:
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=~attention_mask, dropout_p=dropout, scale=self.softmax_scale, enable_gqa=k.size(1) != q.size(1))
        # [b, heads, s, d] -> [s, b, heads * d]
        sq, b = context.size(2), context.size(0)
        return context.permute(2, 0, 1, 3).reshape(sq, b, self.hidden_size_per_partition)


def block_causal_mask(segment_ids: torch.Tensor) -> torch.Tensor:
    """Megatron-style bool mask (True = masked) for packed rows: causal inside each sample only.

    ``segment_ids`` is [b, s]; tokens with equal ids belong to the same sample.
    """
    s = segment_ids.size(1)
    causal = torch.ones(s, s, dtype=torch.bool, device=segment_ids.device).tril()
    same = segment_ids.unsqueeze(2) == segment_ids.unsqueeze(1)
    return ~(causal & same).unsqueeze(1)
