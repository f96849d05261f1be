"""Pairwise, RMB and RewardBench metrics on hand-built judgments."""

from __future__ import annotations

import pytest

from cj2.eval.benchmarks.rewardbench.metric import OFFICIAL_COUNTS, rewardbench_score
from cj2.eval.benchmarks.rmb.metric import rmb_scores
from cj2.eval.core.pairwise_metric import (
    PairJudgment,
    accuracy_counts,
    pairwise_report,
    position_bias,
    swap_consistency,
    unswap,
    verdict_confusion,
)


def J(item, gold, verdict, swapped=False, group=""):
    return PairJudgment(item, gold, verdict, swapped, group)


def test_unswap():
    assert [unswap(x) for x in ("A", "B", "tie", None)] == ["B", "A", "tie", None]


def test_accuracy_counts_unparsed_as_wrong_and_skips_ties():
    counts = accuracy_counts([J("1", "A", "A"), J("2", "B", "A"), J("3", "B", None), J("4", "tie", "A"), J("5", "A", "tie")])
    assert (counts["judged"], counts["parsed"], counts["unparsed"], counts["correct"], counts["skipped_ties"]) == (4, 3, 1, 1, 1)
    assert counts["accuracy"] == pytest.approx(25.0)
    assert counts["accuracy_parsed"] == pytest.approx(100 / 3)


def test_swap_consistency_by_hand():
    judgments = [
        J("1", "A", "A"), J("1", "A", "A", swapped=True),  # consistent
        J("2", "A", "A"), J("2", "A", "B", swapped=True),  # flips with position
        J("3", "B", None), J("3", "B", None, swapped=True),  # unparsed twice: not consistent
        J("4", "B", "B"),  # one order only: not counted
    ]  # fmt: skip
    assert swap_consistency(judgments) == {"items_in_both_orders": 3, "consistent": 1, "consistency": pytest.approx(100 / 3)}
    report = pairwise_report(judgments)
    assert report["original"]["accuracy"] == pytest.approx(75.0)
    assert report["swapped"]["accuracy"] == pytest.approx(100 / 3)


def test_confusion_and_position_bias_use_presented_order():
    # an "always says A" judge, shown each item in both orders; verdicts stored in original order
    judgments = [J("1", "A", "A"), J("1", "A", "B", swapped=True), J("2", "B", "A"), J("2", "B", "B", swapped=True)]
    assert verdict_confusion(judgments) == {"A": {"A": 2}, "B": {"A": 2}}
    bias = position_bias(judgments)
    assert bias["verdict_a_rate"] == 100.0
    assert bias["gold_a_rate"] == 50.0
    assert (bias["accuracy_gold_a"], bias["accuracy_gold_b"]) == (100.0, 0.0)


def test_rmb_best_of_n_needs_every_loser_beaten():
    tagged = [
        (J("g1/0", "A", "A"), "Helpfulness", "g1"), (J("g1/1", "A", "A"), "Helpfulness", "g1"),  # won
        (J("g2/0", "A", "A"), "Helpfulness", "g2"), (J("g2/1", "A", "B"), "Helpfulness", "g2"),  # lost one
        (J("g3/0", "A", None), "Helpfulness", "g3"),  # unparsed: not won
        (J("p1", "A", "A"), "Helpfulness", ""), (J("p2", "A", "B"), "Helpfulness", ""),
        (J("p3", "A", "A"), "Harmlessness", ""),
    ]  # fmt: skip
    scores = rmb_scores(tagged)
    assert scores["parts"]["bon_helpfulness"] == {"accuracy": pytest.approx(100 / 3), "items": 3}
    assert scores["parts"]["pair_helpfulness"]["accuracy"] == pytest.approx(50.0)
    assert scores["parts"]["pair_harmlessness"]["accuracy"] == pytest.approx(100.0)
    assert scores["pair_average"] == pytest.approx(75.0)
    assert scores["bon_average"] == pytest.approx(100 / 3)
    assert scores["score"] == pytest.approx((75.0 + 100 / 3) / 2)


def test_rewardbench_sections_weighted_by_size_then_averaged():
    accuracy = {"alpacaeval-easy": 100.0, "mt-bench-easy": 0.0, "refusals-dangerous": 50.0}
    official = rewardbench_score(accuracy, OFFICIAL_COUNTS)
    assert official["sections"]["Chat"] == pytest.approx(100 * 100 / (100 + 28))
    assert official["sections"]["Safety"] == pytest.approx(50.0)
    assert set(official["sections"]) == {"Chat", "Safety"}
    assert official["score"] == pytest.approx((100 * 100 / 128 + 50) / 2)
    observed = rewardbench_score(accuracy, {"alpacaeval-easy": 1, "mt-bench-easy": 3, "refusals-dangerous": 7})
    assert observed["sections"]["Chat"] == pytest.approx(25.0)


def test_official_math_prm_is_upweighted_to_the_code_subsets():
    assert OFFICIAL_COUNTS["math-prm"] == sum(OFFICIAL_COUNTS[f"hep-{lang}"] for lang in ("cpp", "go", "java", "js", "python", "rust"))


# allenai/reward-bench rewardbench/constants.py EXAMPLE_COUNTS (commit a32e272), as published: the
# xstest pair is 250 / 154 there (the files hold 154 should-refuse and 250 should-respond rows),
# math-prm 984. The official score reproduces these weights, not the file's sizes.
PUBLISHED_EXAMPLE_COUNTS = {
    "alpacaeval-easy": 100, "alpacaeval-length": 95, "alpacaeval-hard": 95, "mt-bench-easy": 28, "mt-bench-med": 40,
    "mt-bench-hard": 37, "math-prm": 984, "refusals-dangerous": 100, "refusals-offensive": 100, "llmbar-natural": 100,
    "llmbar-adver-neighbor": 134, "llmbar-adver-GPTInst": 92, "llmbar-adver-GPTOut": 47, "llmbar-adver-manual": 46,
    "xstest-should-refuse": 250, "xstest-should-respond": 154, "donotanswer": 136,
    "hep-cpp": 164, "hep-go": 164, "hep-java": 164, "hep-js": 164, "hep-python": 164, "hep-rust": 164,
}  # fmt: skip


def test_official_score_weights_every_subset_by_reward_benchs_published_count():
    """Every subset a different accuracy, so every weight moves the score; expected by hand from the
    published table. Catches: any official count off by one (the mutation run's survivors:
    alpacaeval-hard 96, llmbar-adver-neighbor 133/135, GPTInst 93, GPTOut 46), a subset filed in
    the wrong section, and an empty input scoring 1.0 instead of 0.0."""
    accuracy = {subset: 10.0 + 3.0 * i for i, subset in enumerate(PUBLISHED_EXAMPLE_COUNTS)}
    sections = {
        "Chat": ("alpacaeval-easy", "alpacaeval-length", "alpacaeval-hard", "mt-bench-easy", "mt-bench-med"),
        "Chat Hard": ("mt-bench-hard", "llmbar-natural", "llmbar-adver-neighbor", "llmbar-adver-GPTInst", "llmbar-adver-GPTOut", "llmbar-adver-manual"),
        "Safety": ("refusals-dangerous", "refusals-offensive", "xstest-should-refuse", "xstest-should-respond", "donotanswer"),
        "Reasoning": ("math-prm", "hep-cpp", "hep-go", "hep-java", "hep-js", "hep-python", "hep-rust"),
    }
    expected = {name: sum(accuracy[s] * PUBLISHED_EXAMPLE_COUNTS[s] for s in subsets) / sum(PUBLISHED_EXAMPLE_COUNTS[s] for s in subsets)
                for name, subsets in sections.items()}
    got = rewardbench_score(accuracy, OFFICIAL_COUNTS)
    assert got["sections"] == pytest.approx(expected, abs=1e-9)
    assert got["score"] == pytest.approx(sum(expected.values()) / 4, abs=1e-9)
    assert rewardbench_score({}, OFFICIAL_COUNTS) == {"sections": {}, "score": 0.0}


def test_a_section_of_one_item_counts_and_a_section_weighing_nothing_is_left_out():
    """Observed weights are item counts: one item is a section; a section whose subsets weigh 0 has
    no score (not a division by zero). Catches: the guard `total_weight > 0` as `> 1` (one-item
    sections dropped), `>= 0` / `> -1` / `present or ...` (ZeroDivisionError). `!= 0` is equivalent
    (counts are never negative)."""
    got = rewardbench_score({"alpacaeval-easy": 80.0, "refusals-dangerous": 50.0}, {"alpacaeval-easy": 1, "refusals-dangerous": 0})
    assert got == {"sections": {"Chat": 80.0}, "score": 80.0}
