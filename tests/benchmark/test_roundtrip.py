"""A built benchmark round-trips through ``launch/eval.py eval=judgerbenchv2`` and scores as computed by hand.

Build (scripted models): one scenario, Knowledge; queries q0 [easy], q1 [hard], q2 [easy], q3 [hard];
policies good (8, but 3 on hard) and weak (2) against base (5); judges fair + biased (biased splits
1:1, so fair's 2:0 decides). Records, policy-major: good q0..q3, weak q0..q3, gold sides
    M B M B B B B B          (M = the policy wins)
and the win table {good: 2, weak: 0}. The published positions put the base model as A for records
0-6 and as B for record 7, so a judge that always answers "A" judges
    B B B B B B B M          -> correct at 1, 3, 4, 5, 6: acc = 62.5
s2 = {good: 0, weak: 1}; ranks s1 good 1 weak 2, s2 weak 1 good 2 -> rank terms 1 + 1 (|M|-1 = 1);
score diffs good 2, weak 1, max 2 -> 1 + 0.5; normalized diff = (100/2) * 3.5 = 175;
final = (62.5 - 175 + 100) / 2 = -6.25.
With eval.ground_truth naming {good: 0, weak: 2}: ranks agree, score diffs 0 and 1 -> nd = 50,
final = (62.5 - 50 + 100) / 2 = 56.25.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cj2.benchmark.job import build
from cj2.sample.model_entries import build_engine_for
from tests.benchmark.conftest import compose_bench, scripted_overrides


def _build(tmp_path):
    pool = tmp_path / "pool.jsonl"
    levels = ["easy", "hard", "easy", "hard"]
    pool.write_text("".join(json.dumps({"query": f"Compute the sum of {i} and {i + 1} [{lvl}]"}) + "\n" for i, lvl in enumerate(levels)))
    out = tmp_path / "bench"
    overrides = scripted_overrides(pool, out, "bench.judges=[fair,biased]", "bench.num_scenarios=1", "bench.scenario_classifier=null", "bench.scenario_names=[Knowledge]", "bench.queries_per_scenario=4")
    build(compose_bench(overrides), build_engine_for)
    return out


def _eval(repo_root, tmp_path, data_dir, *extra):
    predictions = tmp_path / "always_a.jsonl"
    predictions.write_text("".join(json.dumps({"scenario": "Knowledge", "index": i, "prediction": '{"analysis": "-", "winner": "A"}'}) + "\n" for i in range(8)))
    out = tmp_path / "OUT.json"
    cmd = [sys.executable, "launch/eval.py", "eval=judgerbenchv2", f"eval.data_dir={data_dir}", f"eval.predictions={predictions}", f"eval.output={out}", "eval.plots=false", f"run_dir={tmp_path / 'run'}", *extra]
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def test_built_benchmark_scores_as_computed_by_hand(tmp_path, repo_root):
    """Mutants caught: records written query-major instead of policy-major (another gold order, so other
    published positions per record); the win table counting base wins ({good: 4, weak: 4}); eval ignoring
    the data dir's table (the published table has no model 'good': the command fails)."""
    data_dir = _build(tmp_path)
    records = json.loads((data_dir / "Knowledge.json").read_text())
    assert [r["gold"]["r1_gt"] for r in records] == ["good", "base", "good", "base", "base", "base", "base", "base"]
    assert json.loads((data_dir / "ground_truth.json").read_text()) == {"Knowledge": {"good": 2, "weak": 0}}
    result, stdout = _eval(repo_root, tmp_path, data_dir)
    knowledge = result["scenarios"]["Knowledge"]
    assert list(result["scenarios"]) == ["Knowledge"]
    assert (knowledge["correct"], knowledge["parsed"]) == (5, 8)
    assert knowledge["judged_wins"] == {"good": 0, "weak": 1}
    assert knowledge["accuracy"] == pytest.approx(62.5)
    assert knowledge["normalized_diff"] == pytest.approx(175.0)
    assert knowledge["final"] == pytest.approx(-6.25)
    assert result["overall"]["final"] == pytest.approx(-6.25)
    assert result["ground_truth"] == str(data_dir / "ground_truth.json")
    assert "ground truth:" in stdout or "ground truth:" in (tmp_path / "OUT.md").read_text()

    other = tmp_path / "other_truth.json"
    other.write_text(json.dumps({"Knowledge": {"good": 0, "weak": 2}}))
    result, _ = _eval(repo_root, tmp_path, data_dir, f"eval.ground_truth={other}")
    assert result["scenarios"]["Knowledge"]["final"] == pytest.approx(56.25)
    assert "ground_truth" not in result
