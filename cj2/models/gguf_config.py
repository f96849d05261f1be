"""The GGUF exporter's config and run (``launch/export_gguf.py``, ``conf/export_gguf.yaml``).

Import-light (dataclasses, omegaconf): registered before Hydra composes the config.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING

SCHEMA_NAME = "cj2_export_gguf_schema"


@dataclass
class ExportGGUFConfig:
    src: str = MISSING  # a HF checkpoint dir (a cj2 run's hf/ export, or any Qwen2 / Llama checkpoint)
    out_dir: str = MISSING
    types: list[str] = field(default_factory=lambda: ["f16", "q8_0"])  # f32 | f16 | q8_0: one file each
    name: str | None = None  # file stem; None: the src dir's name (its run's name for a run's hf/)
    tokenizer_pre: str | None = None  # llama.cpp's pre-tokenizer name when it cannot be read from the tokenizer
    verify: bool = False  # load each file back through transformers and report its logit error against src


def stem(src: str, name: str | None) -> str:
    path = Path(src).resolve()
    return name or (path.parent.name if path.name == "hf" else path.name)


def run(cfg) -> list[Path]:
    from cj2.models.gguf_export import TYPES, GGUFExportError, export_gguf, logit_error

    unknown = [t for t in cfg.types if t not in TYPES]
    if unknown or not cfg.types:
        print(f"cj2 export_gguf: types={list(cfg.types)}: each must be one of {', '.join(TYPES)}", file=sys.stderr)
        raise SystemExit(2)
    written = []
    for type_name in cfg.types:
        path = Path(cfg.out_dir) / f"{stem(cfg.src, cfg.name)}-{type_name.upper()}.gguf"
        start = time.monotonic()
        try:
            summary = export_gguf(cfg.src, path, type_name, tokenizer_pre=cfg.tokenizer_pre, name=stem(cfg.src, cfg.name))
        except (GGUFExportError, FileNotFoundError) as e:
            print(f"cj2 export_gguf: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        line = f"{path}: {type_name}, {summary.tensors} tensors, {summary.bytes / 2**20:.1f} MiB, {time.monotonic() - start:.1f} s"
        if summary.fallbacks:
            line += f"; {len(summary.fallbacks)} weight(s) F16 (rows not a multiple of 32): {', '.join(summary.fallbacks[:5])}"
        if cfg.verify:
            error = logit_error(cfg.src, path)
            line += f"; logits vs src: max |diff| {error['max_abs']:.3g}, rms {error['rms']:.3g}, next-token agreement {error['argmax_agreement']:.1%}"
        print(line, file=sys.stderr)
        written.append(path)
    return written


ConfigStore.instance().store(name=SCHEMA_NAME, node=ExportGGUFConfig)
