"""Megatron-core Qwen2/Llama models and Hugging Face checkpoint conversion.

Names are resolved lazily so that ``import cj2.models`` never pulls in torch or megatron on the
config/submit path; ``from cj2.models import build_model`` imports what it needs.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "build_model": "cj2.models.build",
    "transformer_config": "cj2.models.build",
    "load_hf_weights": "cj2.models.hf_io",
    "export_hf": "cj2.models.hf_io",
    "model_config_from_hf": "cj2.models.hf_config",
    "check_hf_config": "cj2.models.hf_config",
    "save_checkpoint": "cj2.models.checkpoint",
    "load_checkpoint": "cj2.models.checkpoint",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'cj2.models' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
