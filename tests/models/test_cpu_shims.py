"""The CPU shims redirect megatron's CUDA calls only while asked to, and undo what is scoped."""

from __future__ import annotations

import pytest
import torch

from cj2 import cpu_shims

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason="the shims are inert on a GPU machine")


def test_apply_is_idempotent_and_seeds_the_cuda_rng_tracker():
    from megatron.core.tensor_parallel import random as mrand

    assert cpu_shims.apply() and cpu_shims.apply()
    assert torch.cuda.current_device() == "cpu"
    tracker = mrand.CudaRNGStatesTracker()
    tracker.add("model-parallel-rng", 123)
    outside = torch.get_rng_state()
    with tracker.fork():
        first = torch.rand(3)
    assert torch.equal(torch.get_rng_state(), outside)  # fork restores the default generator
    torch.manual_seed(123)
    assert torch.equal(first, torch.rand(3))  # the tracked state is the seeded CPU generator


def test_cuda_literals_are_cpu_only_inside_the_context():
    with cpu_shims.cuda_literals_to_cpu():
        made = torch.zeros(2, device="cuda")
        assert made.device.type == "cpu"
        assert made.type() == "torch.cuda.FloatTensor"
        assert made.cuda() is made
    assert torch.zeros(2).type() == "torch.FloatTensor"
    with pytest.raises((AssertionError, RuntimeError)):
        torch.zeros(2, device="cuda")
    with pytest.raises((AssertionError, RuntimeError)):
        torch.zeros(2).cuda()
