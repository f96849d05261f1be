"""The whole command with real small models: ``launch/build_bench.py`` with the tiny random Qwen2 (hf
engine) as base model and both policies, scripted judges (a random model names no winner), then
``launch/eval.py eval=judgerbenchv2`` running the tiny Qwen2 as the judge under test on the built data.

The tiny models' answers are random text; the judges ``longer`` (prefers the longer answer) and
``biased`` (always A) decide by length, so every label is checkable from the records themselves.
Policy ``tiny-p1`` is a second random tiny Qwen2 (other weights); ``tiny-p2`` is the base model's own
checkpoint, sampled with the same seeds, so its answers equal the base model's: every one of its pairs
splits 2:2 and is dropped (tie_rule=drop).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.benchmark.conftest import SCRIPTED


@pytest.mark.slow
def test_build_then_evaluate_with_real_models(repo_root, tiny_qwen2_dir, tmp_path):
    """Mutant caught: a model entry's own settings ignored (engine: hf), so the policies go to the scripted
    engine, which cannot answer for them. Also checked: every r1_gt is the longer answer's model."""
    pool = tmp_path / "pool.jsonl"
    queries = ["Compute 2 + 3 [easy]", "Compute 17 * 23 [hard]", "Name a red fruit [easy]", "Name three prime numbers [medium]"]
    pool.write_text("".join(json.dumps({"query": q}) + "\n" for q in queries))
    from tests.sample.tiny_models import build_tiny_qwen2

    out = tmp_path / "bench"
    model = str(tiny_qwen2_dir)
    other = str(build_tiny_qwen2(tmp_path / "tiny-qwen2-seed1", seed=1))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root), "HF_HUB_OFFLINE": "1"}
    build = [
        sys.executable, "launch/build_bench.py", f"bench.queries={pool}", f"bench.output_dir={out}",
        f"bench.base_model={{name: tiny-base, engine: hf, model: '{model}'}}",
        f"bench.policies=[{{name: tiny-p1, engine: hf, model: '{other}'}}, {{name: tiny-p2, engine: hf, model: '{model}'}}]",
        f"bench.engine={SCRIPTED}", "bench.judges=[longer,biased]", "bench.num_scenarios=2", "bench.scenario_names=[Knowledge,Reason_and_analysis]",
        "bench.queries_per_scenario=2", "bench.response_max_tokens=12", "bench.response_temperature=1.0", "bench.device=cpu",
        "bench.tie_rule=drop", "bench.progress=false", "bench.plots=true", f"run_dir={tmp_path / 'run'}",
    ]  # fmt: skip
    proc = subprocess.run(build, cwd=repo_root, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((out / "benchmark.json").read_text())
    assert manifest["scenarios"] and set(manifest["scenarios"]) <= {"Knowledge", "Reason_and_analysis"}
    records = [r for s in manifest["scenarios"] for r in json.loads((out / f"{s}.json").read_text())]
    assert {r["models_response"]["model_name"] for r in records} == {"tiny-p1"}  # tiny-p2 = base: all ties, dropped
    report = json.loads((out / "report" / "report.json").read_text())
    kept = sum(s["kept"] for s in report["scenarios"].values())
    assert records and len(records) == kept and report["rows"] == {"in": 4, "kept": 4, "quarantined": 0}
    assert sum(s["pairs"] for s in report["scenarios"].values()) == 8  # 4 queries x 2 policies
    for r in records:
        base, policy = r["base_model_response"], r["models_response"]
        assert "quality=" not in policy["response"]  # a real model answered
        assert len(base["response"]) != len(policy["response"])  # equal lengths tie 2:2 and are dropped
        assert r["gold"]["r1_gt"] == (policy["model_name"] if len(policy["response"]) > len(base["response"]) else base["model_name"])
    table = json.loads((out / "ground_truth.json").read_text())
    assert sum(sum(wins.values()) for wins in table.values()) == sum(r["gold"]["r1_gt"] != "tiny-base" for r in records)
    assert report["calls"]["responses tiny-p1"]["calls"] == 4

    evaluate = [
        sys.executable, "launch/eval.py", "eval=judgerbenchv2", f"eval.data_dir={out}", f"eval.model={model}", "eval.engine=hf",
        "eval.max_tokens=8", "eval.progress=false", "eval.plots=false", f"eval.output={tmp_path / 'OUT.json'}", f"run_dir={tmp_path / 'run'}",
    ]  # fmt: skip
    proc = subprocess.run(evaluate, cwd=repo_root, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads((tmp_path / "OUT.json").read_text())
    assert result["ground_truth"] == str(out / "ground_truth.json")
    assert result["overall"]["total"] == len(records)
    assert list(result["scenarios"]) == manifest["scenarios"]
