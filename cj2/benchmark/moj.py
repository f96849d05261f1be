"""Mixture-of-Judges labels: every judge votes on every (base, policy) pair in both A/B orders.

A vote names the side it prefers: ``base`` or ``model`` (the policy), or ``None`` when the verdict
did not parse or names neither response. The label is the side with more votes over all judges
and both orders; an even split (unparsed votes do not count) is a tie, decided by the tie rule:
``drop`` leaves the pair out of the benchmark; ``arbiter`` asks the arbiter judge, in both orders,
and takes its majority (still split: dropped). Agreement per scenario: each pair of judges' rate of
equal votes where both parsed (order by order), and Fleiss' kappa with every (judge, order) a rater.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from cj2.eval.benchmarks.judgerbenchv2.metric import BASE, MODEL
from cj2.eval.benchmarks.judgerbenchv2.prompt import judge_prompt
from cj2.eval.benchmarks.judgerbenchv2.records import VERDICT_FORMAT, JudgerBenchRecord
from cj2.eval.judging.verdict_source import ParseFn, judged_label

SIDES = (BASE, MODEL)
ORDERS = (True, False)  # base_is_a: the base model as Model A, then as Model B
TIE_RULES = ("drop", "arbiter")


@dataclass(frozen=True)
class Pair:
    """One comparison of the benchmark: a policy's and the base model's answers to one query."""

    scenario: str
    category: str  # gold.category (the published spelling for the published scenarios)
    lan: str
    query_row: int
    prompt: str
    base_model: str
    base_response: str
    model: str
    model_response: str

    def shown(self, base_is_a: bool) -> JudgerBenchRecord:
        return JudgerBenchRecord(self.scenario, 0, self.prompt, self.category, self.lan, self.base_model, self.base_model, self.base_response, self.model, self.model_response, base_is_a)


def judge_requests(pairs: Sequence[Pair]) -> list[dict]:
    """Two requests per pair (row 2p: base as A, row 2p+1: base as B), in JudgerBenchV2's own prompt."""
    return [
        {"key": {"pair": p, "base_is_a": base_is_a}, "messages": [{"role": "user", "content": judge_prompt(pair.shown(base_is_a))}]}
        for p, pair in enumerate(pairs)
        for base_is_a in ORDERS
    ]


def vote(pair: Pair, base_is_a: bool, text: str, parse: ParseFn) -> str | None:
    """The side a verdict prefers; None when it did not parse or names neither A nor B."""
    letter = judged_label(parse, VERDICT_FORMAT[pair.lan], text)
    if letter not in ("A", "B"):
        return None
    return BASE if (letter == "A") == base_is_a else MODEL


def majority(votes: Sequence[str | None]) -> str | None:
    """The side with more parsed votes; None on an even split (no parsed vote included)."""
    counts = Counter(v for v in votes if v is not None)
    if counts[BASE] == counts[MODEL]:
        return None
    return BASE if counts[BASE] > counts[MODEL] else MODEL


@dataclass(frozen=True)
class Label:
    winner: str | None  # BASE | MODEL; None: dropped
    how: str  # majority | arbiter | dropped_tie | dropped_arbiter_split


def decide(votes: Sequence[str | None], tie_rule: str, arbiter_votes: Sequence[str | None] | None = None) -> Label:
    """The pair's label from the judges' votes and, for a tie under ``arbiter``, the arbiter's."""
    if tie_rule not in TIE_RULES:
        raise ValueError(f"unknown tie rule {tie_rule!r}; known: {', '.join(TIE_RULES)}")
    winner = majority(votes)
    if winner is not None:
        return Label(winner, "majority")
    if tie_rule == "drop":
        return Label(None, "dropped_tie")
    if arbiter_votes is None:
        raise ValueError("tie_rule=arbiter: a tied pair needs the arbiter's votes")
    winner = majority(arbiter_votes)
    return Label(winner, "arbiter") if winner is not None else Label(None, "dropped_arbiter_split")


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float | None:
    """Fleiss' kappa of a subjects x categories table of rating counts (the same number of raters per
    subject); None when undefined (no subjects, or one category takes every rating: P_e = 1)."""
    if not counts:
        return None
    raters = sum(counts[0])
    if raters < 2 or any(sum(row) != raters for row in counts):
        raise ValueError(f"every subject needs the same number (>= 2) of ratings, got {sorted({sum(row) for row in counts})}")
    subjects = len(counts)
    categories = len(counts[0])
    p_j = [sum(row[j] for row in counts) / (subjects * raters) for j in range(categories)]
    p_i = [(sum(c * c for c in row) - raters) / (raters * (raters - 1)) for row in counts]
    p_bar = sum(p_i) / subjects
    p_e = sum(p * p for p in p_j)
    if p_e == 1.0:
        return None
    return (p_bar - p_e) / (1 - p_e)


def agreement(votes_by_judge: dict[str, Sequence[Sequence[str | None]]]) -> dict:
    """Agreement over one scenario's pairs; ``votes_by_judge[judge][pair]`` = its votes in ORDERS order."""
    judges = list(votes_by_judge)
    pairwise = {}
    for a, b in itertools.combinations(judges, 2):
        both = [(x, y) for va, vb in zip(votes_by_judge[a], votes_by_judge[b], strict=True) for x, y in zip(va, vb, strict=True) if x is not None and y is not None]
        pairwise[f"{a} | {b}"] = {"agreement": sum(x == y for x, y in both) / len(both) if both else None, "votes": len(both)}
    pairs = len(next(iter(votes_by_judge.values()))) if judges else 0
    table = []
    for p in range(pairs):
        ratings = [v for judge in judges for v in votes_by_judge[judge][p]]
        if all(v is not None for v in ratings):
            table.append([ratings.count(side) for side in SIDES])
    consistency = {}
    for judge in judges:
        both = [vs for vs in votes_by_judge[judge] if all(v is not None for v in vs)]
        consistency[judge] = sum(len(set(vs)) == 1 for vs in both) / len(both) if both else None
    return {
        "pairwise": pairwise,
        "fleiss_kappa": fleiss_kappa(table) if len(judges) * len(ORDERS) >= 2 else None,
        "kappa_pairs": len(table),  # pairs with every vote parsed (Fleiss needs equal raters per subject)
        "position_consistency": consistency,  # per judge: same side in both orders, where both parsed
    }
