"""A cj2 judge in TRL's pairwise-judge interface: ``OnlineDPOTrainer(judge=CJ2PairwiseJudge(...))``.

TRL 1.0.0 keeps its judge interface in ``trl.experimental.judges`` (later releases dropped it):
``BasePairwiseJudge.judge(prompts, completions, shuffle_order=True) -> list[int]``, each the
index (0 or 1) of the preferred completion of a pair, ``-1`` when the judge gave none. With
``shuffle_order`` each pair is shown in a random order (a judge's position bias then averages
out over a batch) and the verdict is mapped back to the caller's order; ``last_flips`` keeps
which pairs were shown swapped. Ties are not an answer here: a tie is broken by the verdict
probabilities when the judge has them, else the pair gets ``-1``.
"""

from __future__ import annotations

import random
from typing import Any

try:
    from trl.experimental.judges import BasePairwiseJudge
except ImportError as error:  # an optional dependency: the message says which release has the interface
    raise ImportError("cj2.judge.trl_judge needs TRL's judge interface: pip install 'trl==1.0.0' (cj2[trl])") from error

from cj2.judge.client import judge_at


class CJ2PairwiseJudge(BasePairwiseJudge):
    """``judge``: a judge service URL, a model dir, or any object with ``judge(items, **options)``."""

    def __init__(self, judge: Any, template: str = "cj2_cot", both_orders: bool = False, constrained: bool = False, seed: int | None = None):
        self.judge_backend = judge_at(judge) if isinstance(judge, str) else judge
        self.template = template
        self.both_orders = both_orders
        self.constrained = constrained
        self.rng = random.Random(seed)
        self.last_flips: list[bool] = []

    def judge(self, prompts: list[str], completions: list[list[str]], shuffle_order: bool = True) -> list[int]:
        if len(prompts) != len(completions) or any(len(pair) != 2 for pair in completions):
            raise ValueError("CJ2PairwiseJudge needs exactly one pair of completions per prompt")
        flips = [shuffle_order and self.rng.random() < 0.5 for _ in prompts]
        items = [{"question": prompt, "responses": list(pair[::-1] if flip else pair), "mode": "pairwise", "template": self.template}
                 for prompt, pair, flip in zip(prompts, completions, flips, strict=True)]
        answers = self.judge_backend.judge(items, both_orders=self.both_orders, ties=False, constrained=self.constrained)
        self.last_flips = flips
        return [_rank(answer.get("verdict"), flip) for answer, flip in zip(answers, flips, strict=True)]


def _rank(verdict: str | None, flipped: bool) -> int:
    """The caller's index of the preferred completion (-1: no verdict)."""
    if verdict not in ("A", "B"):
        return -1
    shown = 0 if verdict == "A" else 1
    return 1 - shown if flipped else shown
