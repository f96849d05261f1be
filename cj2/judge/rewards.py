"""A judge's answer as a scalar reward in [0, 1] for RL trainers (OpenRLHF's remote RM, verl's ``compute_score``).

- Pairwise (the policy's response at A, a reference response at B): the probability that the
  judge prefers the response, a tie counting half: ``P(A) + P(tie) / 2`` from the verdict-token
  probabilities (averaged over both orders when both were judged), else 1 / 0.5 / 0 from the
  verdict when the judge gives no probabilities.
- Pointwise with a numeric scale (MT-Bench's 1-10): the score, or its expectation under the
  probabilities, mapped linearly onto [0, 1]; with correct / incorrect: ``P(correct)`` or 1 / 0.

An answer without a verdict (unparsed) gets ``unparsed``: a reward loop keeps going and the
count of such answers is logged beside the rewards. An answer the backend failed on has no
reward (None): the caller reports an error rather than training on a made-up number.
"""

from __future__ import annotations

from typing import Any

from cj2.eval.core.pairwise_metric import TIE
from cj2.eval.judging.prompts import get_template
from cj2.verdicts import get_format

CORRECT = "correct"


def _numeric_range(verdict_format: str) -> tuple[float, float] | None:
    try:
        values = [float(label) for label in get_format(verdict_format).labels]
    except ValueError:
        return None
    return min(values), max(values)


def pairwise_reward(answer: dict[str, Any]) -> float | None:
    """The probability that response A wins (ties half), or None when the answer has no verdict."""
    probabilities = answer.get("probabilities")
    if answer.get("status") == "ok" and probabilities:
        return probabilities.get("A", 0.0) + probabilities.get(TIE, 0.0) / 2
    return {"A": 1.0, TIE: 0.5, "B": 0.0}.get(answer.get("verdict"))


def pointwise_reward(answer: dict[str, Any], verdict_format: str) -> float | None:
    """The response's score on [0, 1], or None when the answer has no verdict."""
    if answer.get("verdict") is None:
        return None
    scale = _numeric_range(verdict_format)
    if scale is not None:
        low, high = scale
        score = answer.get("expected_score")
        score = float(answer["verdict"]) if score is None else score
        return (score - low) / (high - low)
    probabilities = answer.get("probabilities")
    if probabilities and CORRECT in probabilities:
        return probabilities[CORRECT]
    return 1.0 if answer["verdict"] == CORRECT else 0.0


def reward(answer: dict[str, Any], unparsed: float) -> float | None:
    """The reward of one answer (pairwise: response A against B); ``unparsed`` when it has no verdict; None on error."""
    if answer.get("status") == "error":
        return None
    verdict_format = get_template(answer["template"]).verdict_format
    if answer["mode"] == "pairwise":
        value = pairwise_reward(answer)
    else:
        value = pointwise_reward(answer, verdict_format)
    return unparsed if value is None else value
