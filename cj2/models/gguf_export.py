"""A Hugging Face checkpoint (Qwen2 or Llama family, as cj2 exports it) as one GGUF file.

For llama.cpp-style runtimes (llama.cpp, Ollama, LM Studio, llama-cpp-python): the weights in
F16 or Q8_0 (or F32), with the tokenizer (vocabulary, merges, special tokens) and the chat
template, under llama.cpp's key and tensor names (``gguf``'s own tables). It follows the layout
llama.cpp's ``convert_hf_to_gguf.py`` writes for these architectures:

- 1-D tensors (norms, biases) stay F32; other weights take the file's type. Q8_0 packs rows in
  blocks of 32: a weight whose rows are not a multiple of 32 is written F16 instead (listed).
- Llama's q/k projections are permuted from HF's rotary layout (halves) to GGML's (interleaved
  pairs); Qwen2's are not (llama.cpp runs Qwen2 with NeoX rotary, HF's layout).
- The vocabulary is padded to the model's embedding rows with ``[PAD<i>]`` tokens (unused);
  special added tokens are control tokens, other added tokens user-defined.
- ``tokenizer.ggml.pre`` names the pre-tokenizer by its split regex (as transformers' GGUF
  loader reads it back); an unrecognised one must be named (``tokenizer_pre``).

Tensors are read one at a time from the safetensors files (:class:`cj2.models.hf_io.HFCheckpoint`)
and written as they come, so a 32B model never sits in memory; the file appears atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from cj2.models.hf_io import HFCheckpoint

TYPES = ("f32", "f16", "q8_0")
# HF architecture -> (gguf architecture name, q/k permuted to GGML's rotary layout)
ARCHITECTURES = {"Qwen2ForCausalLM": ("qwen2", False), "LlamaForCausalLM": ("llama", True)}
Q8_BLOCK = 32


class GGUFExportError(ValueError):
    """A checkpoint this exporter cannot write faithfully; the message says why and what to do."""


@dataclass
class ExportSummary:
    path: Path
    type: str
    tensors: int = 0
    bytes: int = 0
    fallbacks: list[str] = field(default_factory=list)  # Q8_0 weights written F16 (rows not a multiple of 32)


def _types():
    import gguf

    T = gguf.GGMLQuantizationType
    F = gguf.LlamaFileType
    return {"f32": (F.ALL_F32, T.F32), "f16": (F.MOSTLY_F16, T.F16), "q8_0": (F.MOSTLY_Q8_0, T.Q8_0)}


def read_config(hf_dir: Path) -> dict:
    path = hf_dir / "config.json"
    if not path.is_file():
        raise GGUFExportError(f"{hf_dir}: no config.json (not a Hugging Face checkpoint directory)")
    config = json.loads(path.read_text())
    architecture = (config.get("architectures") or [None])[0]
    if architecture not in ARCHITECTURES:
        raise GGUFExportError(f"{path}: architecture {architecture!r}; GGUF export supports {', '.join(ARCHITECTURES)}")
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    if rope.get("rope_type", rope.get("type", "default")) != "default":
        raise GGUFExportError(f"{path}: rope scaling {rope!r} is not exported (only plain RoPE)")
    heads, hidden = config["num_attention_heads"], config["hidden_size"]
    if config.get("head_dim", hidden // heads) != hidden // heads:
        raise GGUFExportError(f"{path}: head_dim {config['head_dim']} != hidden_size / num_attention_heads; not exported")
    return config


def rope_theta(config: dict) -> float:
    return float((config.get("rope_parameters") or {}).get("rope_theta", config.get("rope_theta", 10000.0)))


def pre_tokenizer_name(tokenizer) -> str | None:
    """llama.cpp's name for the tokenizer's pre-tokenization (the name transformers' GGUF loader maps back), or None."""
    from transformers.integrations.gguf.gguf_tokenizer_mapping import GGUF_PRE_TOKENIZER_SPLITS

    spec = json.loads(tokenizer.backend_tokenizer.to_str()).get("pre_tokenizer") or {}
    steps = spec.get("pretokenizers", [spec]) if spec.get("type") == "Sequence" else [spec]
    if len(steps) == 1 and steps[0].get("type") == "ByteLevel" and steps[0].get("use_regex", True):
        return "gpt-2"  # GPT-2's own split, inside ByteLevel
    pattern = next((s.get("pattern", {}).get("Regex") for s in steps if s.get("type") == "Split"), None)
    names = {}
    for name, regex in GGUF_PRE_TOKENIZER_SPLITS.items():
        names.setdefault(regex, name)  # the first (llama.cpp's canonical) name of each regex
    return names.get(pattern)


def _add_tokenizer(writer, hf_dir: Path, tokenizer, vocab_size: int, pre: str | None) -> None:
    import gguf

    if json.loads(tokenizer.backend_tokenizer.to_str())["model"]["type"] != "BPE":
        raise GGUFExportError(f"{hf_dir}: only byte-level BPE tokenizers are exported (Qwen2.5, Llama 3, SmolLM2)")
    pre = pre or pre_tokenizer_name(tokenizer)
    if pre is None:
        raise GGUFExportError(f"{hf_dir}: cannot tell llama.cpp's name for this tokenizer's pre-tokenizer; set tokenizer_pre=NAME (e.g. qwen2, llama-bpe, smollm)")
    by_id = {i: token for token, i in tokenizer.get_vocab().items()}
    added = tokenizer.added_tokens_decoder
    if max(by_id) >= vocab_size:
        raise GGUFExportError(f"{hf_dir}: the tokenizer has ids up to {max(by_id)}, the model only {vocab_size} embedding rows")
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in by_id:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            tokens.append(added[i].content)
            types.append(gguf.TokenType.CONTROL if added[i].special else gguf.TokenType.USER_DEFINED)
        else:
            tokens.append(by_id[i])
            types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    special = gguf.SpecialVocab(hf_dir, load_merges=True, n_vocab=vocab_size)
    special.chat_template = None  # the template the tokenizer loads with (cj2's ChatML fallback included) is written below
    special.add_to_gguf(writer, quiet=True)
    if "bos" not in special.add_special_token:  # runtimes differ in their default; say it
        writer.add_add_bos_token(bool(getattr(tokenizer, "add_bos_token", False)))
    if tokenizer.chat_template:
        writer.add_chat_template(tokenizer.chat_template)


def _permute_rotary(weight: np.ndarray, heads: int) -> np.ndarray:
    """HF's rotary layout (each head's first half, then its second half) -> GGML's (interleaved pairs)."""
    return weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:]).swapaxes(1, 2).reshape(weight.shape)


def _tensor_type(gguf_name: str, shape: tuple[int, ...], file_type):
    import gguf

    T = gguf.GGMLQuantizationType
    if len(shape) <= 1 or gguf_name.endswith("_norm.weight") or not gguf_name.endswith(".weight"):
        return T.F32
    if file_type == T.Q8_0 and shape[-1] % Q8_BLOCK:
        return T.F16
    return file_type


def _encode(data: np.ndarray, qtype) -> np.ndarray:
    import gguf

    T = gguf.GGMLQuantizationType
    if qtype == T.F32:
        return data.astype(np.float32)
    if qtype == T.F16:
        return data.astype(np.float16)
    return gguf.quants.quantize(data.astype(np.float32), qtype)


def export_gguf(hf_dir: str | os.PathLike, out_path: str | os.PathLike, type_name: str = "f16", tokenizer_pre: str | None = None, name: str | None = None) -> ExportSummary:
    """Write ``hf_dir`` as the GGUF file ``out_path`` (atomically) in ``type_name`` (f32 | f16 | q8_0)."""
    import gguf

    from cj2.data.packed.tokenizer import load_tokenizer

    if type_name not in TYPES:
        raise GGUFExportError(f"type {type_name!r}: one of {', '.join(TYPES)}")
    hf_dir, out_path = Path(hf_dir), Path(out_path)
    config = read_config(hf_dir)
    arch_name, permute = ARCHITECTURES[config["architectures"][0]]
    arch = next(a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == arch_name)
    file_type, qtype = _types()[type_name]
    n_layers, heads = config["num_hidden_layers"], config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", heads)
    names = gguf.get_tensor_name_map(arch, n_layers)
    checkpoint = HFCheckpoint.scan(hf_dir)

    plan = []  # (hf name, gguf name, ggml type)
    for hf_name, info in checkpoint.tensors.items():
        if hf_name.endswith("rotary_emb.inv_freq"):
            continue
        gguf_name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise GGUFExportError(f"{hf_dir}: tensor {hf_name} has no GGUF name for {arch_name}")
        plan.append((hf_name, gguf_name, _tensor_type(gguf_name, info.shape, qtype)))

    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent)
    os.close(fd)
    summary = ExportSummary(out_path, type_name)
    try:
        writer = gguf.GGUFWriter(tmp, arch_name)
        writer.add_name(name or hf_dir.name)
        writer.add_block_count(n_layers)
        writer.add_context_length(config["max_position_embeddings"])
        writer.add_embedding_length(config["hidden_size"])
        writer.add_feed_forward_length(config["intermediate_size"])
        writer.add_head_count(heads)
        writer.add_head_count_kv(kv_heads)
        writer.add_rope_freq_base(rope_theta(config))
        writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
        if arch_name == "llama":
            writer.add_vocab_size(config["vocab_size"])
            writer.add_rope_dimension_count(config["hidden_size"] // heads)
        writer.add_file_type(file_type)
        writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        _add_tokenizer(writer, hf_dir, load_tokenizer(str(hf_dir)), config["vocab_size"], tokenizer_pre)
        for hf_name, gguf_name, tensor_type in plan:
            shape = checkpoint.tensors[hf_name].shape
            nbytes = int(np.prod(gguf.quant_shape_to_byte_shape(shape, tensor_type)))
            byte_shape = gguf.quant_shape_to_byte_shape(shape, tensor_type) if tensor_type == gguf.GGMLQuantizationType.Q8_0 else shape
            dtype = {gguf.GGMLQuantizationType.F32: np.float32, gguf.GGMLQuantizationType.F16: np.float16}.get(tensor_type, np.uint8)
            writer.add_tensor_info(gguf_name, byte_shape, np.dtype(dtype), nbytes, raw_dtype=tensor_type if dtype is np.uint8 else None)
            if qtype == gguf.GGMLQuantizationType.Q8_0 and tensor_type == gguf.GGMLQuantizationType.F16:
                summary.fallbacks.append(gguf_name)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for hf_name, gguf_name, tensor_type in plan:
            data = checkpoint.read_rows(hf_name, 0, checkpoint.tensors[hf_name].shape[0]).to(torch.float32).numpy()
            if permute and gguf_name.split(".")[-2] in ("attn_q", "attn_k"):
                data = _permute_rotary(data, heads if ".attn_q." in gguf_name else kv_heads)
            encoded = _encode(data, tensor_type)
            writer.write_tensor_data(encoded)
            summary.tensors += 1
            summary.bytes += encoded.nbytes
        writer.close()
        os.replace(tmp, out_path)
    finally:
        checkpoint.close()
        if os.path.exists(tmp):
            os.unlink(tmp)
    return summary


PROBE = [{"role": "user", "content": "Which response answers better? Question: what is 17 + 25? A: 42. B: I cannot say."}]


def logit_error(hf_dir: str | os.PathLike, gguf_path: str | os.PathLike, messages: list[dict] | None = None) -> dict[str, float]:
    """The GGUF file's logits against the source checkpoint's on one chat prompt (transformers loads both, float32)."""
    from cj2.sample.engines.hf_loading import load_causal_lm

    source, tokenizer = load_causal_lm(str(hf_dir), dtype="float32")
    text = tokenizer.apply_chat_template(messages or PROBE, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids
    with torch.inference_mode():
        expected = source(ids).logits[0]
        del source
        exported, _ = load_causal_lm(str(gguf_path), dtype="float32")
        got = exported(ids).logits[0]
    diff = got - expected
    return {"max_abs": diff.abs().max().item(), "rms": diff.pow(2).mean().sqrt().item(), "argmax_agreement": (got.argmax(-1) == expected.argmax(-1)).float().mean().item()}
