"""Pairwise judge metrics, pure: accuracy, swap consistency, verdict confusion, position bias.

A :class:`PairJudgment` is one verdict on one pair in one presentation order. ``gold`` and
``verdict`` are in the item's ORIGINAL coordinates (a verdict given with A and B exchanged is
mapped back first, with :func:`unswap`), so the two orders of an item are directly comparable.

Choices (docs/evaluation.md):
- accuracy = correct / judged: an unparsed verdict counts as wrong (as OpenCompass's judge
  evaluators do); ``accuracy_parsed`` = correct / parsed is shown beside it.
- items whose gold label is a tie are not scored (counted in ``skipped_ties``).
- a pair is swap-consistent when both orders parsed and agree (in original coordinates); the
  rate is over the items judged in both orders.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

TIE = "tie"
UNPARSED = "unparsed"


def unswap(label: str | None) -> str | None:
    """A verdict given on the swapped presentation, in the original order (tie stays tie)."""
    return {"A": "B", "B": "A"}.get(label, label) if label is not None else None


@dataclass(frozen=True)
class PairJudgment:
    item: str
    gold: str  # "A" | "B" | "tie", original order
    verdict: str | None  # parsed label in the original order; None: did not parse
    swapped: bool = False
    group: str = ""  # subset / section / category, for breakdowns

    @property
    def presented_gold(self) -> str:
        return unswap(self.gold) if self.swapped else self.gold

    @property
    def presented_verdict(self) -> str | None:
        return unswap(self.verdict) if self.swapped else self.verdict


def accuracy_counts(judgments: Iterable[PairJudgment]) -> dict:
    judgments = list(judgments)
    ties = sum(j.gold == TIE for j in judgments)
    scored = [j for j in judgments if j.gold != TIE]
    parsed = [j for j in scored if j.verdict is not None]
    correct = sum(j.verdict == j.gold for j in parsed)
    return {
        "judged": len(scored),
        "parsed": len(parsed),
        "unparsed": len(scored) - len(parsed),
        "correct": correct,
        "skipped_ties": ties,
        "accuracy": 100.0 * correct / len(scored) if scored else 0.0,
        "accuracy_parsed": 100.0 * correct / len(parsed) if parsed else 0.0,
    }


def swap_consistency(judgments: Iterable[PairJudgment]) -> dict:
    by_item: dict[str, dict[bool, str | None]] = defaultdict(dict)
    for j in judgments:
        by_item[j.item][j.swapped] = j.verdict
    both = [v for v in by_item.values() if len(v) == 2]
    consistent = sum(v[False] is not None and v[False] == v[True] for v in both)
    return {
        "items_in_both_orders": len(both),
        "consistent": consistent,
        "consistency": 100.0 * consistent / len(both) if both else 0.0,
    }


def verdict_confusion(judgments: Iterable[PairJudgment]) -> dict[str, dict[str, int]]:
    """Counts of (gold, verdict) as presented to the judge; the verdict may be ``unparsed``."""
    table: dict[str, Counter] = defaultdict(Counter)
    for j in judgments:
        verdict = j.presented_verdict
        table[j.presented_gold][verdict if verdict is not None else UNPARSED] += 1
    return {gold: dict(counts) for gold, counts in sorted(table.items())}


def position_bias(judgments: Iterable[PairJudgment]) -> dict:
    """How often the judge says "A" compared with how often A is truly better, and accuracy by side."""
    judgments = [j for j in judgments if j.gold != TIE]
    parsed = [j for j in judgments if j.verdict is not None]
    said_a = sum(j.presented_verdict == "A" for j in parsed)
    gold_a = [j for j in judgments if j.presented_gold == "A"]
    gold_b = [j for j in judgments if j.presented_gold == "B"]
    return {
        "verdict_a_rate": 100.0 * said_a / len(parsed) if parsed else 0.0,
        "gold_a_rate": 100.0 * len(gold_a) / len(judgments) if judgments else 0.0,
        "accuracy_gold_a": accuracy_counts(gold_a)["accuracy"],
        "accuracy_gold_b": accuracy_counts(gold_b)["accuracy"],
    }


def pairwise_report(judgments: Sequence[PairJudgment]) -> dict:
    """Everything a pairwise benchmark shows: overall and per-order accuracy, consistency, bias."""
    original = [j for j in judgments if not j.swapped]
    swapped = [j for j in judgments if j.swapped]
    report = {"overall": accuracy_counts(judgments), "original": accuracy_counts(original)}
    if swapped:
        report["swapped"] = accuracy_counts(swapped)
        report["swap"] = swap_consistency(judgments)
    report["position_bias"] = position_bias(judgments)
    report["confusion"] = verdict_confusion(judgments)
    groups = sorted({j.group for j in original if j.group})
    if groups:
        # Per-group accuracy in the original order, the order the headline number uses.
        report["groups"] = {g: accuracy_counts([j for j in original if j.group == g]) for g in groups}
    return report


def group_judgments(judgments: Iterable[PairJudgment]) -> dict[str, list[PairJudgment]]:
    out: dict[str, list[PairJudgment]] = defaultdict(list)
    for j in judgments:
        out[j.group].append(j)
    return dict(out)


def _share(hits: int, total: int) -> float:
    return 100.0 * hits / total if total else 0.0


def tie_report(judgments: Sequence[PairJudgment]) -> dict:
    """Accuracy with and without tie-labelled items, and Auto-J's agreement when both orders were judged.

    With ties, a tie-labelled item is right only when the judge says tie (and an A/B item only
    on its side). Auto-J (GAIR-NLP/auto-j codes/leaderboard/pairwise_eval.py, type "pairwise"):
    ``agreement`` = items whose two verdicts (swapped one mapped back) agree AND equal the label,
    over ALL items; ``consistency`` = items whose two verdicts agree, over all items. An unparsed
    verdict agrees with nothing (Auto-J's script requires every output to be 0, 1 or 2).
    """
    original = [j for j in judgments if not j.swapped]
    without = [j for j in original if j.gold != TIE]
    out = {
        "items": len(original),
        "tie_items": len(original) - len(without),
        "accuracy_with_ties": _share(sum(j.verdict == j.gold for j in original), len(original)),
        "accuracy_without_ties": _share(sum(j.verdict == j.gold for j in without), len(without)),
    }
    by_item: dict[str, dict[bool, PairJudgment]] = defaultdict(dict)
    for j in judgments:
        by_item[j.item][j.swapped] = j
    both = [pair for pair in by_item.values() if len(pair) == 2]
    if both:
        agree = [pair for pair in both if pair[False].verdict is not None and pair[False].verdict == pair[True].verdict]
        out["agreement"] = _share(sum(pair[False].verdict == pair[False].gold for pair in agree), len(both))
        out["consistency"] = _share(len(agree), len(both))
    return out

