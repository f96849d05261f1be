"""Packed attention equals megatron's reference DotProductAttention (causal, GQA, packed THD
sequences), and training a packed batch never builds an ``[S, S]`` tensor."""

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

    from cj2.models.attention import PackedAttention

    config = TransformerConfig(num_layers=1, hidden_size=heads * head_dim, num_attention_heads=heads, num_query_groups=groups, attention_dropout=0.0, hidden_dropout=0.0)
    args = dict(config=config, layer_number=1, attn_mask_type=AttnMaskType.causal, attention_type="self")
    return DotProductAttention(**args), PackedAttention(**args)


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


def block_mask(bounds, s):
    """Reference bool mask (True = masked) for one packed sequence: causal inside each segment."""
    segment = torch.zeros(s, dtype=torch.long)
    for i, (start, end) in enumerate(zip(bounds, bounds[1:], strict=False)):
        segment[start:end] = i
    same = segment[:, None] == segment[None, :]
    return ~(same & torch.ones(s, s, dtype=torch.bool).tril())[None, None]


@pytest.mark.parametrize("heads,groups", [(4, 4), (4, 2)])
def test_packed_sequence_matches_the_block_diagonal_reference(tp1, heads, groups):
    """Catches: attention across sample boundaries, a dropped last segment, GQA heads mixed up."""
    from cj2.models.attention import packed_seq_params

    reference, packed = attention_pair(heads, groups, 16)
    bounds = [0, 5, 12, 16, 26, 32]
    s = bounds[-1]
    q, k, v = qkv(s, 1, heads, groups, 16, seed=1)
    expected = reference(q, k, v, block_mask(bounds, s))  # [s, 1, h]
    params = packed_seq_params(torch.tensor(bounds, dtype=torch.int32), max(b - a for a, b in zip(bounds, bounds[1:], strict=False)))
    got = packed(q.squeeze(1), k.squeeze(1), v.squeeze(1), None, packed_seq_params=params)  # THD: megatron squeezes b
    torch.testing.assert_close(got, expected.squeeze(1), atol=1e-5, rtol=1e-5)
    grads = torch.autograd.grad(expected.square().sum(), (q, k, v))
    grads_packed = torch.autograd.grad(got.square().sum(), (q, k, v))
    for a, e in zip(grads_packed, grads, strict=True):
        torch.testing.assert_close(a, e, atol=1e-5, rtol=1e-5)
    # Another sample's keys do not move this one.
    k2 = k.detach().clone()
    k2[:5] += 10.0
    moved = packed(q.squeeze(1), k2.squeeze(1), v.squeeze(1), None, packed_seq_params=params)
    torch.testing.assert_close(moved[5:], got[5:])


class SquareGuard(torch.utils._python_dispatch.TorchDispatchMode):
    """Records the largest square trailing block ``[.., n, n]`` any op creates."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, tuple | list) else (out,):
            if isinstance(t, torch.Tensor) and t.dim() >= 2 and t.shape[-1] == t.shape[-2]:
                self.largest = max(self.largest, t.shape[-1])
        return out


def test_packed_training_never_builds_a_row_squared_tensor(tp1, tmp_path):
    """At S=8192, collate and packed attention (forward and backward) create no square tensor
    with a side of S/2 or more. Catches: a dense [b, 1, S, S] mask in collate (the old
    block_causal_mask), or attention over whole rows instead of per sample."""
    from cj2.data.packed.packing import write_tokenized
    from cj2.data.packed.stream import PackedDataset, collate
    from cj2.data.packed.tokenize import TokenizedSample
    from cj2.models.attention import packed_seq_params

    S = 8192
    lengths = [3000, 2500, 1800, 900]  # one row, the longest sample < S / 2
    samples = [TokenizedSample(list(range(1, n + 1)), [0] * 10 + [1] * (n - 10)) for n in lengths]
    write_tokenized(samples, tmp_path, S, pad_id=0)
    dataset = PackedDataset(tmp_path)
    _, attention = attention_pair(2, 1, 8)
    guard = SquareGuard()
    with guard:
        batch = collate(dataset, [0], "token")
        q, k, v = (torch.randn(S, n, 8, requires_grad=True) for n in (2, 1, 1))
        out = attention(q, k, v, None, packed_seq_params=packed_seq_params(batch["cu_seqlens"], batch["max_seqlen"]))
        out.sum().backward()
    assert batch["tokens"].shape == (1, S)
    assert guard.largest < S // 2, f"a [{guard.largest}, {guard.largest}] tensor was built"
    control = SquareGuard()  # the guard sees what a dense mask would build
    with control:
        torch.ones(1, 1, S, S, dtype=torch.bool).tril()
    assert control.largest == S


def test_backend_resolution_on_this_machine():
    from cj2.models.attention import resolve_backend

    if torch.cuda.is_available():
        pytest.skip("CPU-only expectations")
    assert resolve_backend("auto") == "sdpa" and resolve_backend("sdpa") == "sdpa"
    with pytest.raises(RuntimeError, match="transformer_engine"):
        resolve_backend("te")
    with pytest.raises(RuntimeError, match="flash-attn"):
        resolve_backend("flash_attn")
    with pytest.raises(ValueError, match="model.attention='local'"):
        resolve_backend("local")
