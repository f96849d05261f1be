"""One process in a ``cuda:gloo`` world with the model on ``meta``: what a GPU run enforces.

In a ``cuda:gloo`` process group a collective refuses CPU tensors, exactly as NCCL does; ``meta``
tensors pass (they carry no data). The model lives on ``meta`` and megatron's "current CUDA
device" is ``meta`` too, so any tensor cj2 leaves on the CPU meets a ``meta`` one and fails, as
it would meet a CUDA one on a GPU. One training forward/backward through megatron's schedule
must run, with every model input and the logged sums on the model's device, and without a
host-to-device copy other than the micro-batch's own hand-over (``cj2.placement.to_device``): on a
GPU such a copy from pageable memory waits for the device (``cudaStreamSynchronize``) every
micro-batch. :class:`NoHostToDevice` raises on one, naming the caller.

    python placement_worker.py DATA_DIR   (prints PLACEMENT CHECKS PASSED)
"""

import os
import sys
import traceback
from types import SimpleNamespace

import torch
import torch.distributed as dist

from tests.dist import free_port


def _device(value) -> torch.device | None:
    return None if value is None else torch.device(value)


class NoHostToDevice(torch.overrides.TorchFunctionMode):
    """Raises on a copy of host data to another device, except inside ``to_device`` (the one
    hand-over): ``torch.tensor`` / ``as_tensor`` / ``Tensor.new_tensor`` of host data with a
    device target, ``Tensor.to`` / ``.cuda`` of a CPU tensor, ``copy_`` from a CPU tensor."""

    handing_over = False

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if not self.handing_over and (target := self._copy_target(func, args, kwargs)) is not None:
            caller = next((f for f in reversed(traceback.extract_stack()[:-1]) if "/cj2/" in f.filename or "/megatron/" in f.filename), None)
            raise AssertionError(f"host-to-device copy inside the step: {func.__name__} to {target} at {caller.filename}:{caller.lineno}" if caller else f"host-to-device copy: {func.__name__}")
        return func(*args, **kwargs)

    @staticmethod
    def _copy_target(func, args, kwargs):
        if func in (torch.tensor, torch.as_tensor):
            target = _device(kwargs.get("device"))
            data_on = args[0].device if isinstance(args[0], torch.Tensor) else torch.device("cpu")
            return target if target is not None and target.type != "cpu" and data_on.type == "cpu" else None
        if func is torch.Tensor.new_tensor:
            target = _device(kwargs.get("device")) or args[0].device
            data_on = args[1].device if isinstance(args[1], torch.Tensor) else torch.device("cpu")
            return target if target.type != "cpu" and data_on.type == "cpu" else None
        if func in (torch.Tensor.to, torch.Tensor.cuda) and args[0].device.type == "cpu":
            target = torch._C._nn._parse_to(*args[1:], **kwargs)[0] if func is torch.Tensor.to else torch.device("cuda")
            return target if target is not None and target.type != "cpu" else None
        if func is torch.Tensor.copy_ and args[0].device.type != "cpu" and args[1].device.type == "cpu":
            return args[0].device
        return None


def main():
    data_dir = sys.argv[1]
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()))
    dist.init_process_group("cuda:gloo", rank=0, world_size=1)
    try:
        dist.all_reduce(torch.zeros(1))
        raise AssertionError("the cuda:gloo world should refuse a CPU tensor")
    except RuntimeError:
        pass
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel.random import model_parallel_cuda_manual_seed

    from cj2 import cpu_shims
    from cj2.config.schema import ModelConfig, ParallelConfig
    from cj2.data.packed.stream import PackedDataset, collate, denominators
    from cj2.models import build_model
    from cj2.train import step

    cpu_shims.apply()
    parallel_state.initialize_model_parallel(1, 1)
    model_parallel_cuda_manual_seed(0)
    model_cfg = ModelConfig(name="t", num_layers=2, hidden_size=64, ffn_hidden_size=128, num_attention_heads=4, num_query_groups=2, vocab_size=256, max_position_embeddings=128)
    model = build_model(model_cfg, ParallelConfig())
    # The simulated GPU: the model and megatron's current device are meta.
    model.to("meta")
    model.rotary_pos_emb.inv_freq = model.rotary_pos_emb.inv_freq.to("meta")
    torch.cuda.current_device = lambda: "meta"

    seen = []

    def record(module, args, kwargs):
        params = kwargs.get("packed_seq_params")
        tensors = [a for a in args if isinstance(a, torch.Tensor)] + [params.cu_seqlens_q, params.cu_seqlens_kv]
        seen.extend(t.device.type for t in tensors)

    model.register_forward_pre_hook(record, with_kwargs=True)
    dataset = PackedDataset(data_dir)
    rows = list(range(len(dataset)))
    micro_batches = [collate(dataset, rows[i : i + 2], "token") for i in range(0, len(rows), 2)]
    assert all(t.device.type == "cpu" for mb in micro_batches for t in mb.values() if isinstance(t, torch.Tensor))
    loss_cfg = SimpleNamespace(name="margin", sft_weight=1.0, pg_weight=1.0, gamma=10.0, top_k=10, reduction="mean", combine="add")
    guard = NoHostToDevice()
    with guard:  # the guard sees a stray copy (a positive control), and lets the hand-over through
        try:
            torch.ones(2).new_tensor(3.0, device="meta")
            raise AssertionError("NoHostToDevice missed a host-to-device new_tensor")
        except AssertionError as e:
            assert "host-to-device copy" in str(e), e
    hand_over = step.to_device

    def to_device(value, device):
        guard.handing_over = True
        try:
            return hand_over(value, device)
        finally:
            guard.handing_over = False

    step.to_device = to_device
    with cpu_shims.cuda_literals_to_cpu(), guard:
        sums = step._forward_backward(model, micro_batches, denominators(dataset, rows, "token"), loss_cfg, forward_only=False)
    assert sums.device.type == "meta", sums.device
    assert seen and set(seen) == {"meta"}, seen
    assert all(p.grad is not None and p.grad.device.type == "meta" for p in model.parameters())
    print("PLACEMENT CHECKS PASSED")


if __name__ == "__main__":
    main()
