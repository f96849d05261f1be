"""Collating one packed 8192-token row: cj2's THD micro-batch (sample boundaries only) against
the same collate plus the dense block-causal ``[1, 1, S, S]`` mask cj2 built before (baseline,
rebuilt here in the same process), per row: seconds and bytes.

  python bench/collate_cost.py [--seq-length 8192] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import torch
from judge_batch import judge_rows


def dense_block_causal_mask(cu_seqlens: torch.Tensor, s: int) -> torch.Tensor:
    """The old mask: True above the diagonal and across samples (what the baseline paid)."""
    segment = torch.repeat_interleave(torch.arange(len(cu_seqlens) - 1), torch.diff(cu_seqlens.long()))
    same = segment.unsqueeze(1) == segment.unsqueeze(0)
    causal = torch.ones(s, s, dtype=torch.bool).tril()
    return ~(causal & same).unsqueeze(0).unsqueeze(0)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seq-length", type=int, default=8192)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    from cj2.data.packed.packing import write_tokenized
    from cj2.data.packed.stream import PackedDataset, collate

    with tempfile.TemporaryDirectory() as tmp:
        write_tokenized(judge_rows(8, args.seq_length, 151680), tmp, args.seq_length, pad_id=0)
        data = PackedDataset(tmp)

        def thd():
            return collate(data, [0], "token")

        def with_mask():
            batch = collate(data, [0], "token")
            batch["attention_mask"] = dense_block_causal_mask(batch["cu_seqlens"], args.seq_length)
            return batch

        timings = {}
        for name, fn in (("cj2 THD collate", thd), ("baseline + dense mask", with_mask)):
            fn()
            runs = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                batch = fn()
                runs.append(time.perf_counter() - start)
            size = sum(t.numel() * t.element_size() for t in batch.values() if isinstance(t, torch.Tensor))
            timings[name] = statistics.median(runs)
            print(f"{name:24s} {timings[name] * 1000:8.1f} ms/row  {size / 2**20:8.2f} MiB/row")
    speedup = timings["baseline + dense mask"] / timings["cj2 THD collate"]
    print(f"collate speed-up THD / dense mask = {speedup:.1f}x (seq {args.seq_length}, medians of {args.repeats})")
    print(json.dumps({"check": "collate_cost", "seq_length": args.seq_length, "thd_ms": timings["cj2 THD collate"] * 1000,
                      "dense_mask_ms": timings["baseline + dense mask"] * 1000, "speedup": speedup, "ok": True}))


if __name__ == "__main__":
    main()
