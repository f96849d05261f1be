"""Confidence intervals and paired tests for judge comparisons, pure (numpy + scipy).

A judge's verdicts on one question are not independent (the question in both orders, the pairs
of one best-of-N group), so the bootstrap here resamples QUESTIONS, never verdicts: each verdict
carries its question, a resample draws questions with replacement and takes every verdict of a
drawn question along, and the statistic is the mean over the drawn verdicts (so the point
estimate is exactly the metric the report shows, whatever the number of verdicts per question).
Loss-vs-loss differences are paired: two judges trained on the same data (same seed) are scored
on the same verdicts, the difference is taken per verdict, and the questions are resampled.

All intervals are two-sided at ``level`` (95% by default), in the units of the values given
(percent when the values are 0 / 100).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
RESAMPLES = 2000
# Resamples are drawn in chunks of at most this many question indices (memory stays flat for large sets).
_CHUNK_CELLS = 4_000_000


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def scaled(self, factor: float) -> Interval:
        return Interval(self.estimate * factor, self.low * factor, self.high * factor)

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}

    def text(self, digits: int = 1, signed: bool = False) -> str:
        """``"70.0 [55.2, 84.1]"`` (the bounds left out when there are none)."""
        sign = "+" if signed else ""
        if math.isnan(self.low):
            return f"{self.estimate:{sign}.{digits}f}"
        return f"{self.estimate:{sign}.{digits}f} [{self.low:{sign}.{digits}f}, {self.high:{sign}.{digits}f}]"


NAN_INTERVAL = Interval(math.nan, math.nan, math.nan)


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1), got {level}")


def wilson(successes: int, n: int, level: float = LEVEL) -> Interval:
    """The Wilson score interval of a proportion of ``n`` independent trials (in 0-1)."""
    _check_level(level)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n]: {successes} of {n}")
    if n == 0:
        return NAN_INTERVAL
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # At p = 0 or 1 one bound equals p in exact arithmetic; rounding can put it an ulp past p.
    return Interval(p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half)))


def _codes(questions: Sequence[Hashable]) -> tuple[np.ndarray, int]:
    index: dict[Hashable, int] = {}
    codes = np.fromiter((index.setdefault(q, len(index)) for q in questions), dtype=np.int64, count=len(questions))
    return codes, len(index)


def question_bootstrap(values: Sequence[float], questions: Sequence[Hashable], resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> Interval:
    """The mean of ``values`` (one per verdict) with a percentile bootstrap interval that resamples
    the verdicts' ``questions`` (each drawn question brings all its verdicts)."""
    _check_level(level)
    values = np.asarray(values, dtype=np.float64)
    if values.shape != (len(questions),):
        raise ValueError(f"one question per value: {values.shape[0] if values.ndim else 0} values, {len(questions)} questions")
    if values.size == 0:
        return NAN_INTERVAL
    codes, n = _codes(questions)
    sums = np.bincount(codes, weights=values, minlength=n)
    counts = np.bincount(codes, minlength=n).astype(np.float64)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    step = max(1, _CHUNK_CELLS // n)
    for start in range(0, resamples, step):
        drawn = rng.integers(0, n, size=(min(step, resamples - start), n))
        means[start : start + drawn.shape[0]] = sums[drawn].sum(axis=1) / counts[drawn].sum(axis=1)
    tail = (1 - level) / 2
    return Interval(float(sums.sum() / counts.sum()), float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail)))


def rate_interval(hits: Sequence[bool], questions: Sequence[Hashable], resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> Interval:
    """A rate in percent with its interval: the question bootstrap, except when every verdict
    agrees (0% or 100%), where resampling has no spread to show: then Wilson with each question
    one trial (conservative when a question holds several verdicts)."""
    hits = np.asarray(hits, dtype=bool)
    if hits.size and (hits.all() or not hits.any()):
        n = len(set(questions))
        return wilson(n if hits.all() else 0, n, level).scaled(100.0)
    return question_bootstrap(100.0 * hits, questions, resamples, seed, level)


def paired_bootstrap(a: Sequence[float], b: Sequence[float], questions: Sequence[Hashable], resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> Interval:
    """mean(a - b) over the same verdicts (``a[i]``, ``b[i]``: two judges on verdict ``i``), the
    questions resampled with both judges' verdicts together."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired scores need the same verdicts: {a.shape[0]} vs {b.shape[0]}")
    return question_bootstrap(a - b, questions, resamples, seed, level)


def mcnemar(a_right: Sequence[bool], b_right: Sequence[bool]) -> dict:
    """Exact McNemar test on paired verdicts: only the discordant ones carry information.

    ``a_only``: a right, b wrong; ``b_only``: a wrong, b right. Two-sided p = 2 * P(X <= min) for
    X ~ Binomial(a_only + b_only, 1/2), capped at 1. It treats the verdicts as independent pairs;
    verdicts of one question are correlated, so read it beside :func:`paired_bootstrap`, which
    resamples questions.
    """
    a, b = np.asarray(a_right, dtype=bool), np.asarray(b_right, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"paired verdicts need the same items: {a.shape[0]} vs {b.shape[0]}")
    a_only, b_only = int((a & ~b).sum()), int((b & ~a).sum())
    n = a_only + b_only
    p = 1.0 if n == 0 else min(1.0, 2 * float(stats.binom.cdf(min(a_only, b_only), n, 0.5)))
    return {"a_only": a_only, "b_only": b_only, "p": p}


def across_seeds(differences: Sequence[float], level: float = LEVEL) -> Interval:
    """Mean of per-seed paired differences with a Student t interval (the seeds are the replicates;
    fewer than two seeds give no interval)."""
    _check_level(level)
    d = np.asarray(differences, dtype=np.float64)
    if d.size < 2:
        return Interval(float(d.mean()) if d.size else math.nan, math.nan, math.nan)
    half = stats.t.ppf(0.5 + level / 2, d.size - 1) * d.std(ddof=1) / math.sqrt(d.size)
    return Interval(float(d.mean()), float(d.mean() - half), float(d.mean() + half))
