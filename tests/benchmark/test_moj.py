"""Mixture-of-Judges labels, tie rules and agreement numbers against hand-computed cases."""

from __future__ import annotations

import pytest

from cj2.benchmark.moj import Pair, agreement, decide, fleiss_kappa, judge_requests, majority, vote
from cj2.eval.judging.official_parsers import official_parse

B, M = "base", "model"


def test_majority_counts_parsed_votes_only():
    """Mutant caught: an unparsed vote (None) counted for the base model (then [M, M, None, None, None] -> base)."""
    assert majority([M, M, B]) == M
    assert majority([B, B, M, None]) == B
    assert majority([M, None, None, None]) == M
    assert majority([M, M, None, None, None]) == M
    assert majority([M, B]) is None  # even split
    assert majority([None, None]) is None  # nothing parsed


@pytest.mark.parametrize(
    "votes, arbiter, rule, expected",
    [
        ([M, M, M, B], None, "drop", (M, "majority")),  # 3:1
        ([M, B, M, B], None, "drop", (None, "dropped_tie")),  # 2:2, drop
        ([M, B, M, B], [B, B], "arbiter", (B, "arbiter")),  # 2:2, the arbiter says base twice
        ([M, B, None, None], [M, None], "arbiter", (M, "arbiter")),  # 1:1 (two unparsed), arbiter 1:0
        ([M, B, M, B], [M, B], "arbiter", (None, "dropped_arbiter_split")),  # the arbiter splits too
        ([B, B, B, M], [M, M], "arbiter", (B, "majority")),  # no tie: the arbiter is not consulted
    ],
)
def test_tie_rules(votes, arbiter, rule, expected):
    """Mutants caught: a tie going to the base model instead of the rule; the arbiter overriding a clear
    majority; an arbiter split kept (as base) instead of dropped."""
    label = decide(votes, rule, arbiter)
    assert (label.winner, label.how) == expected


def test_tie_rule_arbiter_needs_votes_and_unknown_rule_fails():
    """Mutant caught: a tie under tie_rule=arbiter silently dropped when the arbiter's votes are missing."""
    with pytest.raises(ValueError, match="arbiter"):
        decide([M, B], "arbiter", None)
    with pytest.raises(ValueError, match="unknown tie rule"):
        decide([M, M], "coin", None)


# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories; P = 0.378, P_e = 0.213, kappa = 0.210.
WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_wikipedia_example():
    """Mutant caught: P_i divided by n^2 instead of n(n-1) (gives 0.176)."""
    assert fleiss_kappa(WIKIPEDIA) == pytest.approx(0.20993, abs=5e-5)


def test_fleiss_kappa_edges():
    """Hand cases: perfect agreement over two categories is 1; a single category everywhere is undefined (None);
    two raters always disagreeing on a 50/50 split is -1. Mutant caught: the undefined 0/0 returned as 0."""
    assert fleiss_kappa([[4, 0], [0, 4], [4, 0]]) == pytest.approx(1.0)
    assert fleiss_kappa([[3, 0], [3, 0]]) is None
    assert fleiss_kappa([[1, 1], [1, 1]]) == pytest.approx(-1.0)
    assert fleiss_kappa([]) is None
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 0], [1, 0]])


def test_agreement_hand_computed():
    """Two judges x two orders over three pairs.

    j1: (M,M) (B,B) (M,B);  j2: (M,B) (B,B) (None,B)
    pairwise j1|j2 over votes both parsed: M=M, M!=B, B=B, B=B, B=B -> 4/5
    Fleiss over pairs with all 4 votes parsed (pairs 0, 1): rows [B,M] = [1,3], [4,0]
      P_0 = (1+9-4)/12 = 0.5, P_1 = 1; P = 0.75; p_B = 5/8, p_M = 3/8; P_e = 34/64
      kappa = (0.75 - 34/64) / (1 - 34/64) = 14/30
    position consistency: j1 2 of 3, j2 1 of 2.
    Mutant caught: pairwise agreement counting a None vote as a disagreement (3/6)."""
    result = agreement({"j1": [(M, M), (B, B), (M, B)], "j2": [(M, B), (B, B), (None, B)]})
    assert result["pairwise"]["j1 | j2"] == {"agreement": pytest.approx(4 / 5), "votes": 5}
    assert result["kappa_pairs"] == 2
    assert result["fleiss_kappa"] == pytest.approx(14 / 30)
    assert result["position_consistency"] == {"j1": pytest.approx(2 / 3), "j2": pytest.approx(1 / 2)}


def _pair(lan="en"):
    return Pair("Knowledge", "Knowledge", lan, 0, "q?", "base-m", "base answer", "pol", "policy answer")


def test_votes_follow_the_order_shown():
    """Row 2p shows the base model as A, row 2p+1 as B; a verdict A means base in the first and the policy in
    the second. Mutant caught: vote() ignoring base_is_a (every "A" read as the base model)."""
    requests = judge_requests([_pair()])
    first, second = (r["messages"][0]["content"] for r in requests)
    assert first.index("base answer") < first.index("policy answer")
    assert second.index("policy answer") < second.index("base answer")
    assert [r["key"] for r in requests] == [{"pair": 0, "base_is_a": True}, {"pair": 0, "base_is_a": False}]
    a = '{"analysis": "x", "winner": "A"}'
    assert vote(_pair(), True, a, official_parse) == B
    assert vote(_pair(), False, a, official_parse) == M
    assert vote(_pair(), True, '{"winner": "C"}', official_parse) is None  # names neither response
    assert vote(_pair("cn"), False, '{"胜者": "B"}', official_parse) == B
