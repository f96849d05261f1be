"""A new pairwise set from config only: Auto-J's pairwise test (labels 0/1/2 with ties), scored per scenario.

The fixture uses the published schema of GAIR-NLP/auto-j data/test/testdata_pairwise.jsonl
(``prompt``, ``response 1``, ``response 2``, ``label`` 0/1/2, ``scenario``). The reference numbers
come from ``autoj_*`` below, transcribed from Auto-J's codes/leaderboard/pairwise_eval.py
(without its rounding to two decimals).
"""

from __future__ import annotations

import json
from collections import defaultdict

import pytest

from cj2.config import compose
from cj2.eval.job import evaluate

# label: 0 = response 1 better, 1 = response 2 better, 2 = tie
ROWS = [
    ("code", 0), ("code", 1), ("code", 2), ("code", 0),
    ("writing", 2), ("writing", 1), ("writing", 0), ("writing", 2),
]  # fmt: skip
# The judge's outputs in Auto-J's 0/1/2, first in the given order, then with the responses swapped
# (as the judge saw them, not mapped back).
OUTPUT = [0, 1, 0, 1, 2, 1, 2, 2]
OUTPUT_SWAPPED = [1, 1, 2, 0, 2, 0, 1, 2]
VERDICT = {0: "[[A]]", 1: "[[B]]", 2: "[[C]]"}  # mtbench_pair: C = tie


def autoj_exchange_to_ori_label(label):
    return {0: 1, 1: 0}.get(label, label)


def autoj_scores(rows, pred, pred_exchange):
    stats = defaultdict(lambda: {"correct": 0, "correct_both": 0, "total": 0, "exchange_dont_agree": 0})
    for (scenario, gt), p, pe in zip(rows, pred, pred_exchange, strict=True):
        pe = autoj_exchange_to_ori_label(pe)
        for key in (scenario, "Overall"):
            s = stats[key]
            s["total"] += 1
            s["correct"] += gt == p
            s["correct_both"] += pe == p == gt
            s["exchange_dont_agree"] += pe != p
    return {k: {"agreement": 100 * v["correct_both"] / v["total"], "consistency": 100 * (1 - v["exchange_dont_agree"] / v["total"]), "single": 100 * v["correct"] / v["total"]} for k, v in stats.items()}


def write_fixture(tmp_path, swapped_outputs=OUTPUT_SWAPPED, outputs=OUTPUT):
    data = tmp_path / "testdata_pairwise.jsonl"
    data.write_text("".join(json.dumps({"prompt": f"q{i}", "response 1": f"r1-{i}", "response 2": f"r2-{i}", "label": label, "scenario": s}) + "\n" for i, (s, label) in enumerate(ROWS)))
    predictions = tmp_path / "p.jsonl"
    lines = [{"index": i, "prediction": VERDICT.get(o, "no verdict")} for i, o in enumerate(outputs)]
    lines += [{"index": i, "prediction": VERDICT.get(o, "no verdict"), "swapped": True} for i, o in enumerate(swapped_outputs)]
    predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return data, predictions


def cfg(tmp_path, *overrides):
    return compose(["eval=autoj_pairwise", f"run_dir={tmp_path / 'run'}", "eval.plots=false", *overrides])


def test_autoj_set_from_yaml_equals_autoj_script(tmp_path):
    """Catches: tie items still skipped under ties=score; the swapped verdict not mapped back; agreement over agreeing items only."""
    data, predictions = write_fixture(tmp_path)
    result = evaluate(cfg(tmp_path, f"eval.data_file={data}", f"eval.predictions={predictions}"))
    expected = autoj_scores(ROWS, OUTPUT, OUTPUT_SWAPPED)
    ties = result.metrics["ties"]
    assert ties["overall"]["agreement"] == pytest.approx(expected["Overall"]["agreement"])
    assert ties["overall"]["consistency"] == pytest.approx(expected["Overall"]["consistency"])
    assert ties["overall"]["accuracy_with_ties"] == pytest.approx(expected["Overall"]["single"])
    for scenario in ("code", "writing"):
        assert ties["groups"][scenario]["agreement"] == pytest.approx(expected[scenario]["agreement"])
        assert ties["groups"][scenario]["accuracy_with_ties"] == pytest.approx(expected[scenario]["single"])
    # by hand: ties at rows 2, 4, 7; without them the judge is right on rows 0, 1, 5 of 0, 1, 3, 5, 6
    assert ties["overall"]["tie_items"] == 3
    assert ties["overall"]["accuracy_without_ties"] == pytest.approx(60.0)
    assert (result.headline_name, result.headline) == ("agreement", pytest.approx(expected["Overall"]["agreement"]))
    assert result.metrics["benchmark"] == "autoj_pairwise" and [r["group"] for r in result.rows] == ["code", "writing", "all"]


def test_unparsed_swapped_verdict_never_agrees(tmp_path):
    """Catches: two unparsed (None == None) verdicts counted as agreeing."""
    swapped, original = list(OUTPUT_SWAPPED), list(OUTPUT)
    swapped[0] = original[0] = None  # row 0 agreed (and was right) before; now unparsed in both orders
    data, predictions = write_fixture(tmp_path, swapped, original)
    result = evaluate(cfg(tmp_path, f"eval.data_file={data}", f"eval.predictions={predictions}"))
    before = autoj_scores(ROWS, OUTPUT, OUTPUT_SWAPPED)["Overall"]
    assert result.metrics["ties"]["overall"]["agreement"] == pytest.approx(before["agreement"] - 100 / 8)
    assert result.metrics["ties"]["overall"]["consistency"] == pytest.approx(before["consistency"] - 100 / 8)


def test_integer_label_map_from_the_command_line(tmp_path):
    """Catches: eval.label_map={0: ...} rejected by the schema, or integer keys not matched against the data's labels."""
    data, predictions = write_fixture(tmp_path)
    flipped = evaluate(cfg(tmp_path, f"eval.data_file={data}", f"eval.predictions={predictions}", "eval.label_map={0: B, 1: A, 2: tie}", "eval.ties=skip"))
    # labels 0 and 1 exchanged; row: gold / original-order verdict -> 0: B/A, 1: A/B, 3: B/B (right), 5: A/B, 6: B/tie
    assert flipped.headline_name == "accuracy" and flipped.headline == pytest.approx(100 * 1 / 5)
    assert flipped.metrics["original"]["skipped_ties"] == 3 and flipped.total == 5 * 2  # both orders, ties skipped


def test_a_set_from_the_command_line_alone(tmp_path):
    """Catches: eval.fields / eval.label_map dict overrides refused (struct) for keys the config does not have yet."""
    data, predictions = write_fixture(tmp_path)
    overrides = [
        "eval.name=my_set", f"eval.data_file={data}", f"eval.predictions={predictions}", f"run_dir={tmp_path / 'run'}",
        "eval.fields={question: prompt, response_a: 'response 1', response_b: 'response 2', label: label, group: scenario}",
        "eval.label_map={0: A, 1: B, 2: tie}", "eval.template=mtbench_pair", "eval.plots=false",
    ]  # fmt: skip
    result = evaluate(compose(overrides))
    # ties skipped (the default): rows 0, 1, 5 right of 0, 1, 3, 5, 6 in the given order
    assert (result.benchmark, result.headline) == ("my_set", pytest.approx(60.0))
    assert set(result.metrics["groups"]) == {"code", "writing"}


def test_unknown_name_without_fields_is_named(tmp_path):
    """Catches: any unknown benchmark name silently treated as a generic set."""
    from cj2.eval.core.files import EvalInputError

    with pytest.raises(EvalInputError, match="unknown benchmark 'nosuch'"):
        evaluate(compose(["eval.name=nosuch", "eval.predictions=p.jsonl", f"run_dir={tmp_path}"]))
