"""torchrun worker (2 ranks): dist_checkpointing save at one layout, load at another.

Model state: saved at TP=2, reloaded at PP=2, re-saved, reloaded at TP=1 (DP=2); each layout
exports HF (the test compares the exports bit for bit). Optimizer state: see the comments in
main(): DP-sharded and portable saves, resumes, and a spy on what a DP=2 save gathers. Also
loads into a different architecture, which must fail clearly.
Usage: checkpoint_worker.py WORK_DIR
"""

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from cj2.config.schema import ModelConfig, ParallelConfig

MODEL = ModelConfig(name="ckpt-tiny", family="qwen2", num_layers=2, hidden_size=64, ffn_hidden_size=96, num_attention_heads=4, num_query_groups=2, vocab_size=256, max_position_embeddings=64)


def init(tp, pp):
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed

    parallel_state.destroy_model_parallel()
    parallel_state.initialize_model_parallel(tensor_model_parallel_size=tp, pipeline_model_parallel_size=pp)
    model_parallel_cuda_manual_seed(7)
    return ParallelConfig(tp=tp, pp=pp, dp=dist.get_world_size() // (tp * pp))


def batch():
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(0, MODEL.vocab_size, (2, 16), generator=generator)
    return ids, torch.roll(ids, -1, dims=1)


def loss_of(model):
    """Mean token loss, same on every rank (no pipeline here: layouts with pp=1)."""
    from megatron.core import parallel_state

    ids, labels = batch()
    seq = ids.shape[1]
    mask = torch.triu(torch.ones(1, 1, seq, seq, dtype=torch.bool), diagonal=1)
    loss = model(ids, torch.arange(seq).expand_as(ids), mask, labels=labels).mean()
    assert parallel_state.get_pipeline_model_parallel_world_size() == 1
    return loss


def trainer(parallel, initialize=True):
    from megatron.core.distributed import DistributedDataParallel, DistributedDataParallelConfig
    from megatron.core.optimizer import OptimizerConfig, get_megatron_optimizer

    from cj2.cpu_shims import cuda_literals_to_cpu
    from cj2.models import build_model

    model = build_model(MODEL, parallel, initialize=initialize)
    ddp = DistributedDataParallel(config=model.config, ddp_config=DistributedDataParallelConfig(use_distributed_optimizer=True), module=model)
    with cuda_literals_to_cpu():
        optimizer = get_megatron_optimizer(OptimizerConfig(optimizer="adam", lr=1e-2, weight_decay=0.0, use_distributed_optimizer=True), [ddp])
    return ddp, optimizer


def step(ddp, optimizer):
    from megatron.core.distributed import finalize_model_grads

    from cj2.cpu_shims import cuda_literals_to_cpu

    ddp.zero_grad_buffer()
    optimizer.zero_grad()
    loss_of(ddp).backward()
    finalize_model_grads([ddp])
    with cuda_literals_to_cpu():
        optimizer.step()


def main():
    work = Path(sys.argv[1])
    dist.init_process_group("gloo")
    from cj2 import cpu_shims
    from cj2.models import build_model, export_hf, load_checkpoint, save_checkpoint
    from cj2.models.checkpoint import CheckpointError

    cpu_shims.apply()
    results = {}

    # Model state across layouts: TP2 -> PP2 -> TP1.
    parallel = init(2, 1)
    model = build_model(MODEL, parallel)
    save_checkpoint(work / "ckpt_tp2", model, extra={"step": 7, "data_position": [3, 1]}, model_cfg=MODEL)
    export_hf(model, work / "hf_tp2", MODEL)
    parallel = init(1, 2)
    model = build_model(MODEL, parallel, initialize=False)
    results["extra"] = load_checkpoint(work / "ckpt_tp2", model)
    export_hf(model, work / "hf_pp2", MODEL)
    save_checkpoint(work / "ckpt_pp2", model, model_cfg=MODEL)
    parallel = init(1, 1)
    model = build_model(MODEL, parallel, initialize=False)
    load_checkpoint(work / "ckpt_pp2", model)
    export_hf(model, work / "hf_tp1", MODEL)
    other = ModelConfig(**{**MODEL.__dict__, "ffn_hidden_size": 128})
    try:
        load_checkpoint(work / "ckpt_tp2", build_model(other, parallel, initialize=False))
        results["wrong_architecture"] = "loaded"
    except CheckpointError as e:
        results["wrong_architecture"] = str(e)

    # Optimizer state: saved DP-sharded (the default) and portable at TP2 (DP1), then the same
    # second step at TP2 (continuing), after loading at TP2, at TP1 (DP2) from the portable copy,
    # and at TP1 with the model only (fresh moments: a control that must differ).
    from cj2.models.checkpoint import PORTABLE

    parallel = init(2, 1)
    ddp, optimizer = trainer(parallel)
    step(ddp, optimizer)
    save_checkpoint(work / "ckpt_optim", ddp, optimizer, model_cfg=MODEL)
    save_checkpoint(work / "ckpt_portable", ddp, optimizer, model_cfg=MODEL, optimizer_format=PORTABLE)
    step(ddp, optimizer)
    results["loss_continued"] = loss_of(ddp).item()
    ddp, optimizer = trainer(init(2, 1), initialize=False)
    load_checkpoint(work / "ckpt_optim", ddp, optimizer)
    step(ddp, optimizer)
    results["loss_resumed_tp2"] = loss_of(ddp).item()
    parallel = init(1, 1)
    ddp, optimizer = trainer(parallel, initialize=False)
    try:
        load_checkpoint(work / "ckpt_optim", ddp, optimizer)
        results["dp_sharded_at_tp1"] = "loaded"
    except CheckpointError as e:
        results["dp_sharded_at_tp1"] = str(e)
    ddp, optimizer = trainer(parallel, initialize=False)
    load_checkpoint(work / "ckpt_portable", ddp, optimizer)
    step(ddp, optimizer)
    results["loss_resumed_tp1"] = loss_of(ddp).item()
    ddp, optimizer = trainer(parallel, initialize=False)
    load_checkpoint(work / "ckpt_optim", ddp)
    step(ddp, optimizer)
    results["loss_model_only"] = loss_of(ddp).item()

    # At DP2, what a save gathers: the DP-sharded save gathers no optimizer state at all; the
    # portable one gathers it on one DP rank at a time, never on every rank.
    from megatron.core.optimizer.distrib_optimizer import DistributedOptimizer

    gathers, moved = [], []
    original_gather = DistributedOptimizer.get_parameter_state_dp_zero

    def spy_gather(self, *args, **kwargs):
        gathers.append(bool(kwargs.get("return_on_all_ranks", False)))
        return original_gather(self, *args, **kwargs)

    def spy_collective(original):
        def run(*args, **kwargs):
            moved.extend(t.numel() for t in (*args, *kwargs.values()) if isinstance(t, torch.Tensor))
            return original(*args, **kwargs)

        return run

    DistributedOptimizer.get_parameter_state_dp_zero = spy_gather
    originals = {name: getattr(dist, name) for name in ("all_gather", "all_gather_into_tensor", "gather", "broadcast")}
    for name, original in originals.items():
        setattr(dist, name, spy_collective(original))
    ddp, optimizer = trainer(parallel)
    step(ddp, optimizer)
    save_checkpoint(work / "ckpt_dp2", ddp, optimizer, model_cfg=MODEL)
    results["dp_sharded_save"] = {"gathers": list(gathers), "elements_moved": sum(moved)}
    gathers.clear()
    save_checkpoint(work / "ckpt_dp2_portable", ddp, optimizer, model_cfg=MODEL, optimizer_format=PORTABLE)
    results["portable_save"] = {"gathers": list(gathers)}
    results["optimizer_state_elements"] = sum(p.numel() for p in ddp.parameters())
    DistributedOptimizer.get_parameter_state_dp_zero = original_gather
    for name, original in originals.items():
        setattr(dist, name, original)

    if dist.get_rank() == 0:
        (work / "results.json").write_text(json.dumps(results))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
