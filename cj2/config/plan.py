"""What a config will do, before it does it: layout, per-GPU memory, steps, tokens.

The memory model counts, per GPU of the most loaded pipeline stage:
- weights (bf16, 2 B/param) and gradients (fp32 main grads, 4 B/param) of its parameter shard;
- Adam state: fp32 master weights + two moments (12 B/param), divided by DP with the
  distributed optimizer;
- activations per transformer layer, after Korthikanti et al. 2022 ("Reducing Activation
  Recomputation"), with flash/SDPA attention (no S x S score matrix kept): s*b*h*34/t bytes
  with sequence parallelism, s*b*h*(10 + 24/t) without; with full recomputation only each
  layer's input (2*s*b*h/t with SP) is kept, plus one layer's full activations during its
  backward. 1F1B keeps ``pp`` micro-batches in flight on the first stage;
- the output layer's fp32 logits and their gradient (2 x s*b*V/t x 4 B) on the last stage;
- a fixed allowance for the CUDA context, allocator fragmentation and communication buffers.
Import-light on purpose (no torch): ``dry_run`` and validation use it on a login node.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def memory_plan(cfg, on_gpu: bool = True) -> MemoryPlan:
    m, p = cfg.model, cfg.parallel
    s, b, h, v = cfg.data.seq_length, p.micro_batch_size, m.hidden_size, m.vocab_size
    t, pp, dp = p.tp, p.pp, p.dp
    n = parameter_count(m)
    embed = v * h
    # The first stage holds the embedding; the last holds the output layer (if untied).
    body = (n - embed * (1 if m.tie_word_embeddings else 2)) / pp
    stage_params = body + embed
    params = stage_params / t
    bytes_weight = 2 if (cfg.train.precision == "bf16") else 4
    weights = params * bytes_weight
    grads = params * 4
    optimizer = params * 12 / (dp if p.use_distributed_optimizer else 1)
    layers = m.num_layers // pp
    if p.sp:
        full_layer = s * b * h * 34 / t
        kept_input = 2 * s * b * h / t
    else:
        full_layer = s * b * h * (10 + 24 / t)
        kept_input = 2 * s * b * h
    in_flight = pp  # 1F1B: the first stage keeps pp micro-batches' activations
    if p.recompute:
        activations = layers * kept_input * in_flight + full_layer
    else:
        activations = layers * full_layer * in_flight
    logits = 2 * s * b * v / t * 4
    return MemoryPlan(
        params_per_gpu=params,
        weights_gib=weights / GIB,
        grads_gib=grads / GIB,
        optimizer_gib=optimizer / GIB,
        activations_gib=activations / GIB,
        logits_gib=logits / GIB,
        overhead_gib=OVERHEAD_GIB if on_gpu else 0.0,
    )


def run_plan(cfg, dataset_tokens: int | None = None) -> dict[str, object]:
    """The facts a user checks before submitting: world size, layout, memory, steps, tokens."""
    p, c = cfg.parallel, cfg.cluster
    world = p.tp * p.pp * p.dp
    tokens_per_step = p.global_batch_size * cfg.data.seq_length
    steps: int | None = cfg.train.max_steps
    if steps is None and dataset_tokens is not None:
        steps = max(1, cfg.train.epochs * dataset_tokens // tokens_per_step)
    mem = memory_plan(cfg, on_gpu=c.gpus_per_node > 0)
    return {
        "model": f"{cfg.model.name} ({parameter_count(cfg.model) / 1e9:.2f}B parameters)",
        "world_size": world,
        "layout": f"TP{p.tp} x PP{p.pp} x DP{p.dp}" + (" + SP" if p.sp else ""),
        "where": f"{c.kind}: {c.nodes} node(s) x {c.gpus_per_node or c.nproc} {'GPU' if c.gpus_per_node else 'CPU process'}(es)",
        "micro_batches_per_step": p.global_batch_size // max(1, p.micro_batch_size * p.dp),
        "tokens_per_step": tokens_per_step,
        "steps": steps if steps is not None else "one pass over the built data (unknown until data is built)",
        "total_tokens": steps * tokens_per_step if isinstance(steps, int) else "unknown",
        "memory_per_gpu_gib": mem.as_dict(),
        "gpu_memory_gib": c.gpu_memory_gb if c.gpus_per_node else None,
        "fits": (mem.total_gib <= c.gpu_memory_gb) if c.gpus_per_node else True,
    }
