"""``launch/sample.py`` lands here: sample this task's shards, then summarise once all are done.

Locally (``sample.shard_index=null``) one process works through every shard. In a SLURM array
each task gets ``sample.shard_index`` = its array index; whichever task finds every shard done
writes the summary (tasks finishing together write identical files, atomically). With the
megatron engine a task is ``parallel.tp`` processes: TP rank 0 samples and writes, the other
ranks serve its requests.
"""

from __future__ import annotations

import sys
from typing import Any

from omegaconf import DictConfig

from cj2.sample.engines import Engine, build_engine
from cj2.sample.runner import claim_output_dir, sample_shard
from cj2.sample.summary import ShardsPending, format_summary, summarize


def engine_options(cfg: DictConfig) -> dict[str, Any]:
    s = cfg.sample
    if s.engine == "hf":
        return {"model": s.model, "device": s.device, "dtype": s.dtype, "choices": list(s.choices) or None}
    if s.engine == "openai":
        from cj2.sample.server_address import resolve_base_url

        base_url = s.base_url or resolve_base_url(s.base_url_file, s.server_wait_s)
        return {"base_url": base_url, "model": s.model, "concurrency": s.concurrency, "request_timeout_s": s.request_timeout_s, "max_retries": s.max_retries}
    if s.engine != "megatron":  # another registered engine, or the user's own module:Class
        return {"model": s.model}
    from cj2.cluster.env import dist_env

    if dist_env().world_size != cfg.parallel.tp:
        # One TP group per task: data-parallel sampling is the array's job (one shard per task).
        raise ValueError(f"sample.engine=megatron runs one process per TP rank: start {cfg.parallel.tp} processes (torchrun --nproc_per_node {cfg.parallel.tp}), not {dist_env().world_size}")
    return {"model": s.model, "tp": cfg.parallel.tp, "seed": cfg.seed, "collective_timeout_s": cfg.parallel.collective_timeout_s}


class LazyEngine:
    """Builds the engine on first use, so a task whose shards are all done loads no model."""

    def __init__(self, cfg: DictConfig):
        self.cfg = cfg
        self.engine: Engine | None = None

    def __call__(self) -> Engine:
        if self.engine is None:
            self.engine = build_engine(self.cfg.sample.engine, **engine_options(self.cfg))
        return self.engine

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


def run(cfg: DictConfig) -> dict[str, Any] | None:
    s = cfg.sample
    engine = LazyEngine(cfg)
    try:
        if s.engine == "megatron" and engine().rank != 0:
            # Every TP rank must hold its shard of the model from the start; rank 0 drives.
            engine().follow()
            return None
        return sample_and_summarize(s, engine)
    finally:
        engine.close()


def sample_and_summarize(s, engine: LazyEngine) -> dict[str, Any] | None:
    claim_output_dir(s)
    for index in range(s.num_shards) if s.shard_index is None else [s.shard_index]:
        manifest = sample_shard(s, index, engine, progress=s.progress)
        print(f"shard {index}/{s.num_shards}: {manifest['items']} items, {manifest['accepted']} accepted candidates, {manifest['zero_accepted_items']} items with none, {manifest['quarantined']} quarantined rows", file=sys.stderr)
    try:
        summary = summarize(s.output_dir, s.num_shards)
    except ShardsPending as pending:  # other array tasks are still sampling; the last one summarises
        print(pending, file=sys.stderr)
        return None
    print(format_summary(summary))
    return summary
