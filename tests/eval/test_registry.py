"""A benchmark of one's own, registered by module path, runs through ``launch/eval.py`` without any edit of cj2/eval."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cj2.eval import registry
from cj2.eval.core.files import EvalInputError

ROWS = [  # better, kind, what the judge said
    ("A", "math", "The first is right. [[A]]"),
    ("B", "math", "[[A]]"),
    ("tie", "chat", "I cannot decide."),  # no verdict: counted, and wrong
    ("tie", "math", "Both fine. [[C]]"),
]


@pytest.mark.slow
def test_toy_benchmark_from_a_test_module_scores_and_reports(tmp_path, repo_root):
    """Saved predictions in, scores and report out, through the real entry point.

    By hand: math rows 0 (A=A), 1 (A!=B), 3 (tie=tie): 2 of 3 = 66.67; chat row 2 unparsed: 0;
    overall 2 of 4 = 50. Mutants caught: the registry ignoring a module:OBJECT name (unknown
    benchmark, exit 2); file names built from eval.name (``eval_tests.eval.toy_benchmark:TOY.json``);
    the protocol read from eval.template instead of the benchmark (prompt cj2_cot).
    """
    data, predictions = tmp_path / "rows.jsonl", tmp_path / "predictions.jsonl"
    data.write_text("".join(json.dumps({"question": f"q{i}", "answer_a": "a", "answer_b": "b", "better": b, "kind": k}) + "\n" for i, (b, k, _) in enumerate(ROWS)))
    predictions.write_text("".join(json.dumps({"index": i, "prediction": said}) + "\n" for i, (_, _, said) in enumerate(ROWS)))
    run_dir = tmp_path / "run"
    cmd = [sys.executable, "launch/eval.py", "eval.name=tests.eval.toy_benchmark:TOY", f"eval.data_file={data}", f"eval.predictions={predictions}", f"run_dir={run_dir}"]
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(repo_root)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    scores = json.loads((run_dir / "eval_toy.json").read_text())
    assert scores["agreement"] == pytest.approx(50.0)
    assert scores["kinds"] == pytest.approx({"chat": 0.0, "math": 200 / 3})
    assert scores["protocol"] == {"prompt": "toy", "verdict_format": "mtbench_pair", "parser": "official", "unparsed": 1}
    report = (run_dir / "eval_toy.md").read_text()
    assert "toy: agreement 50.00 over 4 judged item(s); unparsed 1" in report
    assert "| math | 66.67 |" in report
    assert {p.name for p in run_dir.glob("toy_*.png")} == {"toy_groups.png", "toy_confusion.png", "toy_position_bias.png"}


def test_register_by_name_and_unknown_names_list_the_ways(monkeypatch):
    """Catches: register() not consulted by get(); a path naming no benchmark accepted and failing later."""
    monkeypatch.setattr(registry, "_REGISTERED", dict(registry._REGISTERED))
    registry.register("toy", "tests.eval.toy_benchmark:TOY")
    from tests.eval.toy_benchmark import TOY

    assert registry.get("toy") is TOY and "toy" in registry.known()
    with pytest.raises(EvalInputError, match="eval.name: cannot load benchmark 'tests.eval.toy_benchmark:NOPE'"):
        registry.get("tests.eval.toy_benchmark:NOPE")
    with pytest.raises(EvalInputError, match="'tests.eval.toy_benchmark:load_rows' is not a benchmark"):
        registry.get("tests.eval.toy_benchmark:load_rows")
    with pytest.raises(EvalInputError, match=r"unknown benchmark 'nosuch'; known: judgerbenchv2, .*toy .*module:OBJECT"):
        registry.get("nosuch")
