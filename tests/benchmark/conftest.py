"""Helpers for the benchmark-build tests: the scripted build's overrides and a reader of its outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.benchmark.pool import write_pool
from tests.sample.conftest import tiny_qwen2_dir  # noqa: F401  (the real tiny model, a session fixture)

SCRIPTED = "tests.benchmark.scripted_models:Model"


def scripted_overrides(pool: Path, out: Path, *extra: str) -> list[str]:
    """Base, two policies, three judges (fair, biased, flip: cooking pairs tie), three named scenarios."""
    return [
        f"bench.engine={SCRIPTED}", f"bench.queries={pool}", f"bench.output_dir={out}",
        "bench.base_model=base", "bench.policies=[good,weak]", "bench.judges=[fair,biased,flip]",
        "bench.num_scenarios=3", "bench.queries_per_scenario=6", "bench.scenario_classifier=fair",
        "bench.progress=false", "bench.plots=false", f"run_dir={out.parent / 'run'}",
        *extra,
    ]  # fmt: skip


def compose_bench(overrides: list[str]):
    from cj2.config import compose, finalize

    return finalize(compose(overrides)).bench


@pytest.fixture
def pool(tmp_path) -> Path:
    return write_pool(tmp_path / "pool.jsonl")


def read_outputs(out: Path) -> dict:
    """Everything a build hands on (scenario files, win table, manifest), report and work files excluded."""
    manifest = json.loads((out / "benchmark.json").read_text())
    return {
        "manifest": manifest,
        "ground_truth": json.loads((out / "ground_truth.json").read_text()),
        "scenarios": {s: json.loads((out / f"{s}.json").read_text()) for s in manifest["scenarios"]},
        "quarantine": (out / "quarantine.jsonl").read_text(),
    }
