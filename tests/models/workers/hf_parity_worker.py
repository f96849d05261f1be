"""torchrun worker: load HF checkpoints into GPTModel at several TP/PP layouts.

For each model directory and layout it writes the full logits (last stage, TP rank 0) and an
HF export; the test compares them with transformers' own forward and the source tensors.
With ``--wrong-mappings`` it also loads at TP=1 through deliberately broken mappings.
Usage: worker.py WORK_DIR MODEL_NAME... (WORK_DIR holds inputs.safetensors and one HF dir per name)
"""

import argparse
import contextlib
from pathlib import Path

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file

LAYOUTS = ((1, 1, False), (2, 1, False), (1, 2, False), (2, 2, False), (2, 1, True))  # (tp, pp, sequence parallel)


def forward_logits(model, ids: torch.Tensor):
    """Full-vocabulary logits on the last stage's TP ranks (None elsewhere), via megatron's schedule."""
    from megatron.core import parallel_state
    from megatron.core.pipeline_parallel import get_forward_backward_func
    from megatron.core.tensor_parallel import gather_from_tensor_model_parallel_region

    from cj2.cpu_shims import cuda_literals_to_cpu

    batch, seq = ids.shape
    position_ids = torch.arange(seq).expand(batch, seq)
    mask = torch.triu(torch.ones(1, 1, seq, seq, dtype=torch.bool), diagonal=1)

    def forward_step(data_iterator, model):
        output = model(next(data_iterator), position_ids, mask)
        return output, lambda output, non_loss_data=False: output

    with torch.no_grad(), cuda_literals_to_cpu():
        outputs = get_forward_backward_func()(forward_step_func=forward_step, data_iterator=iter([ids]), model=[model], num_microbatches=1, seq_length=seq, micro_batch_size=batch, forward_only=True, collect_non_loss_data=True)
    if not parallel_state.is_pipeline_last_stage():
        return None
    return gather_from_tensor_model_parallel_region(outputs[0])


@contextlib.contextmanager
def wrong_mapping(kind):
    """Swap in a broken piece of the mapping (the test must notice the logits change)."""
    from cj2.models import hf_mapping

    original_interleave, original_shard = hf_mapping.interleave_qkv, hf_mapping.shard_for_rank
    if kind == "naive_qkv":
        hf_mapping.interleave_qkv = lambda q, k, v, shape: torch.cat([q, k, v], 0)
    elif kind == "swapped_gate_up":
        def shard(mapping, *args, **kwargs):
            if mapping.kind == hf_mapping.FC1:
                mapping = hf_mapping.ParamMapping(mapping.megatron, mapping.kind, mapping.hf[::-1])
            return original_shard(mapping, *args, **kwargs)
        hf_mapping.shard_for_rank = shard
    try:
        yield
    finally:
        hf_mapping.interleave_qkv, hf_mapping.shard_for_rank = original_interleave, original_shard


def run_layout(work: Path, name: str, tp: int, pp: int, sp: bool = False, broken: str = ""):
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed

    from cj2.config.schema import ParallelConfig
    from cj2.models import build_model, export_hf, load_hf_weights, model_config_from_hf

    hf_dir = work / name
    model_cfg = model_config_from_hf(hf_dir, name=name)
    parallel_state.initialize_model_parallel(tensor_model_parallel_size=tp, pipeline_model_parallel_size=pp)
    model_parallel_cuda_manual_seed(0)
    try:
        model = build_model(model_cfg, ParallelConfig(tp=tp, pp=pp, sp=sp), initialize=False).eval()
        with wrong_mapping(broken) if broken else contextlib.nullcontext():
            load_hf_weights(model, hf_dir, model_cfg)
        logits = forward_logits(model, load_file(str(work / "inputs.safetensors"))["input_ids"])
        tag = f"{name}_tp{tp}_pp{pp}" + ("_sp" if sp else "") + (f"_{broken}" if broken else "")
        if logits is not None and parallel_state.get_tensor_model_parallel_rank() == 0 and parallel_state.get_data_parallel_rank() == 0:
            save_file({"logits": logits.contiguous()}, str(work / f"logits_{tag}.safetensors"))
        if not broken:
            export_hf(model, work / f"export_{tag}", model_cfg, source_dir=str(hf_dir), max_shard_bytes=64 * 1024)
    finally:
        parallel_state.destroy_model_parallel()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("work", type=Path)
    parser.add_argument("models", nargs="+")
    parser.add_argument("--wrong-mappings", action="store_true")
    args = parser.parse_args()
    dist.init_process_group("gloo")
    from cj2 import cpu_shims

    cpu_shims.apply()
    for name in args.models:
        for tp, pp, sp in LAYOUTS:
            if tp * pp <= dist.get_world_size():
                run_layout(args.work, name, tp, pp, sp)
        if args.wrong_mappings:
            for broken in ("naive_qkv", "swapped_gate_up"):
                run_layout(args.work, name, 1, 1, broken=broken)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
