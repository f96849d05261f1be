"""Throughput and model FLOPs utilisation (MFU)."""

from __future__ import annotations


def flops_per_token(model_cfg, seq_length: int) -> float:
    """Training FLOPs per token: 6 x matmul parameters + 12 x layers x hidden x seq (attention).

    The attention term assumes every token attends to a full row; with packing each token
    only attends inside its sample, so MFU is slightly overstated there (documented).
    """
    h, layers, ffn, vocab = model_cfg.hidden_size, model_cfg.num_layers, model_cfg.ffn_hidden_size, model_cfg.vocab_size
    kv = h // model_cfg.num_attention_heads * model_cfg.num_query_groups
    per_layer = h * (h + 2 * kv) + h * h + 3 * h * ffn
    matmul_params = layers * per_layer + h * vocab
    return 6.0 * matmul_params + 12.0 * layers * h * seq_length


def mfu(tokens_per_s: float, model_cfg, seq_length: int, devices: int, peak_tflops: float) -> float:
    return tokens_per_s * flops_per_token(model_cfg, seq_length) / (devices * peak_tflops * 1e12)
