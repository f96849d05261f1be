"""Edges of the pairwise metric that a mutation run (bench/mutate.py) found untested: defaults,
empty inputs, the position-bias rate with B and tie verdicts, items judged in one order only."""

from __future__ import annotations

import dataclasses

import pytest

from cj2.eval.core.pairwise_metric import (
    PairJudgment,
    accuracy_counts,
    group_judgments,
    position_bias,
    swap_consistency,
    tie_report,
)


def test_a_judgment_is_in_the_original_order_unless_marked_and_cannot_be_edited():
    """Catches: ``swapped`` defaulting to True (every judgment read as the swapped presentation:
    its presented verdict flipped) and ``frozen=False`` (a scored judgment edited in place)."""
    j = PairJudgment(item="x", gold="A", verdict="B")
    assert (j.swapped, j.presented_gold, j.presented_verdict) == (False, "A", "B")
    with pytest.raises(dataclasses.FrozenInstanceError):
        j.verdict = "A"


def test_verdict_a_rate_counts_only_a_verdicts_and_is_zero_with_nothing_parsed():
    """Catches: "said A" counted with ``>=``/``<=`` instead of ``==`` (B and tie verdicts counted
    as A), and an all-unparsed judge reporting an A rate of 1 or -1 instead of 0.

    Hand count: presented verdicts A, B, B, A (the last judged swapped: verdict B in the original
    order is A as presented), one unparsed -> 2 A of 4 parsed = 50%."""
    judgments = [PairJudgment("1", "A", "A"), PairJudgment("2", "A", "B"), PairJudgment("3", "B", "B"),
                 PairJudgment("4", "A", "B", swapped=True), PairJudgment("5", "B", None)]
    assert position_bias(judgments)["verdict_a_rate"] == 50.0
    ties = [PairJudgment("6", "A", "tie"), PairJudgment("7", "B", "tie")]
    assert position_bias(ties)["verdict_a_rate"] == 0.0
    assert position_bias([PairJudgment("8", "A", None)])["verdict_a_rate"] == 0.0


def test_judgments_are_grouped_by_their_group():
    """Catches: ``group_judgments`` returning no groups (its loop skipped)."""
    judgments = [PairJudgment("1", "A", "A", group="math"), PairJudgment("2", "B", "A", group="code"), PairJudgment("3", "A", None, group="math")]
    assert {g: [j.item for j in js] for g, js in group_judgments(judgments).items()} == {"math": ["1", "3"], "code": ["2"]}


def test_tie_report_counts_only_items_judged_in_both_orders_and_empty_shares_are_zero():
    """Catches: an item judged in one order only counted among the "both orders" items
    (``len(pair) <= 2``: agreement 50% instead of 100%) and an empty share reported as -1.

    Hand count: item 1 judged in both orders, same verdict, right -> agreement 1/1; item 2 only
    in the original order (its swapped judgment is missing) -> not counted."""
    judgments = [PairJudgment("1", "A", "A"), PairJudgment("1", "A", "A", swapped=True), PairJudgment("2", "B", "B")]
    report = tie_report(judgments)
    assert (report["agreement"], report["consistency"]) == (100.0, 100.0)
    empty = tie_report([])
    assert (empty["accuracy_with_ties"], empty["accuracy_without_ties"]) == (0.0, 0.0) and "agreement" not in empty


def test_nothing_scored_is_zero_accuracy_not_a_sentinel():
    """Catches: an evaluation with nothing to score (every item a tie, or no item) reporting an
    accuracy of 1 or -1; a table averaging it would be off by that much."""
    for judgments in ([], [PairJudgment("1", "tie", "A")]):
        counts = accuracy_counts(judgments)
        assert (counts["accuracy"], counts["accuracy_parsed"], counts["judged"]) == (0.0, 0.0, 0)


def test_position_bias_leaves_ties_out_and_reports_true_percentages():
    """Catches: tie-labelled items kept in the position report (``gold <= TIE``: the gold A rate
    over 4 items instead of 3), the B side's accuracy computed over the wrong items
    (``presented_gold > "B"``), rates floored to integers (``//``) and empty rates reported as -1.

    Hand count (original order): gold A, A, B and one tie; verdicts A, B, B, A -> gold A rate 2/3
    = 66.67; of the 3 non-tie items 1 says A: verdict A rate 33.33; accuracy on
    gold A 1/2 = 50, on gold B 1/1 = 100."""
    judgments = [PairJudgment("1", "A", "A"), PairJudgment("2", "A", "B"), PairJudgment("3", "B", "B"), PairJudgment("4", "tie", "A")]
    bias = position_bias(judgments)
    assert bias["gold_a_rate"] == pytest.approx(200 / 3) and bias["verdict_a_rate"] == pytest.approx(100 / 3)
    assert (bias["accuracy_gold_a"], bias["accuracy_gold_b"]) == (50.0, 100.0)
    assert position_bias([]) == {"verdict_a_rate": 0.0, "gold_a_rate": 0.0, "accuracy_gold_a": 0.0, "accuracy_gold_b": 0.0}
    assert swap_consistency([PairJudgment("1", "A", "A")])["consistency"] == 0.0  # no item judged in both orders


def test_agreement_needs_the_label_and_tie_labels_read_from_files_are_ties():
    """Catches: Auto-J agreement counted with ``verdict <= gold`` (both orders saying A on a B item
    counted as agreeing with the label: 50% instead of 0%), and ties left in the position report when
    the label is a "tie" string read from a file (``gold is not TIE``: an equal string but another
    object, as every label parsed from JSON or YAML is)."""
    judgments = [PairJudgment("1", "B", "A"), PairJudgment("1", "B", "A", swapped=True), PairJudgment("2", "A", "A"), PairJudgment("2", "A", "B", swapped=True)]
    report = tie_report(judgments)
    assert (report["agreement"], report["consistency"]) == (0.0, 50.0)
    tie_from_file = "".join(["t", "ie"])
    bias = position_bias([PairJudgment("1", "A", "A"), PairJudgment("2", tie_from_file, "A")])
    assert bias["gold_a_rate"] == 100.0
