"""Small vocab-parallel primitives for per-position terms.

Logits arrive split over the vocabulary: TP rank r holds ids [r * V_r, (r + 1) * V_r). Each
helper selects a few values per row locally, all-gathers only those (megatron's gather, whose
backward hands every rank the gradient of its own slots) and finishes the computation
identically on every rank. A loss built from these outputs is therefore replicated across the
TP group, and backpropagating it on each rank yields that rank's slice of the full gradient.
"""

from __future__ import annotations

import torch
from megatron.core import parallel_state
from megatron.core.tensor_parallel.mappings import gather_from_tensor_model_parallel_region


def local_vocab_range(local_vocab_size: int) -> tuple[int, int]:
    rank = parallel_state.get_tensor_model_parallel_rank()
    return rank * local_vocab_size, (rank + 1) * local_vocab_size


def token_logits(local_logits: torch.Tensor, token_ids: torch.Tensor) -> torch.Tensor:
    """``z[i, token_ids[i]]`` for rows ``[n, V_local]``; returns ``[n]``."""
    start, end = local_vocab_range(local_logits.shape[-1])
    owned = (token_ids >= start) & (token_ids < end)
    local_ids = (token_ids - start).clamp(0, local_logits.shape[-1] - 1)
    picked = local_logits.gather(-1, local_ids.unsqueeze(-1)).squeeze(-1)
    picked = torch.where(owned, picked, torch.zeros_like(picked))
    # One slot per rank; exactly one rank owns the id, the others contribute 0.
    return gather_from_tensor_model_parallel_region(picked.unsqueeze(-1)).sum(-1)


def top_k_logits(local_logits: torch.Tensor, k: int, exclude_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` largest logits of each row over the whole vocabulary, ``exclude_ids[i]`` left out.

    Returns (values ``[n, k]``, global token ids ``[n, k]``), largest first. The global top-k is
    inside the union of the per-rank top-k, so only ``k`` values per rank are gathered.
    """
    local_vocab = local_logits.shape[-1]
    start, end = local_vocab_range(local_vocab)
    owned = (exclude_ids >= start) & (exclude_ids < end)
    # A scatter, not boolean indexing: no data-dependent shape, so no host sync on a GPU.
    # Rows whose excluded id lives on another rank write False (a no-op) at a clamped slot.
    local_ids = (exclude_ids - start).clamp(0, local_vocab - 1)
    excluded = torch.zeros_like(local_logits, dtype=torch.bool).scatter_(-1, local_ids.unsqueeze(-1), owned.unsqueeze(-1))
    candidates = local_logits.masked_fill(excluded, float("-inf"))
    local_k = min(k, local_vocab)
    values, local_ids = candidates.topk(local_k, dim=-1)
    all_values = gather_from_tensor_model_parallel_region(values)
    all_ids = _all_gather_last_dim(local_ids + start)
    top_values, slots = all_values.topk(k, dim=-1)
    return top_values, all_ids.gather(-1, slots).long()


def _all_gather_last_dim(tensor: torch.Tensor) -> torch.Tensor:
    """All-gather along the last dimension without autograd (integer ids stay exact)."""
    group = parallel_state.get_tensor_model_parallel_group()
    world = torch.distributed.get_world_size(group)
    if world == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(world)]
    torch.distributed.all_gather(parts, tensor.contiguous(), group=group)
    return torch.cat(parts, dim=-1)


def argmax_ids(local_logits: torch.Tensor) -> torch.Tensor:
    """The global argmax token id of each row (no gradient)."""
    with torch.no_grad():
        no_exclusion = torch.full(local_logits.shape[:-1], -1, dtype=torch.long, device=local_logits.device)
        return top_k_logits(local_logits.detach(), 1, no_exclusion)[1].squeeze(-1)


def logsumexp(local_logits: torch.Tensor) -> torch.Tensor:
    """log sum_v exp(z[v]) of each row over the whole vocabulary (no gradient)."""
    with torch.no_grad():
        group = parallel_state.get_tensor_model_parallel_group()
        peak = local_logits.max(dim=-1).values
        if torch.distributed.get_world_size(group) > 1:
            torch.distributed.all_reduce(peak, op=torch.distributed.ReduceOp.MAX, group=group)
        total = (local_logits - peak.unsqueeze(-1)).exp().sum(dim=-1)
        if torch.distributed.get_world_size(group) > 1:
            torch.distributed.all_reduce(total, group=group)
        return peak + total.log()
