"""What a config will do, before it does it: layout, per-GPU memory, steps, tokens.

The memory model counts, per GPU of the most loaded pipeline stage:
- weights (bf16, 2 B/param) and gradients (fp32 main grads, 4 B/param) of its parameter shard;
- Adam state: fp32 master weights + two moments (12 B/param), divided by DP with the
  distributed optimizer;
- activations per transformer layer, counted tensor by tensor for this decoder (bf16, flash/
  varlen attention, so no S x S scores; no dropout masks): the inputs of both norms and of the
  qkv and fc1 matmuls (4 x 2sbh), q/k/v (2sb(h + 2kv)), the attention output (2sbh), and
  SwiGLU's gate+up output and its product (4sbf + 2sbf): s*b*(12h + 4kv + 6f) bytes. With
  sequence parallelism everything is split over t; without it the norm and matmul inputs are
  whole. Selective recompute drops the attention output (recomputed from q/k/v); full
  recompute keeps only each layer's input plus one layer's activations during its backward.
  1F1B keeps ``pp`` micro-batches in flight on the first stage;
- the output layer's fp32 logits and their gradient (2 x n x V/t x 4 B) on the last stage, where n
  is the positions whose logits training computes (cj2.train.selected_logits: learned tokens and
  verdicts, about a quarter of a judge row): the built data's busiest micro-batch when the data is
  built (:func:`logit_positions_of_build`), else the whole micro-batch (s*b, an upper bound);
- a fixed allowance for the CUDA context, allocator fragmentation and communication buffers.

Host memory per node (:func:`host_memory_plan`): a checkpoint save stages each rank's share of the
checkpoint in host RAM before writing it (torch_dist's writer, megatron ``filesystem_async``).
Import-light on purpose (no torch): ``dry_run`` and validation use it on a login node.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

GIB = 1024**3
OVERHEAD_GIB = 4.0


def parameter_count(model) -> int:
    """Exact parameter count of a Qwen2/Llama decoder with the given shape."""
    h, f, v = model.hidden_size, model.ffn_hidden_size, model.vocab_size
    d = h // model.num_attention_heads
    kv = model.num_query_groups * d
    attn = h * h + 2 * h * kv + h * h + ((h + 2 * kv) if model.qkv_bias else 0)
    mlp = 3 * h * f
    norms = 2 * h
    per_layer = attn + mlp + norms
    embed = v * h * (1 if model.tie_word_embeddings else 2)
    return model.num_layers * per_layer + embed + h


@dataclass
class MemoryPlan:
    params_per_gpu: float
    weights_gib: float
    grads_gib: float
    optimizer_gib: float
    activations_gib: float
    logits_gib: float
    overhead_gib: float

    @property
    def total_gib(self) -> float:
        return self.weights_gib + self.grads_gib + self.optimizer_gib + self.activations_gib + self.logits_gib + self.overhead_gib

    def as_dict(self) -> dict[str, float]:
        out = {k: round(v, 2) for k, v in self.__dict__.items()}
        out["total_gib"] = round(self.total_gib, 2)
        return out


def memory_plan(cfg, on_gpu: bool = True, logit_positions: int | None = None) -> MemoryPlan:
    """Per-GPU memory of ``cfg``. ``logit_positions``: the positions of one micro-batch whose logits
    the step computes (None: all ``seq_length x micro_batch_size``)."""
    m, p = cfg.model, cfg.parallel
    s, b, h, v = cfg.data.seq_length, p.micro_batch_size, m.hidden_size, m.vocab_size
    t, pp, dp = p.tp, p.pp, p.dp
    n = parameter_count(m)
    embed = v * h
    # The first stage holds the embedding; the last holds the output layer (if untied).
    body = (n - embed * (1 if m.tie_word_embeddings else 2)) / pp
    # PP>1: the first stage holds the embedding, the last the output layer (the larger of the
    # two stages is counted). PP=1: one stage holds both unless they are tied.
    stage_params = body + embed * (2 if pp == 1 and not m.tie_word_embeddings else 1)
    params = stage_params / t
    bytes_weight = 2 if (cfg.train.precision == "bf16") else 4
    weights = params * bytes_weight
    grads = params * 4
    optimizer = params * 12 / (dp if p.use_distributed_optimizer else 1)
    layers = m.num_layers // pp
    kv = h // m.num_attention_heads * m.num_query_groups
    f = m.ffn_hidden_size
    sharded = s * b * (2 * h + 4 * kv + 2 * h + 6 * f)  # q/k/v, attention output, SwiGLU: split over t
    whole = s * b * 8 * h  # norm and matmul inputs: split over t only with SP
    full_layer = (sharded + whole) / t if p.sp else sharded / t + whole
    attention_output = 2 * s * b * h / t
    kept_input = 2 * s * b * h / (t if p.sp else 1)
    in_flight = pp  # 1F1B: the first stage keeps pp micro-batches' activations
    if p.recompute == "full":
        activations = layers * kept_input * in_flight + full_layer
    elif p.recompute == "selective":
        activations = layers * (full_layer - attention_output) * in_flight + attention_output
    else:
        activations = layers * full_layer * in_flight
    logits = 2 * (s * b if logit_positions is None else min(logit_positions, s * b)) * v / t * 4
    return MemoryPlan(
        params_per_gpu=params,
        weights_gib=weights / GIB,
        grads_gib=grads / GIB,
        optimizer_gib=optimizer / GIB,
        activations_gib=activations / GIB,
        logits_gib=logits / GIB,
        overhead_gib=OVERHEAD_GIB if on_gpu else 0.0,
    )


def logit_positions_of_build(cfg) -> int | None:
    """The most logit positions one micro-batch of the built training split needs: the
    ``micro_batch_size`` rows with the most learned tokens and verdicts (what
    cj2.data.packed.stream.collate selects; a verdict whose token is learned counts twice, a bound a few
    positions high); None when the split is not built."""
    train = Path(cfg.data.output_dir) / "train"
    if not (train / "index.json").is_file():
        return None
    import numpy as np
    from safetensors import safe_open

    per_row = []
    for shard in json.loads((train / "index.json").read_text())["shards"]:
        with safe_open(str(train / shard["file"]), framework="np") as f:
            rows = f.get_tensor("sample_row")
            needed = f.get_tensor("sample_loss_tokens").astype(np.int64) + (f.get_tensor("sample_verdict") >= 0)
            per_row.append(np.bincount(rows, weights=needed, minlength=shard["rows"]))
    if not per_row:  # a split without rows
        return None
    busiest = np.sort(np.concatenate(per_row))[-cfg.parallel.micro_batch_size :]
    return int(busiest.sum())


# Host RAM of one rank's process besides the checkpoint it stages: torch, megatron and the CUDA
# context's host side, pinned micro-batches, the data index. An estimate (reviewers saw 5-8 GB).
PROCESS_HOST_GIB = 8.0


@dataclass
class HostMemoryPlan:
    ranks_per_node: int
    checkpoint_staging_gib_per_rank: float
    process_gib_per_rank: float

    @property
    def total_gib(self) -> float:
        return self.ranks_per_node * (self.checkpoint_staging_gib_per_rank + self.process_gib_per_rank)

    def as_dict(self) -> dict[str, float]:
        return {**{k: round(v, 2) for k, v in self.__dict__.items()}, "total_gib": round(self.total_gib, 1)}


def host_memory_plan(cfg) -> HostMemoryPlan:
    """Host RAM one node needs at a checkpoint save: every rank stages its share of the checkpoint
    (bf16 weights, fp32 master weights and Adam moments; the fully parallel save splits it over all
    ranks) in host memory before writing, on top of its process."""
    p, c = cfg.parallel, cfg.cluster
    world = p.tp * p.pp * p.dp
    share = parameter_count(cfg.model) * CHECKPOINT_BYTES_PER_PARAM / world / GIB
    return HostMemoryPlan(math.ceil(world / c.nodes), share, PROCESS_HOST_GIB)


def requested_host_memory(mem_gb) -> str:
    if mem_gb is None:
        return "the partition's default (cluster.mem_gb=null)"
    return "all of each node's memory (cluster.mem_gb=0, --mem=0)" if mem_gb == 0 else f"{mem_gb} GB per node"


def samples_per_row(cfg) -> float | None:
    """Judge samples per packed row of the built training split; None when it is not built."""
    index = Path(cfg.data.output_dir) / "train" / "index.json"
    if not index.is_file():
        return None
    stats = json.loads(index.read_text())["stats"]
    return stats["samples_packed"] / stats["rows"] if stats["rows"] else None


def global_batch_rows(cfg, per_row: float | None = None) -> int:
    """Packed rows per optimizer step: ``parallel.global_batch_size``, or ``parallel.global_batch_samples``
    judge samples over the build's samples per row (``per_row``, else read from the build), rounded to a
    multiple of micro_batch_size x dp (at least one). The samples setting needs the build (a ValueError says so)."""
    p = cfg.parallel
    if p.global_batch_samples is None:
        return p.global_batch_size
    per_row = per_row or samples_per_row(cfg)
    if per_row is None:
        raise ValueError(f"parallel.global_batch_samples={p.global_batch_samples} counts judge samples, converted to packed rows with the build's "
                         f"samples per row: build the data first ({cfg.data.output_dir}), or set parallel.global_batch_samples=null to count rows")
    unit = p.micro_batch_size * p.dp
    return max(unit, round(p.global_batch_samples / per_row / unit) * unit)


def batch_plan(cfg) -> dict[str, object]:
    """The global batch in both units: packed rows (what a step reads) and judge samples (what papers count)."""
    p = cfg.parallel
    per_row = samples_per_row(cfg)
    if p.global_batch_samples is not None and per_row is None:
        return {"rows": p.global_batch_size, "samples": p.global_batch_samples, "set_in": "samples (parallel.global_batch_samples)",
                "samples_per_row": "unknown until the data is built: the rows are derived from it then; until then the plan assumes parallel.global_batch_size rows"}
    rows = global_batch_rows(cfg, per_row)
    return {"rows": rows, "samples": round(rows * per_row) if per_row else "unknown until the data is built",
            "set_in": "samples (parallel.global_batch_samples)" if p.global_batch_samples is not None else "packed rows (parallel.global_batch_size)",
            "samples_per_row": round(per_row, 2) if per_row else "unknown until the data is built"}


def run_plan(cfg, dataset_tokens: int | None = None) -> dict[str, object]:
    """The facts a user checks before submitting: world size, layout, memory, steps, tokens."""
    p, c = cfg.parallel, cfg.cluster
    world = p.tp * p.pp * p.dp
    batch = batch_plan(cfg)
    tokens_per_step = batch["rows"] * cfg.data.seq_length
    steps: int | None = cfg.train.max_steps
    if steps is None and dataset_tokens is not None:
        steps = max(1, cfg.train.epochs * dataset_tokens // tokens_per_step)
    positions = logit_positions_of_build(cfg)
    mem = memory_plan(cfg, on_gpu=c.gpus_per_node > 0, logit_positions=positions)
    return {
        "model": f"{cfg.model.name} ({parameter_count(cfg.model) / 1e9:.2f}B parameters)",
        "world_size": world,
        "layout": f"TP{p.tp} x PP{p.pp} x DP{p.dp}" + (" + SP" if p.sp else ""),
        "where": f"{c.kind}: {c.nodes} node(s) x {c.gpus_per_node or c.nproc} {'GPU' if c.gpus_per_node else 'CPU process'}(es)",
        "global_batch": batch,
        "micro_batches_per_step": batch["rows"] // max(1, p.micro_batch_size * p.dp),
        "tokens_per_step": tokens_per_step,
        "steps": steps if steps is not None else "one pass over the built data (unknown until data is built)",
        "total_tokens": steps * tokens_per_step if isinstance(steps, int) else "unknown",
        "memory_per_gpu_gib": mem.as_dict(),
        "logit_positions_per_micro_batch": f"{positions} (the built data's busiest micro-batch)" if positions is not None else f"{p.micro_batch_size * cfg.data.seq_length} (the whole micro-batch: no data built yet, an upper bound)",
        "gpu_memory_gib": c.gpu_memory_gb if c.gpus_per_node else None,
        "fits": (mem.total_gib <= c.gpu_memory_gb) if c.gpus_per_node else True,
        "host_memory_per_node_gib": host_memory_plan(cfg).as_dict(),
        "host_memory_requested": requested_host_memory(c.mem_gb),
    }


# For the preemption lead-time check only: a deliberately modest utilisation, so the estimate
# errs towards a longer step (Megatron reaches 41-48% MFU on H100 with TE).
ASSUMED_MFU = 0.35
# Checkpoint bytes per parameter: bf16 weights + fp32 master weights + two fp32 Adam moments.
CHECKPOINT_BYTES_PER_PARAM = 2 + 12


def step_seconds(cfg) -> float:
    """A conservative estimate of one optimizer step on GPUs (full-row attention, all logits)."""
    m, p = cfg.model, cfg.parallel
    tokens = p.global_batch_size * cfg.data.seq_length
    flops = 6.0 * parameter_count(m) * tokens + 12.0 * m.num_layers * m.hidden_size * cfg.data.seq_length * tokens
    devices = p.tp * p.pp * p.dp
    return flops / (devices * cfg.train.peak_tflops * 1e12 * ASSUMED_MFU)


def save_seconds(cfg) -> float:
    """Writing one checkpoint (weights + optimizer), every node writing its share in parallel."""
    total_bytes = parameter_count(cfg.model) * CHECKPOINT_BYTES_PER_PARAM
    return total_bytes / (cfg.cluster.nodes * cfg.cluster.checkpoint_write_gbps * 1e9)
