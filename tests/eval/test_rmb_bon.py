"""RMB Best-of-N: a group counts only when the judge prefers the best response over EVERY loser."""

from __future__ import annotations

import pytest

from cj2.eval.benchmarks.rmb.metric import bon_accuracy, rmb_scores
from cj2.eval.core.pairwise_metric import PairJudgment


def group(uid: str, verdicts: list[str | None]) -> list[PairJudgment]:
    """One BoN group: the best response (gold A) against one loser per verdict."""
    return [PairJudgment(item=f"{uid}-{k}", gold="A", verdict=v) for k, v in enumerate(verdicts)]


def test_best_of_n_needs_every_loser_beaten_with_three_or_more_losers():
    """Catches: BoN counted by majority (beating 2 of 3 losers) in cj2/eval/benchmarks/rmb/metric.py.

    Hand count: g_all beats 3/3, g_most 2/3, g_one 1/3, g_four 4/4, g_unparsed 3/4 + one unparsed
    -> 2 of 5 groups correct = 40%."""
    groups = {
        "g_all": group("g_all", ["A", "A", "A"]),
        "g_most": group("g_most", ["A", "B", "A"]),
        "g_one": group("g_one", ["B", "A", "B"]),
        "g_four": group("g_four", ["A", "A", "A", "A"]),
        "g_unparsed": group("g_unparsed", ["A", "A", None, "A"]),
    }
    assert bon_accuracy(groups) == pytest.approx(40.0)
    assert bon_accuracy({"g_most": groups["g_most"]}) == 0.0


def test_rmb_scores_split_pairs_and_bon_per_goal():
    """The overall score is the mean of pair and BoN averages (OpenCompass's total_accuracy).

    Hand count: helpfulness pairs 1/2 = 50; harmlessness pairs 2/2 = 100 -> pair_average 75.
    helpfulness BoN: h1 beats 3/3, h2 beats 2/3 -> 50; harmlessness BoN: s1 beats 2/3 -> 0
    -> bon_average 25; score (75 + 25) / 2 = 50. Catches: majority BoN (would give bon 100/100)."""
    tagged = [
        (PairJudgment("p1", "A", "A"), "Helpfulness", ""),
        (PairJudgment("p2", "B", "A"), "Helpfulness", ""),
        (PairJudgment("p3", "A", "A"), "Harmlessness", ""),
        (PairJudgment("p4", "B", "B"), "Harmlessness", ""),
    ]
    tagged += [(j, "Helpfulness", "h1") for j in group("h1", ["A", "A", "A"])]
    tagged += [(j, "Helpfulness", "h2") for j in group("h2", ["A", "B", "A"])]
    tagged += [(j, "Harmlessness", "s1") for j in group("s1", ["A", "A", "B"])]
    scores = rmb_scores(tagged)
    parts = {k: (v["accuracy"], v["items"]) for k, v in scores["parts"].items()}
    assert parts == {
        "pair_helpfulness": (50.0, 2),
        "pair_harmlessness": (100.0, 2),
        "bon_helpfulness": (50.0, 2),
        "bon_harmlessness": (0.0, 1),
    }
    assert scores["pair_average"] == 75.0 and scores["bon_average"] == 25.0 and scores["score"] == 50.0


def test_accuracies_are_true_percentages_and_empty_parts_score_zero():
    """Catches: floor division in pair_accuracy (1 of 3 would be 33.0) and a non-zero score for
    an empty part (a sentinel like -1 would drag the averages down)."""
    from cj2.eval.benchmarks.rmb.metric import pair_accuracy

    assert pair_accuracy([PairJudgment("a", "A", "A"), PairJudgment("b", "A", "B"), PairJudgment("c", "B", None)]) == pytest.approx(100 / 3)
    assert pair_accuracy([]) == 0.0 and bon_accuracy({}) == 0.0


def test_cj2_averages_are_true_means_and_nothing_judged_scores_zero():
    """Catches (mutation survivors): the pair average taken with floor division (``//``: 33.3 +
    100 -> 66 instead of 66.67) and an empty evaluation scoring 1.0 or -1.0 instead of 0.

    Hand count: helpfulness pairs 1 of 3 right (33.33%), harmlessness 1 of 1 (100%): pair average
    66.67; no BoN group, so the score is the pair average."""
    tagged = [(PairJudgment(item=f"h{i}", gold="A", verdict=v), "Helpfulness", "") for i, v in enumerate(["A", "B", "B"])]
    tagged.append((PairJudgment(item="x", gold="B", verdict="B"), "Harmlessness", ""))
    scores = rmb_scores(tagged)
    assert scores["pair_average"] == pytest.approx(200 / 3) and scores["score"] == pytest.approx(200 / 3)
    assert rmb_scores([])["score"] == 0.0


def test_rules_read_from_a_config_are_compared_by_value():
    """Catches: ``rules is "opencompass"`` (identity instead of equality): a string read from a
    config file is a new object, not the interned literal, so the official rules would silently
    fall back to cj2's (the unparsed pair counted in the denominator: 50.0 instead of 100.0; the
    pair average over the goals present: 100.0 instead of OpenCompass's 50.0)."""
    rules = "".join(["open", "compass"])  # built at run time, like a value read from YAML
    tagged = [(PairJudgment(item="a", gold="A", verdict="A"), "Helpfulness", ""), (PairJudgment(item="b", gold="A", verdict=None), "Helpfulness", "")]
    official = rmb_scores(tagged, rules=rules)
    assert official["parts"]["pair_helpfulness"]["accuracy"] == 100.0
    assert official["pair_average"] == 50.0  # OpenCompass divides by both goals, the absent one counting 0
    assert rmb_scores(tagged)["parts"]["pair_helpfulness"]["accuracy"] == 50.0
