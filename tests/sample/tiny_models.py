"""Real small models for the engine tests: a random tiny Qwen2 and SmolLM2-135M-Instruct."""

from __future__ import annotations

import json
from pathlib import Path

TINY_QWEN2 = dict(vocab_size=151936, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True, max_position_embeddings=4096)
# For vLLM's CPU backend: its attention kernels reject head_dim 16 (64 / 4 heads) with HTTP 500 on the
# first request ("Unsupported CPU attention configuration"), so this variant has head_dim 32.
TINY_QWEN2_VLLM = dict(hidden_size=128, intermediate_size=256)
QWEN_EOS, QWEN_PAD = 151645, 151643


def build_tiny_qwen2(out_dir: Path, seed: int = 0, **overrides) -> Path:
    """A random 2-layer Qwen2 with the real Qwen2.5 tokenizer, saved as a HF dir; ``overrides`` change TINY_QWEN2."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from cj2.data.packed.tokenizer import load_tokenizer

    torch.manual_seed(seed)
    config = Qwen2Config(**{**TINY_QWEN2, **overrides}, eos_token_id=QWEN_EOS, pad_token_id=QWEN_PAD, bos_token_id=None)
    model = Qwen2ForCausalLM(config)
    # Without do_sample in the checkpoint, `transformers serve` samples greedily whatever the request says.
    model.generation_config.do_sample = True
    model.generation_config.eos_token_id = QWEN_EOS
    model.generation_config.pad_token_id = QWEN_PAD
    model.save_pretrained(out_dir)
    load_tokenizer("qwen2.5").save_pretrained(out_dir)
    assert json.loads((Path(out_dir) / "generation_config.json").read_text())["do_sample"] is True
    return Path(out_dir)
