"""The bench/ scripts as modules for the tests (bench/ is a folder of scripts, not a package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench_script(relative: str):
    """``bench/<relative>`` imported as a module (its ``main`` not run)."""
    spec = importlib.util.spec_from_file_location(Path(relative).stem, BENCH / relative)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
