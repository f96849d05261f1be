"""The layer norm of cj2's local (non Transformer Engine) layer spec.

Megatron's ``WrappedTorchNorm`` refuses sequence parallelism, although nothing about a norm
forbids it: the norm is per token, so under sequence parallelism each TP rank normalises its
slice of the sequence and holds a partial gradient of the (replicated) weight. Tagging the
weight ``sequence_parallel`` makes megatron's ``finalize_model_grads`` all-reduce exactly those
gradients across the TP group, as it does for Transformer Engine's norms.
"""

from __future__ import annotations

import torch


class TorchNorm:
    """``torch.nn.RMSNorm`` / ``LayerNorm`` with megatron's norm constructor signature."""

    def __new__(cls, config, hidden_size: int, eps: float = 1e-5, persist_layer_norm: bool = False, zero_centered_gamma: bool = False, normalization: str = "LayerNorm"):
        if config.layernorm_zero_centered_gamma or config.persist_layer_norm or config.memory_efficient_layer_norm:
            raise ValueError("cj2's torch norm supports neither zero-centred gamma, persist_layer_norm nor memory_efficient_layer_norm")
        norm_classes = {"RMSNorm": torch.nn.RMSNorm, "LayerNorm": torch.nn.LayerNorm}
        if config.normalization not in norm_classes:
            raise ValueError(f"normalization={config.normalization!r}: cj2's torch norm supports {', '.join(norm_classes)}")
        norm = norm_classes[config.normalization](normalized_shape=hidden_size, eps=eps, dtype=config.params_dtype)
        for param in norm.parameters():
            param.sequence_parallel = bool(config.sequence_parallel)
        return norm
