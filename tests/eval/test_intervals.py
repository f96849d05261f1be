"""Intervals and paired tests (cj2.eval.core.intervals) against published and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from cj2.eval.core.intervals import across_seeds, mcnemar, paired_bootstrap, question_bootstrap, rate_interval, wilson


@pytest.mark.parametrize(("successes", "n", "low", "high"), [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)])
def test_wilson_matches_newcombe_1998(successes, n, low, high):
    """Newcombe, Statistics in Medicine 17:857 (1998), Table II, method 3 (score interval without
    continuity correction), to the 4 decimals printed. Mutant: ``z * z / (4 * n)`` for
    ``z * z / (4 * n * n)`` -> every case is off in the 2nd decimal."""
    interval = wilson(successes, n)
    assert interval.estimate == pytest.approx(successes / n)
    assert (round(interval.low, 4), round(interval.high, 4)) == (low, high)


def test_an_all_or_nothing_wilson_interval_holds_its_own_estimate():
    """0 of n and n of n: one bound equals the estimate exactly. Mutant killed (the bug it was
    written for): the bounds as computed, an ulp past the estimate for about half of all n (0 of 3,
    10 of 10, ...), which made the loss comparison's error bar negative and its plot raise."""
    for n in range(1, 400):
        for successes in (0, n):
            interval = wilson(successes, n)
            assert interval.low <= interval.estimate <= interval.high, (successes, n, interval)


def test_wilson_refuses_impossible_counts():
    with pytest.raises(ValueError, match="successes"):
        wilson(5, 4)


@pytest.mark.parametrize(("a_only", "b_only", "p"), [(1, 9, 22 / 1024), (0, 6, 2 / 64), (5, 5, 1.0), (0, 0, 1.0)])
def test_exact_mcnemar_against_the_binomial_table(a_only, b_only, p):
    """Hand: 1 vs 9 discordant: P(X <= 1 | n=10, 1/2) = (1 + 10) / 1024, two-sided 22/1024 = 0.0215;
    0 vs 6: 2 * (1/2)^6 = 1/32; 5 vs 5: capped at 1; no discordant pair: 1. Concordant pairs
    (here 3 both right, 2 both wrong) change nothing. Mutant: the one-sided ``binom.cdf`` without
    the factor 2 -> 11/1024."""
    a = [True] * a_only + [False] * b_only + [True] * 3 + [False] * 2
    b = [False] * a_only + [True] * b_only + [True] * 3 + [False] * 2
    out = mcnemar(a, b)
    assert (out["a_only"], out["b_only"]) == (a_only, b_only)
    assert out["p"] == pytest.approx(p, abs=1e-12)


def test_t_interval_over_seeds_by_hand():
    """Differences 1, 2, 3, 4: mean 2.5, sd = sqrt(5/3) = 1.29099, se = 0.645497, t(0.975, 3) = 3.182
    (any t table), half-width 2.0543 -> [0.4457, 4.5543]. One seed: no interval. Mutant: the normal
    1.96 for the t quantile -> [1.2348, 3.7652]."""
    interval = across_seeds([1.0, 2.0, 3.0, 4.0])
    assert interval.estimate == pytest.approx(2.5)
    assert interval.low == pytest.approx(0.4457, abs=1e-3) and interval.high == pytest.approx(4.5543, abs=1e-3)
    single = across_seeds([3.0])
    assert single.estimate == 3.0 and np.isnan(single.low) and np.isnan(single.high)


def test_the_estimate_is_the_mean_over_verdicts_whatever_the_question_sizes():
    """Question q1 holds three right verdicts, q2 one wrong one: the metric is 3/4 = 0.75 (the
    draft's mean of per-question means gave 0.5, a number no table shows). Every resample is a mean
    of whole questions, so the interval lies in [0, 1] and contains the estimate."""
    interval = question_bootstrap([1, 1, 1, 0], ["q1", "q1", "q1", "q2"], resamples=500)
    assert interval.estimate == pytest.approx(0.75)
    assert 0.0 <= interval.low <= 0.75 <= interval.high <= 1.0


def test_rates_at_0_or_100_get_wilson_over_questions():
    """All 20 verdicts of 10 questions right: the bootstrap has no spread, so Wilson with n = 10
    questions: centre (1 + 1.9208/10)/(1 + 3.8416/10) = 0.86123, half 1.96 * sqrt(3.8416/400) / 1.38416
    = 0.13877 -> [72.25, 100]. Mutant: n = 20 verdicts -> low 83.89."""
    questions = [f"q{i // 2}" for i in range(20)]
    interval = rate_interval([True] * 20, questions)
    assert interval.estimate == 100.0
    assert interval.low == pytest.approx(72.25, abs=0.01) and interval.high == pytest.approx(100.0)
    assert rate_interval([False] * 20, questions).high == pytest.approx(27.75, abs=0.01)


def test_paired_bootstrap_pairs_by_position_and_refuses_unequal_lengths():
    """a - b per verdict: (1-0, 1-1, 0-1, 1-0) -> mean 0.25."""
    interval = paired_bootstrap([1, 1, 0, 1], [0, 1, 1, 0], ["q1", "q1", "q2", "q3"], resamples=200)
    assert interval.estimate == pytest.approx(0.25)
    with pytest.raises(ValueError, match="same verdicts"):
        paired_bootstrap([1, 0], [1], ["q1", "q2"])


def test_question_bootstrap_covers_at_the_nominal_rate_on_clustered_verdicts():
    """Seeded simulation: 150 questions x 2 verdicts (both orders), a question is right in both orders
    with probability 0.6, wrong in both 0.2, split 0.2 (true accuracy 0.7, strongly correlated
    within a question). Over 300 data sets the question bootstrap covers 0.7 in 93.7% of them;
    resampling verdicts as if independent covers 86.7% (its standard error is sqrt(0.21/300) against
    the true sqrt(0.16/150): 0.81 of it, 89% coverage in theory). Mutant: resampling verdicts in
    ``question_bootstrap`` (each verdict its own question) -> the first assertion fails (0.867)."""
    rng = np.random.default_rng(7)
    questions = [f"q{i // 2}" for i in range(300)]
    covered = naive = 0
    for sim in range(300):
        kind = rng.choice(3, size=150, p=[0.6, 0.2, 0.2])
        first = (kind == 0) | (kind == 2)
        second = kind == 0
        values = np.stack([first, second], axis=1).reshape(-1).astype(float)
        interval = question_bootstrap(values, questions, resamples=400, seed=sim)
        covered += interval.low <= 0.7 <= interval.high
        independent = question_bootstrap(values, list(range(300)), resamples=400, seed=sim)
        naive += independent.low <= 0.7 <= independent.high
    assert 0.91 <= covered / 300 <= 0.985
    assert naive / 300 < 0.90
