"""SDPAttention equals megatron's reference DotProductAttention (causal, GQA, packed masks)."""

from __future__ import annotations

import os

import pytest
import torch

from tests.dist import free_port


@pytest.fixture(scope="module")
def tp1():
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel.random import model_parallel_cuda_manual_seed

    from cj2 import cpu_shims

    cpu_shims.apply()
    owns_group = not torch.distributed.is_initialized()
    if owns_group:
        os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
        os.environ["MASTER_PORT"] = str(free_port())
        torch.distributed.init_process_group("gloo", rank=0, world_size=1)
    parallel_state.initialize_model_parallel(1, 1)
    model_parallel_cuda_manual_seed(0)
    yield
    parallel_state.destroy_model_parallel()
    if owns_group:
        torch.distributed.destroy_process_group()


def attention_pair(heads: int, groups: int, head_dim: int):
    from megatron.core.transformer import TransformerConfig
    from megatron.core.transformer.dot_product_attention import DotProductAttention
    from megatron.core.transformer.enums import AttnMaskType

    from cj2.models.attention import SDPAttention

    config = TransformerConfig(num_layers=1, hidden_size=heads * head_dim, num_attention_heads=heads, num_query_groups=groups, attention_dropout=0.0, hidden_dropout=0.0)
    args = dict(config=config, layer_number=1, attn_mask_type=AttnMaskType.causal, attention_type="self")
    return DotProductAttention(**args), SDPAttention(**args)


def qkv(s, b, heads, groups, d, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(s, b, heads, d, generator=g, requires_grad=True)
    k = torch.randn(s, b, groups, d, generator=g, requires_grad=True)
    v = torch.randn(s, b, groups, d, generator=g, requires_grad=True)
    return q, k, v


def causal_mask(s):
    return torch.ones(s, s, dtype=torch.bool).triu(1)[None, None]


@pytest.mark.parametrize("heads,groups", [(4, 4), (4, 2), (8, 1)])
def test_causal_matches_reference(tp1, heads, groups):
    reference, sdpa = attention_pair(heads, groups, 16)
    s, b = 24, 2
    q, k, v = qkv(s, b, heads, groups, 16)
    expected = reference(q, k, v, causal_mask(s))
    got_none = sdpa(q, k, v, None)  # None: plain causal, the flash-eligible path
    got_mask = sdpa(q, k, v, causal_mask(s))
    torch.testing.assert_close(got_none, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got_mask, expected, atol=1e-5, rtol=1e-5)
    grads = torch.autograd.grad(expected.square().sum(), (q, k, v))
    grads_sdpa = torch.autograd.grad(got_none.square().sum(), (q, k, v))
    for a, e in zip(grads_sdpa, grads, strict=True):
        torch.testing.assert_close(a, e, atol=1e-5, rtol=1e-5)


def test_packed_rows_do_not_attend_across_samples(tp1):
    from cj2.models.attention import block_causal_mask

    reference, sdpa = attention_pair(4, 2, 16)
    segments = torch.tensor([[0] * 5 + [1] * 7 + [2] * 4, [0] * 10 + [1] * 6])
    s, b = segments.shape[1], segments.shape[0]
    mask = block_causal_mask(segments)
    q, k, v = qkv(s, b, 4, 2, 16, seed=1)
    out = sdpa(q, k, v, mask)
    torch.testing.assert_close(out, reference(q, k, v, mask), atol=1e-5, rtol=1e-5)
    # The packed second sample of row 0 equals that sample attended on its own.
    alone = sdpa(q[5:12, :1], k[5:12, :1], v[5:12, :1], None)
    torch.testing.assert_close(out[5:12, :1], alone, atol=1e-5, rtol=1e-5)
    # And changing another sample's keys does not move it.
    k2 = k.detach().clone()
    k2[:5] += 10.0
    torch.testing.assert_close(sdpa(q, k2, v, mask)[5:12, :1], out[5:12, :1])
