"""The JudgerBenchV2 metric against the paper's arithmetic and hand-computed scenarios."""

from __future__ import annotations

import pytest

from cj2.eval.benchmarks.judgerbenchv2.metric import (
    BASE,
    MODEL,
    PairOutcome,
    final_score,
    normalized_diff,
    rank_by_score,
    score_scenario,
    summarize,
)


def outcomes(model, golds, judged):
    assert len(golds) == len(judged)
    return [PairOutcome(model, g, j) for g, j in zip(golds, judged, strict=True)]


M, B = MODEL, BASE


@pytest.mark.parametrize(
    "accuracy, diff, published_final",
    [(78.04, 57.00, 60.52), (80.90, 56.47, 62.21)],  # CJ2-7B, CJ2-32B (method.md section 4)
)
def test_final_reproduces_the_papers_arithmetic(accuracy, diff, published_final):
    # The paper prints inputs rounded to 2 decimals (80.90 - 56.47 gives 62.215): allow that rounding.
    assert final_score(accuracy, diff) == pytest.approx(published_final, abs=0.0051)


def test_final_formula():
    assert final_score(78.04, 57.00) == pytest.approx(60.52, abs=1e-9)
    assert final_score(100.0, 0.0) == 100.0
    assert final_score(0.0, 200.0) == -50.0


def test_ranks_sort_by_score_then_name():
    assert rank_by_score({"b": 5, "a": 5, "c": 9, "d": 0}) == {"c": 1, "a": 2, "b": 3, "d": 4}


def test_hand_built_scenario():
    truth = {"alpha": 6, "beta": 4, "gamma": 2}
    data = (
        # alpha: 3 judged wins, 5 of 6 correct
        outcomes("alpha", [M, M, M, M, B, B], [M, M, M, B, B, B])
        # beta: 5 judged wins, 2 correct, one unparsed
        + outcomes("beta", [M, M, B, B, B, B], [M, M, M, M, M, None])
        # gamma: 3 judged wins, 2 correct; "C" parsed but names neither side
        + outcomes("gamma", [B, B, B, B, B, B], [M, M, M, B, B, "C"])
    )
    score = score_scenario("Knowledge", data, truth)
    assert (score.total, score.parsed, score.unparsed, score.correct) == (18, 17, 1, 9)
    assert score.accuracy == pytest.approx(900 / 17)
    assert score.judged_wins == {"alpha": 3, "beta": 5, "gamma": 3}
    # s2 ranks: beta 5 > alpha 3 = gamma 3 (alpha before gamma by name)
    assert score.judged_rank == {"beta": 1, "alpha": 2, "gamma": 3}
    assert score.ground_truth_rank == {"alpha": 1, "beta": 2, "gamma": 3}
    assert (score.rank_diff, score.score_diff, score.max_score_diff) == (2, 5, 3)
    # (100/3) * [(1/2 + 3/3) + (1/2 + 1/3) + (0 + 1/3)] = 800/9
    assert score.normalized_diff == pytest.approx(800 / 9)
    assert score.final == pytest.approx((900 / 17 - 800 / 9 + 100) / 2)
    assert score.notes == []


def test_max_score_diff_zero_gives_zero_diff():
    truth = {"x": 2, "y": 1}
    data = outcomes("x", [M, M, B], [M, M, B]) + outcomes("y", [M, B, B], [M, B, B])
    score = score_scenario("IF", data, truth)
    assert score.max_score_diff == 0
    assert score.normalized_diff == 0.0
    assert score.accuracy == 100.0
    assert score.final == 100.0
    assert any("score term 0" in n for n in score.notes)


def test_model_without_judged_wins_is_ranked_with_zero_wins():
    truth = {"x": 3, "y": 1}
    data = outcomes("x", [M, M, M], [B, B, B]) + outcomes("y", [M, B, B], [M, B, B])
    score = score_scenario("safe", data, truth)
    assert score.judged_wins == {"x": 0, "y": 1}
    assert score.judged_rank == {"y": 1, "x": 2}
    # rank term 1/1 each; score term 3/3 for x, 0/3 for y -> (100/2) * 3
    assert score.normalized_diff == pytest.approx(150.0)
    assert score.accuracy == pytest.approx(50.0)
    assert score.final == pytest.approx(0.0)
    assert any("no judged wins" in n and "x" in n for n in score.notes)


def test_all_outputs_unparsed():
    truth = {"x": 3, "y": 1}
    data = outcomes("x", [M, M], [None, None]) + outcomes("y", [B, B], [None, None])
    score = score_scenario("chatQA", data, truth)
    assert (score.parsed, score.unparsed, score.accuracy) == (0, 4, 0.0)
    assert score.judged_wins == {"x": 0, "y": 0}
    # ranks agree by name (x, y); score term 3/3 + 1/3 -> (100/2) * 4/3
    assert score.normalized_diff == pytest.approx(200 / 3)
    assert score.final == pytest.approx((0 - 200 / 3 + 100) / 2)
    assert any("no verdict parsed" in n for n in score.notes)


def test_single_model_has_no_rank_term():
    assert normalized_diff({"only": 5}, {"only": 2}) == pytest.approx(100.0)


def test_unknown_model_is_an_error():
    with pytest.raises(ValueError, match="stranger"):
        score_scenario("LanTask", outcomes("stranger", [M], [M]), {"x": 1})


def test_benchmark_mean_is_linear_in_the_parts():
    a = score_scenario("a", outcomes("x", [M, B], [M, M]) + outcomes("y", [B, B], [B, B]), {"x": 2, "y": 0})
    b = score_scenario("b", outcomes("x", [M, M], [None, M]) + outcomes("y", [M, B], [B, M]), {"x": 1, "y": 1})
    overall = summarize([a, b])
    assert overall["final"] == pytest.approx((a.final + b.final) / 2)
    assert overall["final"] == pytest.approx(final_score(overall["accuracy"], overall["normalized_diff"]))
    assert overall["unparsed"] == 1


def test_benchmark_rank_and_score_differences_are_true_means():
    """Catches (mutation survivors): the mean rank and score differences over scenarios computed
    with ``//``, ``&``, ``|`` or ``<<`` instead of ``/`` (the earlier tests' sums happened to divide
    evenly). Hand count: rank diffs 1 and 2 -> 1.5; score diffs 3 and 4 -> 3.5."""
    import dataclasses

    a = score_scenario("a", outcomes("x", [M, B], [M, M]) + outcomes("y", [B, B], [B, B]), {"x": 2, "y": 0})
    parts = [dataclasses.replace(a, rank_diff=1, score_diff=3), dataclasses.replace(a, scenario="b", rank_diff=2, score_diff=4)]
    overall = summarize(parts)
    assert (overall["rank_diff"], overall["score_diff"]) == (1.5, 3.5)
