"""HF ``config.json`` <-> cj2 ``ModelConfig``: read, compare, write.

Import-light (json only): the checks run before anything heavy is imported or submitted.
Accepts both the classic layout (``rope_theta`` at top level, transformers 4.x and the
published Qwen2.5 files) and transformers 5.x's ``rope_parameters``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from cj2.config.schema import ModelConfig

FAMILY_OF_MODEL_TYPE = {"qwen2": "qwen2", "llama": "llama"}
ARCHITECTURE_OF_FAMILY = {"qwen2": "Qwen2ForCausalLM", "llama": "LlamaForCausalLM"}
# cj2 ModelConfig field -> HF config.json key
HF_KEY = {
    "num_layers": "num_hidden_layers",
    "hidden_size": "hidden_size",
    "ffn_hidden_size": "intermediate_size",
    "num_attention_heads": "num_attention_heads",
    "num_query_groups": "num_key_value_heads",
    "vocab_size": "vocab_size",
    "max_position_embeddings": "max_position_embeddings",
    "rope_theta": "rope_theta",
    "rms_norm_eps": "rms_norm_eps",
    "qkv_bias": "attention_bias",
    "tie_word_embeddings": "tie_word_embeddings",
    "family": "model_type",
}
# Fields whose mismatch changes tensor shapes or the forward: checkpoint and config must agree.
CHECKED_FIELDS = ("family", "num_layers", "hidden_size", "ffn_hidden_size", "num_attention_heads", "num_query_groups", "vocab_size", "rope_theta", "rms_norm_eps", "qkv_bias", "tie_word_embeddings")


class HFConfigError(ValueError):
    """A HF config cj2 cannot represent, or one that disagrees with the cj2 model config."""


def read_hf_config(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """A config.json as a dict, from a dict, a config.json path or a checkpoint directory."""
    if isinstance(source, Mapping):
        return dict(source)
    path = Path(source)
    if path.is_dir():
        path = path / "config.json"
    if not path.is_file():
        raise HFConfigError(f"{path}: no config.json (is this a Hugging Face checkpoint directory?)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise HFConfigError(f"{path}: not valid JSON ({e})") from e


def _rope_theta(hf: Mapping[str, Any], where: str) -> float:
    rope = hf.get("rope_parameters") or hf.get("rope_scaling") or {}
    rope_type = rope.get("rope_type", rope.get("type", "default"))
    if rope_type != "default":
        raise HFConfigError(f"{where}: rope type {rope_type!r} is not supported (cj2 builds plain RoPE); field rope_parameters/rope_scaling")
    theta = hf.get("rope_theta", rope.get("rope_theta"))
    if theta is None:
        raise HFConfigError(f"{where}: no rope_theta (neither top-level nor in rope_parameters)")
    return float(theta)


def model_config_from_hf(source: str | Path | Mapping[str, Any], name: str = "") -> ModelConfig:
    """The cj2 ``ModelConfig`` of a HF Qwen2/Llama checkpoint; unsupported features are errors."""
    where = str(source) if not isinstance(source, Mapping) else "config.json"
    hf = read_hf_config(source)
    model_type = hf.get("model_type")
    if model_type not in FAMILY_OF_MODEL_TYPE:
        raise HFConfigError(f"{where}: model_type {model_type!r} is not supported; cj2 converts {', '.join(FAMILY_OF_MODEL_TYPE)}")
    family = FAMILY_OF_MODEL_TYPE[model_type]
    missing = [key for key in ("num_hidden_layers", "hidden_size", "intermediate_size", "num_attention_heads", "vocab_size") if key not in hf]
    if missing:
        raise HFConfigError(f"{where}: missing field(s) {', '.join(missing)}")
    if hf.get("hidden_act", "silu") != "silu":
        raise HFConfigError(f"{where}: hidden_act {hf['hidden_act']!r} is not supported (SwiGLU needs silu)")
    heads = hf["num_attention_heads"]
    head_dim = hf.get("head_dim") or hf["hidden_size"] // heads
    if head_dim * heads != hf["hidden_size"]:
        raise HFConfigError(f"{where}: head_dim={head_dim} x num_attention_heads={heads} != hidden_size={hf['hidden_size']}; a decoupled head_dim is not supported")
    if family == "llama" and hf.get("mlp_bias"):
        raise HFConfigError(f"{where}: mlp_bias=true is not supported")
    if family == "qwen2" and hf.get("use_sliding_window"):
        raise HFConfigError(f"{where}: use_sliding_window=true is not supported (cj2 uses full attention)")
    qkv_bias = True if family == "qwen2" else bool(hf.get("attention_bias", False))
    if family == "llama" and qkv_bias:
        raise HFConfigError(f"{where}: attention_bias=true (bias on o_proj too) is not supported for llama")
    return ModelConfig(
        name=name or hf.get("_name_or_path") or model_type,
        family=family,
        num_layers=hf["num_hidden_layers"],
        hidden_size=hf["hidden_size"],
        ffn_hidden_size=hf["intermediate_size"],
        num_attention_heads=heads,
        num_query_groups=hf.get("num_key_value_heads") or heads,
        vocab_size=hf["vocab_size"],
        max_position_embeddings=hf.get("max_position_embeddings", 32768),
        rope_theta=_rope_theta(hf, where),
        rms_norm_eps=float(hf.get("rms_norm_eps", 1e-6)),
        qkv_bias=qkv_bias,
        tie_word_embeddings=bool(hf.get("tie_word_embeddings", False)),
        init_method_std=float(hf.get("initializer_range", 0.02)),
    )


def config_mismatches(checkpoint_cfg: Any, model_cfg: Any, checkpoint_keys: Mapping[str, str] = HF_KEY) -> list[str]:
    """One line per field where a checkpoint's architecture differs from the cj2 config.

    ``checkpoint_keys`` names the fields as the checkpoint spells them (HF config.json keys).
    """
    lines = []
    for key in CHECKED_FIELDS:
        theirs, ours = getattr(checkpoint_cfg, key), getattr(model_cfg, key)
        if theirs != ours:
            lines.append(f"model.{key}={ours!r} but the checkpoint has {checkpoint_keys.get(key, key)}={theirs!r}")
    return lines


def check_hf_config(source: str | Path | Mapping[str, Any], model_cfg: Any) -> ModelConfig:
    """Raise :class:`HFConfigError` listing every mismatch between a HF checkpoint and ``model_cfg``."""
    where = str(source) if not isinstance(source, Mapping) else "config.json"
    hf_model_cfg = model_config_from_hf(source)
    lines = config_mismatches(hf_model_cfg, model_cfg)
    if lines:
        listing = "\n".join(f"  - {line}" for line in lines)
        raise HFConfigError(f"{where} does not match the model config ({len(lines)} mismatch(es)):\n{listing}\n"
                            f"  fix: pick the model preset of this checkpoint (e.g. model=qwen2.5-7b) or override the listed fields")
    return hf_model_cfg


def hf_config_dict(model_cfg: Any, dtype_name: str, special_tokens: Mapping[str, Any]) -> dict[str, Any]:
    """A config.json for ``model_cfg`` that transformers 4.x and 5.x both read."""
    heads = model_cfg.num_attention_heads
    config = {
        "architectures": [ARCHITECTURE_OF_FAMILY[model_cfg.family]],
        "model_type": model_cfg.family,
        "hidden_act": "silu",
        "hidden_size": model_cfg.hidden_size,
        "intermediate_size": model_cfg.ffn_hidden_size,
        "num_hidden_layers": model_cfg.num_layers,
        "num_attention_heads": heads,
        "num_key_value_heads": model_cfg.num_query_groups,
        "head_dim": model_cfg.hidden_size // heads,
        "vocab_size": model_cfg.vocab_size,
        "max_position_embeddings": model_cfg.max_position_embeddings,
        "rms_norm_eps": model_cfg.rms_norm_eps,
        "rope_theta": model_cfg.rope_theta,
        "rope_parameters": {"rope_type": "default", "rope_theta": model_cfg.rope_theta},
        "tie_word_embeddings": bool(model_cfg.tie_word_embeddings),
        "attention_dropout": 0.0,
        "initializer_range": model_cfg.init_method_std,
        "use_cache": True,
        "torch_dtype": dtype_name,
        "dtype": dtype_name,
        **special_tokens,
    }
    if model_cfg.family == "qwen2":
        config.update(use_sliding_window=False, sliding_window=None, max_window_layers=model_cfg.num_layers)
    else:
        config.update(attention_bias=False, mlp_bias=False)
    return config


def model_config_dict(model_cfg: Any) -> dict[str, Any]:
    """A plain dict of a ModelConfig (dataclass or DictConfig), for checkpoint metadata."""
    return {f.name: getattr(model_cfg, f.name) for f in fields(ModelConfig)}
