"""Re-scoring saved JudgerBenchV2 outputs end to end, through the documented command.

Hand derivation for a regular scenario (ground truth x 3, y 1):
  x: gold M M M B, judged M M B B -> 3 correct, 2 judged wins
  y: gold M B B B, judged M M B - -> 2 correct of 3 parsed, 2 judged wins
  acc = 100 * 5/7; s2 = {x: 2, y: 2} -> ranks x 1, y 2 (name breaks the tie) = ground truth ranks
  score diffs |3-2| = |1-2| = 1, max 1 -> normalized diff = (100/2) * (1 + 1) = 100
  final = (500/7 - 100 + 100) / 2 = 250/7
All-unparsed scenario: acc 0, s2 = {x: 0, y: 0}, ranks equal, score diffs 3 and 1, max 3
  -> normalized diff = (100/2) * (1 + 1/3) = 200/3, final = (0 - 200/3 + 100) / 2 = 50/3
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cj2.eval.core.files import EvalInputError
from tests.eval import judgerbench_fixture as fx


def test_fixture_positions_mix_both_sides():
    assert {0, 1} <= set(fx.published_positions()[:8])


def test_rescoring_command_end_to_end(tmp_path, repo_root):
    data_dir, predictions, truth = fx.build(tmp_path)
    out = tmp_path / "OUT.json"
    cmd = [
        sys.executable, "launch/eval.py", "eval=judgerbenchv2",
        f"eval.data_dir={data_dir}", f"eval.predictions={predictions}", f"eval.output={out}",
        f"eval.ground_truth={truth}", f"run_dir={tmp_path / 'run'}",
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(out.read_text())
    scenarios = result["scenarios"]
    assert list(scenarios) == fx.SCENARIOS
    for name, s in scenarios.items():
        if name == fx.GARBAGE:
            assert (s["parsed"], s["unparsed"], s["accuracy"]) == (0, 8, 0.0)
            assert s["normalized_diff"] == pytest.approx(fx.GARBAGE_DIFF)
            assert s["final"] == pytest.approx(fx.GARBAGE_FINAL)
            continue
        assert (s["parsed"], s["unparsed"], s["correct"]) == (7, 1, 5), name
        assert s["judged_wins"] == {"x": 2, "y": 2}
        assert (s["rank_diff"], s["score_diff"]) == (0, 2)
        assert s["accuracy"] == pytest.approx(fx.REGULAR_ACC)
        assert s["normalized_diff"] == pytest.approx(fx.REGULAR_DIFF)
        assert s["final"] == pytest.approx(fx.REGULAR_FINAL)
        assert s["missing"] == (1 if name == fx.MISSING_LAST else 0)
    overall = result["overall"]
    assert overall["final"] == pytest.approx((9 * fx.REGULAR_FINAL + fx.GARBAGE_FINAL) / 10)
    assert overall["accuracy"] == pytest.approx(9 * fx.REGULAR_ACC / 10)
    assert (overall["unparsed"], overall["missing"], overall["total"]) == (9 + 8, 1, 80)
    # By language (#27): Knowledge is Chinese (5 of 7 parsed right); nine English scenarios, eight like it, one unparsed (0).
    by_language = result["by_language"]
    assert by_language["cn"] == {"accuracy": pytest.approx(fx.REGULAR_ACC), "total": 8, "parsed": 7, "unparsed": 1}
    assert by_language["en"] == {"accuracy": pytest.approx(8 * fx.REGULAR_ACC / 9), "total": 72, "parsed": 56, "unparsed": 16}
    assert f"accuracy by language: cn {fx.REGULAR_ACC:.2f} (7 of 8 parsed), en {8 * fx.REGULAR_ACC / 9:.2f} (56 of 72 parsed)" in proc.stdout
    # the report shows the unparsed count; the Markdown table and plots sit beside OUT.json
    assert "unparsed 17" in proc.stdout
    markdown = (tmp_path / "OUT.md").read_text()
    assert "| Code_and_AI |" in markdown and "unparsed 17" in markdown
    for plot in ("groups", "confusion", "position_bias"):
        assert (tmp_path / f"judgerbenchv2_{plot}.png").stat().st_size > 0


def _cfg(tmp_path, **overrides):
    from cj2.config import compose

    return compose(["eval=judgerbenchv2", f"run_dir={tmp_path / 'run'}", *(f"eval.{k}={v}" for k, v in overrides.items())])


def test_positions_decide_the_score(tmp_path):
    """Outputs written for the opposite positions score differently (the letters are swapped)."""
    from cj2.eval.job import evaluate

    data_dir, predictions, truth = fx.build(tmp_path)
    swapped = tmp_path / "swapped.jsonl"
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    for row in rows:
        row["prediction"] = row["prediction"].replace('"A"', '"@"').replace('"B"', '"A"').replace('"@"', '"B"')
    swapped.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    right = evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions, ground_truth=truth))
    wrong = evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=swapped, ground_truth=truth))
    assert right.metrics["scenarios"]["IF"]["correct"] == 5
    assert wrong.metrics["scenarios"]["IF"]["correct"] == 2  # the 7 parsed verdicts flip: 7 - 5


def test_published_table_is_used_by_default(tmp_path):
    from cj2.eval.benchmarks.judgerbenchv2.table import GROUND_TRUTH_WINS
    from cj2.eval.job import evaluate

    data_dir, predictions, _ = fx.build(tmp_path)
    for scenario in fx.SCENARIOS:  # rename x, y to two published models
        path = data_dir / f"{scenario}.json"
        path.write_text(path.read_text().replace('"x"', '"Qwen2.5-72B-Instruct"').replace('"y"', '"Llama-3.1-70B-Instruct"'))
    result = evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions))
    knowledge = result.metrics["scenarios"]["Knowledge"]
    assert knowledge["ground_truth_wins"] == GROUND_TRUTH_WINS["Knowledge"]
    assert knowledge["judged_wins"]["Qwen2.5-72B-Instruct"] == 2
    assert knowledge["judged_wins"]["Qwen2.5-32B-Instruct"] == 0  # in the table, never judged
    assert any("no records at all" in n for n in result.notes)


def _break_first_record(data_dir, scenario, mutate):
    path = data_dir / f"{scenario}.json"
    rows = json.loads(path.read_text())
    mutate(rows[0])
    path.write_text(json.dumps(rows, ensure_ascii=False))
    return path


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda r: r["gold"].pop("lan"), "row 0 field 'gold.lan': missing"),
        (lambda r: r["gold"].update(lan="de"), "row 0 field 'gold.lan': expected 'cn' or 'en'"),
        (lambda r: r["gold"].update(r1_gt="nobody"), "row 0 field 'gold.r1_gt'"),
        (lambda r: r["models_response"].update(response=3), "row 0 field 'models_response.response': expected str"),
        (lambda r: r["gold"].update(category="Creation"), "row 0 field 'gold.category'"),
    ],
)
def test_bad_records_name_file_row_and_field(tmp_path, mutate, message):
    from cj2.eval.job import evaluate

    data_dir, predictions, truth = fx.build(tmp_path)
    path = _break_first_record(data_dir, "IF", mutate)
    with pytest.raises(EvalInputError, match=message) as info:
        evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions, ground_truth=truth))
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"scenario": "IF", "index": 0, "prediction": "x"}', "line 80: duplicate prediction"),
        ('{"scenario": "Math", "index": 0, "prediction": "x"}', "line 80 field 'scenario': unknown scenario 'Math'"),
        ('{"scenario": "IF", "index": 8, "prediction": "x"}', "line 80 field 'index': index 8 is past the last record"),
        ('{"scenario": "IF", "index": 1}', "line 80 field 'prediction': missing"),
        ("not json", "line 80: not valid JSON"),
    ],
)
def test_bad_prediction_lines_are_named(tmp_path, line, message):
    from cj2.eval.job import evaluate

    data_dir, predictions, truth = fx.build(tmp_path)
    with predictions.open("a") as f:
        f.write(line + "\n")
    with pytest.raises(EvalInputError, match=message):
        evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions, ground_truth=truth))


def test_missing_scenario_file_is_named(tmp_path):
    from cj2.eval.job import evaluate

    data_dir, predictions, truth = fx.build(tmp_path)
    (data_dir / "safe.json").unlink()
    with pytest.raises(EvalInputError, match=r"missing scenario file\(s\): safe.json"):
        evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions, ground_truth=truth))


def test_command_exits_with_a_clear_message(tmp_path, repo_root):
    data_dir, predictions, truth = fx.build(tmp_path)
    _break_first_record(data_dir, "IF", lambda r: r["gold"].pop("lan"))
    cmd = [sys.executable, "launch/eval.py", f"eval.data_dir={data_dir}", f"eval.predictions={predictions}", f"run_dir={tmp_path / 'run'}"]
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "IF.json row 0 field 'gold.lan': missing" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_swap_consistency_for_a_judge_that_ignores_positions(tmp_path):
    """Swapped-order lines state the same judged SIDE, written in the flipped A/B letters."""
    from cj2.eval.job import evaluate

    data_dir, predictions, truth = fx.build(tmp_path)
    with predictions.open("a") as f:
        for scenario in fx.SCENARIOS:
            for index in range(len(fx.GOLD)):
                text = fx.prediction_text(scenario, index)
                flipped = text.replace('"A"', '"@"').replace('"B"', '"A"').replace('"@"', '"B"')
                f.write(json.dumps({"scenario": scenario, "index": index, "prediction": flipped, "swapped": True}, ensure_ascii=False) + "\n")
    result = evaluate(_cfg(tmp_path, data_dir=data_dir, predictions=predictions, ground_truth=truth, swap=True))
    swap = result.metrics["swap"]
    # records 0-6 of the nine regular scenarios parse in both orders and agree; 7 never parses
    # (and has no line at all in Longtext's published order); Code_and_AI never parses
    assert (swap["items_in_both_orders"], swap["consistent"]) == (80, 63)
    assert swap["accuracy_swapped"] == pytest.approx(swap["accuracy"])
    assert swap["final_swapped"] == pytest.approx(result.headline)
