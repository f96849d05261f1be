"""Small builders shared by the data tests."""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import OmegaConf

from cj2.config.compose import compose
from cj2.config.schema import DataComponentConfig


def write_jsonl(path: Path, rows: list) -> Path:
    """Rows are dicts (written as JSON) or raw strings (written as they are: malformed lines)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows), encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def data_cfg(out_dir: Path, components: dict, **data_overrides):
    """A composed config whose data section is exactly ``components`` (+ ``data.*`` overrides)."""
    cfg = compose(["data=demo", f"data.output_dir={out_dir}"])
    cfg.data.components = {name: OmegaConf.merge(OmegaConf.structured(DataComponentConfig), comp) for name, comp in components.items()}
    for key, value in data_overrides.items():
        cfg.data[key] = value
    return cfg
