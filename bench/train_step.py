"""cj2's training step against a plain transformers loop: same model shape, same batch, one run.

  python bench/train_step.py                     # CPU: a small shape, prints the ratio
  python bench/train_step.py --hidden 3584 --layers 4 --heads 28 --kv-heads 4 --ffn 18944 \
      --seq-length 4096 --micro-batch 1 --bf16   # GPU: a Qwen2.5-7B-width proxy (issue 8)

cj2's step is the recipe's own ``train_step`` (megatron-core GPTModel, packed THD attention
through ``--attention`` (auto: TE > flash-attn > per-sample SDPA), megatron DDP and optimizer,
the verdict-position loss), fed CPU micro-batches exactly as training feeds them. The baseline
is transformers' ``Qwen2ForCausalLM`` (SDPA attention, causal over the whole row) with
``torch.optim.AdamW`` and plain CE on the learned tokens: what a user would write by hand.
Both see the same token rows after warm-up; medians of ``--steps`` steps are compared.
On a GPU it also prints MFU (cj2.train.metrics.step_flops: the FLOPs each step really does,
attention over the packed samples, against the dense bf16 peak) and the memory planner's
prediction against the measured peak of cj2's step.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time

from judge_batch import init_single_process_env, judge_rows


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--kv-heads", type=int, default=2)
    p.add_argument("--ffn", type=int, default=1024)
    p.add_argument("--vocab", type=int, default=151680)
    p.add_argument("--seq-length", type=int, default=1024)
    p.add_argument("--micro-batch", type=int, default=2)
    p.add_argument("--loss", default="margin", choices=["none", "dpo_noref", "temperature", "margin"])
    p.add_argument("--attention", default="auto", choices=["auto", "te", "flash_attn", "sdpa"])
    p.add_argument("--bf16", action="store_true", help="bf16 params (GPU)")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak per device (H100 SXM: 989)")
    return p.parse_args()


def timed(step, warmup: int, steps: int) -> float:
    import torch

    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        started = time.perf_counter()
        step()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def cj2_config(args):
    from cj2.config import compose, finalize

    return finalize(
        compose(
            [
                "+exp=demo",
                "tracking=disabled",
                f"loss={args.loss}",
                f"model.num_layers={args.layers}",
                f"model.hidden_size={args.hidden}",
                f"model.ffn_hidden_size={args.ffn}",
                f"model.num_attention_heads={args.heads}",
                f"model.num_query_groups={args.kv_heads}",
                f"model.vocab_size={args.vocab}",
                "model.tie_word_embeddings=false",
                "model.max_position_embeddings=32768",
                f"model.attention={args.attention}",
                f"data.seq_length={args.seq_length}",
                f"parallel.micro_batch_size={args.micro_batch}",
                f"parallel.global_batch_size={args.micro_batch}",
                f"train.precision={'bf16' if args.bf16 else 'fp32'}",
            ]
        )
    )


def main() -> None:
    args = parse_args()
    init_single_process_env()
    import torch

    from cj2.config.plan import memory_plan
    from cj2.data.packed.packing import write_tokenized
    from cj2.data.packed.stream import PackedDataset, collate, denominators
    from cj2.train import job
    from cj2.train.metrics import mfu, step_flops
    from cj2.train.optim import build_optimizer, build_scheduler
    from cj2.train.step import train_step

    cfg = cj2_config(args)
    on_gpu = torch.cuda.is_available()
    dtype = torch.bfloat16 if args.bf16 else torch.float32
    job.setup_parallel(cfg)

    rows = list(range(args.micro_batch))
    with tempfile.TemporaryDirectory() as tmp:
        write_tokenized(judge_rows(args.micro_batch, args.seq_length, args.vocab), tmp, args.seq_length, pad_id=0)
        data = PackedDataset(tmp)
        batch = collate(data, rows, "token")
        den = denominators(data, rows, "token")
    device = torch.device("cuda" if on_gpu else "cpu")
    micro_batches = [batch]  # on the CPU, as collate makes them: train_step moves them

    # --- cj2 ---------------------------------------------------------------------------
    model = job.build_training_model(cfg, dtype)
    backend = model.module.cj2_attention_backend
    optimizer = build_optimizer(model, cfg.train, cfg.parallel, dtype)
    scheduler = build_scheduler(optimizer, cfg.train, total_steps=args.warmup + args.steps + 1)
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    last = {}  # each side's last loss: the result counts only if both are finite

    def cj2_step():
        last["cj2"] = train_step(model, optimizer, scheduler, micro_batches, den, cfg.loss).loss

    cj2_s = timed(cj2_step, args.warmup, args.steps)
    cj2_peak = torch.cuda.max_memory_allocated() / 2**30 if on_gpu else None
    model = optimizer = scheduler = None  # free cj2's model before the baseline's
    if on_gpu:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()

    # --- baseline: transformers + a plain PyTorch loop -----------------------------------
    from transformers import Qwen2Config, Qwen2ForCausalLM

    hf_cfg = Qwen2Config(vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.ffn, num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads, max_position_embeddings=32768, tie_word_embeddings=False)
    with torch.device(device):  # initialised where it runs (~2B parameters at the 7B-width proxy)
        hf = Qwen2ForCausalLM._from_config(hf_cfg, attn_implementation="sdpa", dtype=dtype)
    hf_opt = torch.optim.AdamW(hf.parameters(), lr=cfg.train.lr, betas=(0.9, 0.95), weight_decay=0.1, fused=on_gpu)
    tokens = batch["tokens"].view(args.micro_batch, args.seq_length).to(device)
    labels = tokens.clone()
    labels[:, 0] = -100
    labels[:, 1:][batch["token_weight"].view(args.micro_batch, args.seq_length)[:, :-1].to(device) == 0] = -100  # learn only the judgment tokens

    def baseline_step():
        loss = hf(input_ids=tokens, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(hf.parameters(), 1.0)
        hf_opt.step()
        hf_opt.zero_grad(set_to_none=True)
        last["baseline"] = loss.detach()

    hf_s = timed(baseline_step, args.warmup, args.steps)

    # --- report --------------------------------------------------------------------------
    tokens_per_step = args.micro_batch * args.seq_length
    print(f"device: {torch.cuda.get_device_name() if on_gpu else 'cpu'}; shape: L{args.layers} H{args.hidden} heads {args.heads}/{args.kv_heads} FFN {args.ffn} vocab {args.vocab}; seq {args.seq_length} x micro batch {args.micro_batch}; {dtype}; loss={args.loss}; attention {backend}")
    result = {"check": "train_step", "attention": backend, "device": torch.cuda.get_device_name() if on_gpu else "cpu", "cj2_ms": cj2_s * 1000, "baseline_ms": hf_s * 1000, "speedup": hf_s / cj2_s}
    for name, seconds in (("cj2 train_step", cj2_s), ("transformers baseline", hf_s)):
        line = f"{name:22s} {seconds * 1000:9.1f} ms/step  {tokens_per_step / seconds:10,.0f} tokens/s"
        if on_gpu and name.startswith("cj2"):
            flops = step_flops(cfg.model, den.real_tokens, den.loss_tokens + int(den.pg), den.attention_pairs)
            result["mfu"] = mfu(flops, seconds, 1, args.peak_tflops)
            line += f"  MFU {result['mfu']:.1%}"
        print(line)
    print(f"speed-up cj2 / baseline = {hf_s / cj2_s:.2f}x")
    if on_gpu:
        # The 4 GiB allowance is for the CUDA context, not allocations; logits where this batch selects them.
        plan = memory_plan(cfg, on_gpu=False, logit_positions=len(batch["logit_pos"]) + len(batch["verdict_pos"]))
        error = plan.total_gib / cj2_peak - 1
        print(f"memory: planner {plan.total_gib:.2f} GiB vs measured peak {cj2_peak:.2f} GiB ({error:+.1%})")
        result.update(planner_gib=plan.total_gib, measured_peak_gib=cj2_peak, planner_error=error,
                      targets={"mfu_at_least_45pct": result["mfu"] >= 0.45, "planner_within_15pct": abs(error) <= 0.15})
    result.update(cj2_loss=last["cj2"], baseline_loss=float(last["baseline"]))
    print(json.dumps({**result, "ok": math.isfinite(result["cj2_loss"]) and math.isfinite(result["baseline_loss"])}))


if __name__ == "__main__":
    main()
