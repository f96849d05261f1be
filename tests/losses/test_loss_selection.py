"""Which verdict term a loss name selects; a name no term has is an error, never a silent default."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from cj2.losses.verdict import policy_gradient


@pytest.mark.parametrize("name", ["bogus", "zzz", "Margin"])
def test_an_unknown_loss_name_is_refused(name):
    """Catches (cj2/losses/verdict.py policy_gradient): ``name <= "dpo_noref"`` (``bogus`` trained
    with DPO), ``name >= "none"`` and ``not name == "none"`` (``zzz`` trained with no verdict term)."""
    logits, label = torch.zeros(2, 8), torch.tensor([1, 2])
    with pytest.raises(ValueError, match=f"unknown loss '{name}'"):
        policy_gradient(logits, label, label, SimpleNamespace(name=name))


def test_none_is_zero_per_verdict():
    logits = torch.randn(3, 8)
    out = policy_gradient(logits, torch.tensor([1, 2, 3]), torch.tensor([4, 5, 6]), SimpleNamespace(name="none"))
    assert out.shape == (3,) and not out.any()
