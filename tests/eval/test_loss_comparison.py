"""The loss comparison study (cj2.eval.studies.loss_comparison): hand-computed differences, and the
gates that stop a ranking (a planted position collapse, `none` below 70, a rule teacher below 100)."""

from __future__ import annotations

import json
import math

import pytest

from cj2.eval.core.verdict_metric import VerdictLogits, other_label
from cj2.eval.studies.loss_comparison import compare_losses, write_comparison

QUESTIONS = 20  # one pair each, judged in both orders; original gold alternates A, B


def judge(right: int, always_a: bool = False, margin: float = 2.0) -> list[VerdictLogits]:
    """Right on the first ``right`` items in both orders, consistently wrong on the others (so the
    A-rate is exactly 50 and swap consistency 100); ``always_a``: says A whatever is shown."""
    records = []
    for k in range(QUESTIONS):
        original = "A" if k % 2 == 0 else "B"
        for swapped in (False, True):
            gold = other_label(original) if swapped else original
            choice = "A" if always_a else gold if k < right else other_label(gold)
            records.append(VerdictLogits(f"i{k}", gold, swapped, {choice: margin, other_label(choice): 0.0}, margin + 1.0, choice))
    return records


def runs(none=(16, 15), margin=(18, 18), collapsed_margin_seed=None):
    out = {}
    for seed, (n, m) in enumerate(zip(none, margin, strict=True), start=1):
        out[("none", seed)] = judge(n)
        out[("margin", seed)] = judge(m, always_a=seed == collapsed_margin_seed)
    return out


def test_passing_gates_print_the_ranking_and_hand_computed_differences(tmp_path):
    """none 16/20 and 15/20 right (80, 75), margin 18/20 at both seeds (90).
    Seed 1: 90 - 80 = +10; McNemar: 2 items x 2 orders right only for margin, none only 0: p = 2 / 2^4 = 0.125.
    Seed 2: 90 - 75 = +15; 6 vs 0 discordant: p = 2 / 2^6 = 0.03125.
    Across seeds: mean 12.5, sd 3.5355, se 2.5, t(0.975, 1) = 12.706 -> [-19.27, 44.27] (includes 0).
    Margin (z of the choice 2, the other 0): mean = 2 (2p - 1): 1.6 - 1.2 = 0.4 and 1.6 - 1.0 = 0.6;
    across: 0.5, se 0.1, half 1.2706 -> [-0.771, 1.771].
    Mutant: ranking printed only when no gate failed removed (``not failures`` dropped) -> the gate
    tests below fail; here the ranking must list margin (90.0) before none (77.5)."""
    c = compare_losses("heldout", runs(), {"rule-teacher": judge(QUESTIONS), "base": judge(10)}, resamples=300)
    assert c.failures == []
    seed1, seed2 = c.per_seed
    assert (seed1["loss"], seed1["seed"], seed1["accuracy"].estimate) == ("margin", 1, pytest.approx(10.0))
    assert seed1["mcnemar"] == {"a_only": 4, "b_only": 0, "p": pytest.approx(0.125)}
    assert seed2["accuracy"].estimate == pytest.approx(15.0) and seed2["mcnemar"]["p"] == pytest.approx(0.03125)
    across = c.across["margin"]
    assert across["seeds"] == [1, 2]
    assert (across["accuracy"].estimate, across["accuracy"].low, across["accuracy"].high) == pytest.approx((12.5, -19.27, 44.27), abs=0.01)
    assert (across["margin"].estimate, across["margin"].low, across["margin"].high) == pytest.approx((0.5, -0.771, 1.771), abs=0.001)
    assert c.ranking == [("margin", pytest.approx(90.0)), ("none", pytest.approx(77.5))]
    text = c.markdown()
    assert "Gates passed" in text and "1. margin: 90.0; minus none +12.5 [-19.3, +44.3] (includes 0)" in text and "2. none: 77.5" in text
    assert "this order is within noise" in text
    assert "| margin | 1 | +10.0 [" in text and "4 / 0, p = 0.125" in text
    assert "| rule-teacher | 40 | 100.0 [" in text  # 100% over 20 questions: Wilson [83.9, 100]
    paths = write_comparison(c, tmp_path)
    assert paths["png"].read_bytes()[:4] == b"\x89PNG" and paths["md"].read_text() == text
    saved = json.loads(paths["json"].read_text())
    assert saved["ranking"] == [["margin", 90.0], ["none", 77.5]] and saved["per_seed"][0]["accuracy"]["estimate"] == pytest.approx(10.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss_comparison_heldout.json", "loss_comparison_heldout.md", "loss_comparison_heldout.png"]


def failed(c) -> list[tuple[str, str, float | None]]:
    return [(f.gate, f.judge, f.value) for f in c.failures]


def assert_no_ranking(c):
    text = c.markdown()
    assert c.ranking is None and "Gates failed: no ranking." in text and "Ranking" not in text and "\n1. " not in text
    for f in c.failures:
        assert f"- {f}" in text


def test_a_judge_that_always_says_a_fails_the_position_gates():
    """margin-s1 says A whatever is shown: accuracy 50, A-rate 100, swap consistency 0. Mutant: the
    A-rate gate removed -> only the swap consistency failure is listed."""
    c = compare_losses("heldout", runs(collapsed_margin_seed=1), {"rule-teacher": judge(QUESTIONS)}, resamples=200)
    assert c.judges["margin-s1"]["metrics"]["accuracy"] == 50.0
    assert failed(c) == [("no position preference", "margin-s1", 100.0), ("swap consistency", "margin-s1", 0.0)]
    assert "gate 'no position preference' failed: margin-s1 has 100.0 (required: a_rate within 45-55)" in c.markdown()
    assert_no_ranking(c)


def test_none_below_70_fails_and_70_itself_passes():
    """none-s2 right on 12 of 20: 60.0 fails; on 14 of 20: exactly 70.0 passes. Mutant: ``<=`` for
    ``<`` in the baseline gate -> the 70.0 case fails."""
    low = compare_losses("heldout", runs(none=(16, 12)), {"rule-teacher": judge(QUESTIONS)}, resamples=200)
    assert failed(low) == [("none learns the task", "none-s2", 60.0)]
    assert_no_ranking(low)
    assert compare_losses("heldout", runs(none=(16, 14)), {"rule-teacher": judge(QUESTIONS)}, resamples=200).failures == []


def test_a_rule_teacher_below_100_or_absent_fails():
    """The rule teacher wrong on one of 20 pairs (both orders): 95.0. Without its records: not measured."""
    below = compare_losses("heldout", runs(), {"rule-teacher": judge(QUESTIONS - 1)}, resamples=200)
    assert failed(below) == [("rule teacher scores 100%", "rule-teacher", 95.0)]
    assert_no_ranking(below)
    absent = compare_losses("heldout", runs(), {}, resamples=200)
    assert failed(absent) == [("rule teacher scores 100%", "rule-teacher", None)]
    assert "rule-teacher has not measured" in absent.markdown()


def test_a_negative_control_gets_its_own_table_without_gates_or_ranking():
    """MMLU-like: every judge near chance, which would fail the gates; as a control it is shown, not judged or ranked."""
    c = compare_losses("mmlu", runs(none=(10, 10), margin=(11, 9)), {}, control=True, resamples=200)
    text = c.markdown()
    assert c.failures == [] and c.ranking is None and "negative control" in text and "Gates" not in text and "Ranking" not in text
    assert c.across["margin"]["accuracy"].estimate == pytest.approx(0.0)  # (+5 and -5) / 2
    assert not math.isnan(c.across["margin"]["accuracy"].low)
