"""Tensors go where a GPU run needs them: batches to the model's device, collectives on the
backend's device, and a run that asks for GPUs refuses to start without CUDA."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cj2.data.packed.packing import write_tokenized
from cj2.data.packed.tokenize import TokenizedSample
from tests.dist import REPO


def judge_samples():
    out = []
    for i, n in enumerate([17, 9, 22, 11]):
        ids = [(5 * i + j) % 200 + 1 for j in range(n)]
        s = TokenizedSample(ids, [0] * 4 + [1] * (n - 4), weight=1.0)
        s.verdict_index, s.label_id, s.opposite_id = n - 3, ids[n - 3], (ids[n - 3] + 1) % 256
        out.append(s)
    return out


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a GPU on a CPU-only machine")
def test_training_step_keeps_every_tensor_on_the_model_device(tmp_path):
    """A forward/backward in a ``cuda:gloo`` world with the model on meta (placement_worker.py).

    Catches: micro-batches handed to the model unmoved (CPU ids into meta embeddings), the
    logged sums all-reduced as a CPU tensor (refused, as NCCL refuses it), ``compact_targets``
    indexing a CPU table with device indices, and a host-to-device copy inside the step: the
    verdict count built with ``logits.new_tensor(float(len(rows)))`` (a synchronising copy per
    micro-batch on a GPU) fails at ``cj2/losses/objective.py``."""
    write_tokenized(judge_samples(), tmp_path / "data", 40, pad_id=0)
    proc = subprocess.run([sys.executable, str(Path(__file__).with_name("placement_worker.py")), str(tmp_path / "data")], capture_output=True, text=True, timeout=300, cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert "PLACEMENT CHECKS PASSED" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-6000:]


def test_to_device_moves_nested_batches_and_packed_params():
    from cj2.models.attention import packed_seq_params
    from cj2.placement import to_device

    batch = {"tokens": torch.ones(1, 4, dtype=torch.long), "max_seqlen": 4, "verdicts": [torch.zeros(2)], "psp": packed_seq_params(torch.tensor([0, 4], dtype=torch.int32), 4)}
    moved = to_device(batch, torch.device("meta"))
    assert moved["tokens"].device.type == "meta" and moved["verdicts"][0].device.type == "meta"
    assert moved["psp"].cu_seqlens_q.device.type == "meta" and moved["psp"].max_seqlen_q == 4 and moved["max_seqlen"] == 4


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_gpu_run_without_cuda_fails_fast(monkeypatch):
    """Catches: a run configured for GPUs silently training on the CPU."""
    from cj2.placement import NoGpuError, require_gpus

    require_gpus(0)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    with pytest.raises(NoGpuError, match=r"gpus_per_node=8 .*no CUDA device.*CUDA_VISIBLE_DEVICES='0,1'"):
        require_gpus(8)


def test_collective_device_follows_the_backend():
    import os

    import torch.distributed as dist

    from cj2.placement import collective_device
    from tests.dist import free_port

    if dist.is_initialized():
        pytest.skip("a process group is already up in this process")
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
    dist.init_process_group("gloo", rank=0, world_size=1)
    try:
        assert collective_device() == torch.device("cpu")
    finally:
        dist.destroy_process_group()
