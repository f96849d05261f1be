"""Comparing two saved evaluations side by side."""

from __future__ import annotations

import json

import pytest

from cj2.eval.reporting.compare import compare_rows, main


def judgerbench_output(final, accuracy, diff, knowledge):
    return {"benchmark": "judgerbenchv2", "overall": {"final": final, "accuracy": accuracy, "normalized_diff": diff}, "scenarios": {"Knowledge": {"final": knowledge}}}


def test_paper_ablation_side_by_side(tmp_path):
    # method.md ablation, 7B JudgerBenchV2: none 60.20, margin 60.52
    none = tmp_path / "none" / "eval.json"
    margin = tmp_path / "margin" / "eval.json"
    for path, out in ((none, judgerbench_output(60.20, 77.0, 56.6, 55.0)), (margin, judgerbench_output(60.52, 78.04, 57.00, 58.5))):
        path.parent.mkdir()
        path.write_text(json.dumps(out))
    rows = main([str(none), str(margin), "--markdown", str(tmp_path / "cmp.md")])
    final = rows[0]
    assert (final["metric"], final["none"], final["margin"]) == ("final", 60.20, 60.52)
    assert final["delta"] == pytest.approx(0.32)
    assert rows[-1]["metric"] == "Knowledge final" and rows[-1]["delta"] == pytest.approx(3.5)
    assert "| final | 60.20 | 60.52 | 0.32 |" in (tmp_path / "cmp.md").read_text()


def test_pairwise_outputs_compare_accuracy_and_consistency():
    a = {"benchmark": "judgebench", "accuracy": 60.0, "groups": {"mmlu": {"accuracy": 50.0}}, "swap": {"consistency": 70.0}}
    b = {"benchmark": "judgebench", "accuracy": 63.0, "groups": {"mmlu": {"accuracy": 55.0}}, "swap": {"consistency": 80.0}}
    rows = {r["metric"]: r["delta"] for r in compare_rows(a, b, ["x", "y"])}
    assert rows == {"accuracy": pytest.approx(3.0), "mmlu": pytest.approx(5.0), "swap consistency": pytest.approx(10.0)}


def test_different_benchmarks_refuse():
    with pytest.raises(ValueError, match="different benchmarks"):
        compare_rows({"benchmark": "rmb", "score": 1, "parts": {}}, {"benchmark": "rewardbench", "score": 1, "sections": {}}, ["a", "b"])
