"""Random-init tiny HF Qwen2/Llama checkpoints built with transformers itself (the reference)."""

from __future__ import annotations

from pathlib import Path

import torch

VOCAB = 256
SEQ = 12


def tiny_hf_model(family: str, tied: bool, seed: int = 0, vocab_size: int = VOCAB, hidden_size: int = 64):
    """A 2-layer GQA model whose every tensor (biases and norms included) is random."""
    from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

    common = dict(vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6, tie_word_embeddings=tied)
    if family == "qwen2":
        config, cls = Qwen2Config(rope_theta=1_000_000.0, **common), Qwen2ForCausalLM
    else:
        config, cls = LlamaConfig(rope_theta=500_000.0, **common), LlamaForCausalLM
    torch.manual_seed(seed)
    model = cls(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            # Norm weights near 1, everything else (zero-initialised biases too) random.
            param.copy_(1 + 0.1 * torch.randn_like(param) if "norm" in name else 0.2 * torch.randn_like(param))
    return model


def save_tiny(model, out_dir: Path, max_shard_size: str = "50KB") -> Path:
    """save_pretrained as sharded safetensors (with an index), plus a generation config."""
    model.save_pretrained(str(out_dir), max_shard_size=max_shard_size)
    return out_dir


def reference_logits(model, input_ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=input_ids).logits
