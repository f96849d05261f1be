"""L_total = sft_weight * L_SFT + pg_weight * L_PG for one micro-batch of packed sequences.

The micro-batch carries a CE weight per token (0 outside responses; the sample's weight, or
the sample's weight over its response length when ``loss.average=sample``) and one entry per
verdict (row, logit position, y*, y-, weight). Both terms are sums divided by denominators
counted over the whole global batch (all micro-batches, all data-parallel ranks), so the loss
and its gradient do not depend on how the global batch is split.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from megatron.core.tensor_parallel import vocab_parallel_cross_entropy

from cj2.losses.verdict import policy_gradient
from cj2.losses.vocab_parallel import argmax_ids


@dataclass
class LossParts:
    """The differentiable micro-batch loss, and detached sums for logging."""

    loss: torch.Tensor
    sft_sum: torch.Tensor  # sum of weighted token CE
    pg_sum: torch.Tensor  # sum of weighted verdict terms
    verdict_correct: torch.Tensor  # verdicts whose argmax token is y*
    verdict_count: torch.Tensor


def judge_loss(
    logits: torch.Tensor,
    batch: dict,
    loss_cfg,
    sft_denominator: float,
    pg_denominator: float,
    verdict_logits: torch.Tensor | None = None,
) -> LossParts:
    """``logits`` ``[b, s, V_local]`` (vocab-parallel); ``batch`` as built by :mod:`cj2.data.packed.stream`.

    ``verdict_logits`` ``[n, V_local]``: the verdict positions' logits when computed apart
    (:mod:`cj2.train.selected_logits`); by default they are read from ``logits``.
    """
    rows, positions = batch["verdict_row"], batch["verdict_pos"]
    label, opposite = batch["verdict_label"], batch["verdict_opposite"]
    zero = logits.new_zeros((), dtype=torch.float32)
    pg_sum, correct = zero, zero
    token_weight = batch["token_weight"]
    if len(rows):
        # A copy taken before the token CE: megatron's CE shifts its fp32 input in place.
        verdict_logits = logits[rows, positions].float() if verdict_logits is None else verdict_logits.float()
        correct = (argmax_ids(verdict_logits) == label).sum().float()
        if loss_cfg.name != "none":
            pg_sum = (policy_gradient(verdict_logits, label, opposite, loss_cfg) * batch["verdict_weight"]).sum()
            if loss_cfg.combine == "replace":
                token_weight = token_weight.index_put((rows, positions), token_weight.new_zeros(()))
    token_ce = vocab_parallel_cross_entropy(logits, batch["labels"])
    sft_sum = (token_ce * token_weight).sum()
    # The denominators are counts (cj2.data.packed.stream.denominators): 0 only for a global batch with
    # nothing to learn, whose sums are 0 as well. pg_sum is 0 for loss=none.
    loss = loss_cfg.sft_weight * sft_sum / max(sft_denominator, 1.0) + loss_cfg.pg_weight * pg_sum / max(pg_denominator, 1.0)
    # Filled on the device: a host scalar copied over (new_tensor) waits for the GPU every micro-batch.
    count = torch.full((), len(rows), dtype=torch.float32, device=logits.device)
    return LossParts(loss, sft_sum.detach(), pg_sum.detach(), correct, count)
