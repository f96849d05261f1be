"""HF import / export throughput and memory at realistic width (default: 2 layers of Qwen2.5-7B).

    python bench/convert_bench.py [--layers 2] [--shard-mb 512] [--work DIR]

Writes a random bf16 HF checkpoint (sharded safetensors), then measures in this process:

- baseline read: every shard read whole and parsed with ``safetensors.torch.load`` (the whole model resident);
- cj2 import: ``load_hf_weights`` into a TP=1 ``GPTModel`` (streams shard by shard, row slices);
- baseline write: ``safetensors.torch.save_file`` of the same tensors in shards;
- cj2 export: ``export_hf`` of the model (gathers per tensor, flushes one shard at a time).

Memory is the peak RSS above what the process held before each phase (sampled every 2 ms; the
model's parameters are already resident): cj2's import and export should need about one shard
(or the largest tensor) beyond the parameters, not a second copy of the model. RSS includes
page-cache pages of memory-mapped shard files, which the kernel can drop under pressure.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import psutil
import torch

GIB = 1024**3


class PeakRss:
    """Peak resident memory of this process during a ``with`` block, relative to its start."""

    def __enter__(self):
        self.process = psutil.Process()
        gc.collect()
        self.start = self.peak = self.process.memory_info().rss
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        self.t0 = time.perf_counter()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.002)

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.running = False
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)
        self.extra_gib = (self.peak - self.start) / GIB


def model_config(layers: int):
    from cj2.config.schema import ModelConfig

    # Qwen2.5-7B widths (conf/model/qwen2.5-7b.yaml), fewer layers.
    return ModelConfig(name=f"qwen2.5-7b-width-{layers}l", family="qwen2", num_layers=layers, hidden_size=3584, ffn_hidden_size=18944, num_attention_heads=28, num_query_groups=4, vocab_size=152064)


def write_random_hf(model_cfg, out: Path, shard_bytes: int) -> int:
    """A random bf16 HF checkpoint in shards; returns its tensor bytes."""
    from safetensors.torch import save_file

    from cj2.models.hf_config import hf_config_dict
    from cj2.models.hf_io import required_hf_tensors
    from cj2.models.hf_mapping import expected_hf_shape

    out.mkdir(parents=True)
    shards, current, size, weight_map, total = [], {}, 0, {}, 0
    for index, name in enumerate(required_hf_tensors(model_cfg)):
        # Distinct, cheap values (throughput does not depend on them; randn of 1.5G values is slow).
        tensor = torch.empty(expected_hf_shape(name, model_cfg), dtype=torch.bfloat16).fill_(index % 97 / 97.0)
        nbytes = tensor.numel() * tensor.element_size()
        if current and size + nbytes > shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[name], size, total = tensor, size + nbytes, total + nbytes
    shards.append(current)
    for i, shard in enumerate(shards):
        file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, str(out / file), metadata={"format": "pt"})
        weight_map.update({name: file for name in shard})
    (out / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}))
    (out / "config.json").write_text(json.dumps(hf_config_dict(model_cfg, "bfloat16", {})))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--shard-mb", type=int, default=512)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()

    import torch.distributed as dist
    from megatron.core import parallel_state
    from safetensors.torch import load, save_file

    from cj2 import cpu_shims
    from cj2.config.schema import ParallelConfig
    from cj2.models import build_model, export_hf, load_hf_weights

    work = args.work or Path(tempfile.mkdtemp(prefix="cj2-convert-bench-"))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(29000 + os.getpid() % 1000))
    dist.init_process_group("gloo", rank=0, world_size=1)
    cpu_shims.apply()
    parallel_state.initialize_model_parallel(1, 1)
    model_cfg = model_config(args.layers)
    shard_bytes = args.shard_mb * 1024**2
    try:
        total = write_random_hf(model_cfg, work / "hf", shard_bytes)
        largest_shard = max(p.stat().st_size for p in (work / "hf").glob("*.safetensors"))
        print(f"model: {model_cfg.name}, {total / GIB:.2f} GiB bf16 in shards of <= {args.shard_mb} MiB (largest {largest_shard / GIB:.2f} GiB)")

        with PeakRss() as base_read:
            tensors = {}
            for path in sorted((work / "hf").glob("*.safetensors")):
                tensors.update(load(path.read_bytes()))  # materialised, like a naive whole-model load
        with PeakRss() as base_write:
            (work / "raw").mkdir()
            names = list(tensors)
            for i in range(0, len(names), 4):
                save_file({n: tensors[n] for n in names[i : i + 4]}, str(work / "raw" / f"part{i}.safetensors"))
        del tensors
        gc.collect()

        model = build_model(model_cfg, ParallelConfig(), params_dtype=torch.bfloat16, initialize=False)
        for param in model.parameters():
            param.data.zero_()  # resident before measuring: the RSS above start is conversion overhead
        with PeakRss() as cj2_import:
            load_hf_weights(model, work / "hf", model_cfg)
        with PeakRss() as cj2_export:
            export_hf(model, work / "export", model_cfg, max_shard_bytes=shard_bytes)
    finally:
        parallel_state.destroy_model_parallel()
        dist.destroy_process_group()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    rows = [("baseline read (whole shards to memory)", base_read), ("cj2 import (load_hf_weights, TP=1)", cj2_import), ("baseline write (save_file)", base_write), ("cj2 export (export_hf)", cj2_export)]
    print(f"{'phase':40s} {'seconds':>8s} {'GB/s':>7s} {'peak RSS above start (GiB)':>27s}")
    for label, m in rows:
        print(f"{label:40s} {m.seconds:8.2f} {total / 1e9 / m.seconds:7.2f} {m.extra_gib:27.2f}")
    print(f"import: {base_read.seconds / cj2_import.seconds:.2f}x the baseline's speed; extra memory {cj2_import.extra_gib:.2f} GiB = {cj2_import.extra_gib / (total / GIB):.2f}x the model (baseline {base_read.extra_gib / (total / GIB):.2f}x), largest shard {largest_shard / GIB:.2f} GiB")
    print(f"export: {base_write.seconds / cj2_export.seconds:.2f}x the baseline's speed, extra memory {cj2_export.extra_gib:.2f} GiB vs largest shard {largest_shard / GIB:.2f} GiB")


if __name__ == "__main__":
    main()
