"""JudgerBenchV2 with a data dir written by launch/build_bench.py: its own win table and scenario list.

The published path (no ground_truth.json / benchmark.json in the data dir) must stay as it was: the
published table, the ten scenarios, and no extra report key or note.
"""

from __future__ import annotations

import json
import shutil

import pytest

from cj2.eval.core.files import EvalInputError
from tests.eval import judgerbench_fixture as fx


def _cfg(tmp_path, **overrides):
    from cj2.config import compose

    return compose(["eval=judgerbenchv2", f"run_dir={tmp_path / 'run'}", *(f"eval.{k}={v}" for k, v in overrides.items())])


def test_the_data_dirs_table_is_taken_when_none_is_given(tmp_path):
    """Mutant caught: ground_truth.json in the data dir ignored (the published table is used, and the
    fixture's models x, y are not in it: the evaluation fails)."""
    from cj2.eval.job import evaluate

    data_dir, predictions, truth = fx.build(tmp_path)
    explicit = evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions, ground_truth=truth))
    shutil.copy(truth, data_dir / "ground_truth.json")
    built = evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions))
    assert built.metrics["scenarios"] == explicit.metrics["scenarios"]
    assert built.metrics["ground_truth"] == str(data_dir / "ground_truth.json")
    assert built.notes[0].startswith(f"ground truth: {data_dir / 'ground_truth.json'}")
    # eval.ground_truth still wins over the data dir's table
    other = tmp_path / "other.json"
    other.write_text(json.dumps({s: {"x": 0, "y": 4} for s in fx.SCENARIOS}))
    overridden = evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions, ground_truth=other))
    assert overridden.metrics["scenarios"]["IF"]["ground_truth_wins"] == {"x": 0, "y": 4}
    assert "ground_truth" not in overridden.metrics


def test_published_path_is_unchanged(tmp_path):
    """Without the build's files: the published table object, the ten scenarios, no extra key or note.
    Mutant caught: the note or the "ground_truth" key added on every run (the published report's bytes change)."""
    from cj2.eval.benchmarks.judgerbenchv2.records import benchmark_scenarios, resolve_ground_truth
    from cj2.eval.benchmarks.judgerbenchv2.table import GROUND_TRUTH_WINS, SCENARIOS
    from cj2.eval.job import evaluate

    data_dir, predictions, truth = fx.build(tmp_path)
    assert resolve_ground_truth(None, data_dir) == (GROUND_TRUTH_WINS, None)
    assert resolve_ground_truth(None, data_dir)[0] is GROUND_TRUTH_WINS
    assert benchmark_scenarios(data_dir) == SCENARIOS
    result = evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions, ground_truth=truth))
    assert "ground_truth" not in result.metrics
    assert not any(n.startswith("ground truth:") for n in result.notes)


def test_a_built_scenario_list_replaces_the_published_one(tmp_path):
    """benchmark.json names the scenarios: the other files are not required, a custom name scores.
    Mutant caught: load_benchmark still demanding the ten published files."""
    from cj2.eval.benchmarks.judgerbenchv2.prompt import judge_prompt
    from cj2.eval.benchmarks.judgerbenchv2.records import load_benchmark
    from cj2.eval.job import evaluate

    data_dir, predictions, truth = fx.build(tmp_path)
    rows = json.loads((data_dir / "IF.json").read_text())
    for r in rows:
        r["gold"]["category"] = "Travel"
    (data_dir / "Travel.json").write_text(json.dumps(rows))
    for s in fx.SCENARIOS:
        (data_dir / f"{s}.json").unlink()
    (data_dir / "benchmark.json").write_text(json.dumps({"scenarios": ["Travel"]}))
    (data_dir / "ground_truth.json").write_text(json.dumps({"Travel": fx.TRUTH}))
    lines = [json.loads(line) for line in predictions.read_text().splitlines()]
    travel = tmp_path / "travel.jsonl"
    travel.write_text("".join(json.dumps({**line, "scenario": "Travel"}) + "\n" for line in lines if line["scenario"] == "IF"))
    result = evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=travel))
    assert list(result.metrics["scenarios"]) == ["Travel"]
    assert result.metrics["scenarios"]["Travel"]["final"] == pytest.approx(fx.REGULAR_FINAL)
    # a custom category gets the generic criterion in the judge prompt
    record = load_benchmark(data_dir, ["Travel"])["Travel"][0]
    assert "meet the user's needs more accurately" in judge_prompt(record)


def test_a_broken_benchmark_json_is_named(tmp_path):
    """Mutant caught: an empty scenario list accepted (the evaluation would score nothing and report a mean of nothing)."""
    from cj2.eval.benchmarks.judgerbenchv2.records import benchmark_scenarios

    (tmp_path / "benchmark.json").write_text(json.dumps({"scenarios": []}))
    with pytest.raises(EvalInputError, match=r"benchmark\.json field 'scenarios'"):
        benchmark_scenarios(tmp_path)
