"""One process in a ``cuda:gloo`` world with the model on ``meta``: what a GPU run enforces.

In a ``cuda:gloo`` process group a collective refuses CPU tensors, exactly as NCCL does; ``meta``
tensors pass (they carry no data). The model lives on ``meta`` and megatron's "current CUDA
device" is ``meta`` too, so any tensor cj2 leaves on the CPU meets a ``meta`` one and fails, as
it would meet a CUDA one on a GPU. One training forward/backward through megatron's schedule
must run, with every model input and the logged sums on the model's device.

    python placement_worker.py DATA_DIR   (prints PLACEMENT CHECKS PASSED)
"""

import os
import sys
from types import SimpleNamespace

import torch
import torch.distributed as dist

from tests.dist import free_port


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
    with cpu_shims.cuda_literals_to_cpu():
        sums = step._forward_backward(model, micro_batches, denominators(dataset, rows, "token"), loss_cfg, forward_only=False)
    assert sums.device.type == "meta", sums.device
    assert seen and set(seen) == {"meta"}, seen
    assert all(p.grad is not None and p.grad.device.type == "meta" for p in model.parameters())
    print("PLACEMENT CHECKS PASSED")


if __name__ == "__main__":
    main()
