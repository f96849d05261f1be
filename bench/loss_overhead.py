"""Training-step time with the margin loss vs plain SFT (loss=none): same model, same batch.

  python bench/loss_overhead.py [--repeats 6] [--rows 8] [--seq-length 1024]

Builds the demo's tiny model (real Qwen2.5 vocabulary, 151,680 logits wide) through the
training recipe's own parts (megatron DDP, optimizer, schedule, train_step) in one process,
and a packed batch of judge-shaped samples (75% prompt, a verdict in every response). Steps
alternate between the two losses after a warm-up; medians are compared.
Target: margin / none <= 1.02.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from types import SimpleNamespace

from judge_batch import init_single_process_env, judge_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--rows", type=int, default=8)
    parser.add_argument("--micro-batch", type=int, default=4)
    parser.add_argument("--seq-length", type=int, default=1024)
    args = parser.parse_args()

    init_single_process_env()
    from cj2.config import compose, finalize
    from cj2.data.packed.packing import write_tokenized
    from cj2.data.packed.stream import PackedDataset, collate, denominators
    from cj2.train import job
    from cj2.train.optim import build_optimizer, build_scheduler
    from cj2.train.step import train_step

    cfg = finalize(
        compose(
            [
                "+exp=demo",
                "tracking=disabled",
                f"parallel.global_batch_size={args.rows}",
                f"parallel.micro_batch_size={args.micro_batch}",
            ]
        )
    )
    job.setup_parallel(cfg)
    model = job.build_training_model(cfg, job.torch.float32)
    optimizer = build_optimizer(model, cfg.train, cfg.parallel, job.torch.float32)
    scheduler = build_scheduler(optimizer, cfg.train, total_steps=10 * args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        write_tokenized(judge_rows(args.rows, args.seq_length, cfg.model.vocab_size), tmp, args.seq_length, pad_id=0)
        data = PackedDataset(tmp)
        rows = list(range(args.rows))
        den = denominators(data, rows, "token")
        micro_batches = [
            collate(data, rows[i : i + args.micro_batch], "token") for i in range(0, args.rows, args.micro_batch)
        ]
    losses = {
        "none": SimpleNamespace(**{**dict(cfg.loss), "name": "none"}),
        "margin": SimpleNamespace(**dict(cfg.loss)),
    }
    times = {name: [] for name in losses}
    for repeat in range(args.repeats + 1):
        for name, loss_cfg in losses.items():
            started = time.perf_counter()
            train_step(model, optimizer, scheduler, micro_batches, den, loss_cfg)
            if repeat:  # the first round warms up
                times[name].append(time.perf_counter() - started)
    none, margin = statistics.median(times["none"]), statistics.median(times["margin"])
    print(
        f"{args.rows} rows x {args.seq_length} tokens, {int(den.pg)} verdicts, {den.loss_tokens} learned tokens; medians of {args.repeats}"
    )
    print(f"loss=none    {none * 1000:8.1f} ms/step")
    print(f"loss=margin  {margin * 1000:8.1f} ms/step")
    print(f"margin / none = {margin / none:.4f}  target <= 1.02: {'PASS' if margin / none <= 1.02 else 'FAIL'}")


if __name__ == "__main__":
    main()
