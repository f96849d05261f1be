"""Throughput and model FLOPs utilisation (MFU) of a training step.

FLOPs are counted for the work the step really does: 6 x (transformer matmul parameters) per
real token; the output layer only at the positions whose logits a loss needs (cj2 computes no
others, cj2.train.selected_logits); and attention over the packed samples' own lengths
(causal attention inside each sample, counted like Megatron's full-sequence formula,
12 x layers x hidden per (query, key) pair, but over sum(length^2) instead of rows x S^2).
Padding is not model work and is not counted.
"""

from __future__ import annotations


def transformer_matmul_params(model_cfg) -> int:
    h, ffn = model_cfg.hidden_size, model_cfg.ffn_hidden_size
    kv = h // model_cfg.num_attention_heads * model_cfg.num_query_groups
    return model_cfg.num_layers * (h * (h + 2 * kv) + h * h + 3 * h * ffn)


def step_flops(model_cfg, real_tokens: int, logit_tokens: int, attention_pairs: int) -> float:
    """Forward + backward FLOPs of one step over ``real_tokens`` tokens."""
    h, layers, vocab = model_cfg.hidden_size, model_cfg.num_layers, model_cfg.vocab_size
    return (
        6.0 * transformer_matmul_params(model_cfg) * real_tokens
        + 6.0 * h * vocab * logit_tokens
        + 12.0 * layers * h * attention_pairs
    )


def mfu(flops: float, seconds: float, devices: int, peak_tflops: float) -> float:
    """Achieved over peak: ``peak_tflops`` per device is the dense bf16 figure (H100 SXM: 989)."""
    return flops / (seconds * devices * peak_tflops * 1e12)
