"""A bf16 model's output layer run in fp32, for reading logits that decide close calls.

bf16 logits near |z| = 20 are 0.125 apart: the two labels' logits of an uncertain judge would often
be equal (no choice, scored wrong) and every margin would be rounded. :func:`with_fp32_head` swaps
the output layer for an fp32 copy that upcasts the (bf16) final hidden state, so the logits are
fp32; anything a model applies after its output layer (soft-capping, scaling) stays its own.
"""

from __future__ import annotations

import torch


class Fp32Head(torch.nn.Module):
    def __init__(self, head: torch.nn.Linear):
        super().__init__()
        self.weight = torch.nn.Parameter(head.weight.detach().float(), requires_grad=False)
        self.bias = None if head.bias is None else torch.nn.Parameter(head.bias.detach().float(), requires_grad=False)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(hidden.float(), self.weight, self.bias)


def with_fp32_head(model):
    """``model`` with its output layer in fp32 (unchanged when it already is)."""
    head = model.get_output_embeddings()
    if head.weight.dtype != torch.float32:
        model.set_output_embeddings(Fp32Head(head))
    return model
