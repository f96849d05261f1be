"""The policy-gradient terms at the verdict position (method.md, section 2).

Each function takes the vocab-parallel logits ``[n, V_local]`` at the ``n`` verdict positions
(the positions whose logits predict the verdict token), the label token ``y*`` and, where
needed, the opposite label token ``y-``, and returns one loss per verdict ``[n]``. Since
log p(a) - log p(b) = z[a] - z[b], no term needs the full softmax except ``temperature``,
which uses megatron's vocab-parallel cross-entropy.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from megatron.core.tensor_parallel import vocab_parallel_cross_entropy

from cj2.losses.vocab_parallel import token_logits, top_k_logits


def dpo_noref(logits: torch.Tensor, label: torch.Tensor, opposite: torch.Tensor, beta: float) -> torch.Tensor:
    """-log sigmoid(beta * (log p(y*) - log p(y-)))."""
    margin = token_logits(logits, label) - token_logits(logits, opposite)
    return -F.logsigmoid(beta * margin)


def temperature(logits: torch.Tensor, label: torch.Tensor, tau: float) -> torch.Tensor:
    """Cross-entropy of softmax(z / tau) against y* over the whole vocabulary."""
    return vocab_parallel_cross_entropy(logits / tau, label)


def margin(
    logits: torch.Tensor, label: torch.Tensor, gamma: float, top_k: int, reduction: str = "mean"
) -> torch.Tensor:
    """max(0, gamma - (z[y*] - z[y-])) over the top-k competitors y- != y*, mean or sum."""
    competitors, _ = top_k_logits(logits, top_k, exclude_ids=label)
    hinge = (gamma - (token_logits(logits, label).unsqueeze(-1) - competitors)).clamp(min=0)
    return hinge.mean(-1) if reduction == "mean" else hinge.sum(-1)


def policy_gradient(logits: torch.Tensor, label: torch.Tensor, opposite: torch.Tensor, loss_cfg) -> torch.Tensor:
    """The term ``loss_cfg.name`` selects, per verdict ``[n]``; zeros for ``none``."""
    if loss_cfg.name == "margin":
        return margin(logits, label, loss_cfg.gamma, loss_cfg.top_k, loss_cfg.reduction)
    if loss_cfg.name == "dpo_noref":
        return dpo_noref(logits, label, opposite, loss_cfg.beta)
    if loss_cfg.name == "temperature":
        return temperature(logits, label, loss_cfg.tau)
    if loss_cfg.name == "none":
        return logits.new_zeros(logits.shape[:-1])
    raise ValueError(f"unknown loss {loss_cfg.name!r}")
