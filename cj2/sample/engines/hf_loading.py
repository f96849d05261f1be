"""Load a causal LM and its chat tokenizer from a HF checkpoint dir or a single GGUF file."""

from __future__ import annotations

from pathlib import Path


def split_gguf(source: str, gguf_file: str | None = None) -> tuple[str, str | None]:
    """``(directory, gguf file name or None)``: a path ending in .gguf names its own directory."""
    path = Path(source)
    if gguf_file is None and path.suffix == ".gguf":
        return str(path.parent), path.name
    return source, gguf_file


def load_causal_lm(source: str, gguf_file: str | None = None, device: str = "cpu", dtype: str | None = None):
    """``(model, tokenizer)`` in eval mode. GGUF weights are dequantized by transformers (needs ``gguf``)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from cj2.data.packed.tokenizer import load_tokenizer

    directory, gguf_file = split_gguf(source, gguf_file)
    if not Path(directory).is_dir():
        raise FileNotFoundError(f"no model directory at {directory!r}")
    torch_dtype = getattr(torch, dtype) if dtype else None
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=gguf_file, dtype=torch_dtype).to(device).eval()
    if gguf_file:
        tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=gguf_file)
    else:
        tokenizer = load_tokenizer(directory)  # falls back to Qwen2.5's ChatML when the dir has no template
    if tokenizer.chat_template is None:
        raise ValueError(f"the tokenizer of {source!r} has no chat template; judge prompts are chat conversations")
    return model, tokenizer
