"""The teacher-forced verdict metric, pure (numpy; no torch): per-verdict logit records and their scores.

A :class:`VerdictLogits` is one judged sequence: a pair shown in one order, a reference judgment
teacher-forced up to the verdict, and the logits the judge gives there to each label's verdict
token. Its fields are in the SHOWN order (``gold`` is the winner as presented); ``swapped`` says
whether A and B were exchanged from the item's original order. The records are written as JSONL
(``verdict_logits_<set>.jsonl``) so that a run can be re-scored and two judges paired verdict by
verdict. Definitions (docs/evaluation.md, "Verdict logits"):

- the two-way choice is the label with the larger logit (``z["A"] == z["B"]``: no choice, wrong);
- ``accuracy``: share of records whose two-way choice is the gold label;
- ``top1``: share whose full-vocabulary argmax is the gold label's token (what greedy decoding emits);
- ``margin``: mean of ``z[gold] - z[other]``; ``nll``: mean of ``logsumexp - z[gold]`` (nats);
- ``brier``: mean of ``(1 - p_gold)^2``, ``p`` the softmax over the two label logits (0-1);
- ``a_rate`` / ``gold_a_rate``: share of records whose two-way choice / gold label is A;
- ``swap_consistency``: over items judged in both orders, the share whose two choices name the
  same ORIGINAL response (a tie in either order is inconsistent);
- ``bon_accuracy``: share of best-of-N groups whose every record is right.

Rates are percentages (0-100), as in the rest of cj2's reports. The resampling unit of every
interval is the record's question (:attr:`VerdictLogits.unit`).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from cj2.eval.core.files import EvalInputError, iter_jsonl
from cj2.eval.core.intervals import (
    LEVEL,
    RESAMPLES,
    Interval,
    mcnemar,
    paired_bootstrap,
    question_bootstrap,
    rate_interval,
)

LABELS = ("A", "B")
RATES = ("accuracy", "top1", "a_rate")
MEANS = ("margin", "nll", "brier")
# Every metric with an interval, in the order tables show them, and the decimals they are printed with.
SHOWN = ("accuracy", "top1", "margin", "nll", "brier", "a_rate", "swap_consistency", "bon_accuracy")
DIGITS = {"margin": 2, "nll": 3, "brier": 4}


def other_label(label: str) -> str:
    return "B" if label == "A" else "A"


@dataclass(frozen=True)
class VerdictLogits:
    item: str  # the pair's id; both orders of one pair share it
    gold: str  # "A" | "B": the winner in the SHOWN order
    swapped: bool  # shown order = the item's original order with A and B exchanged
    z: dict[str, float]  # the logit of each label's verdict token at the verdict position
    logsumexp: float  # log-sum-exp of the logits over the whole vocabulary at that position
    top: str | None  # the label whose token is the full-vocabulary argmax there, None if another token
    group: str | None = None  # best-of-N group (the pairs of one question: 1 correct vs k wrong)
    question: str | None = None  # the question the pair comes from (the resampling unit)
    subset: str | None = None  # a breakdown of the set (source family, scenario); None: none

    @classmethod
    def from_logits(cls, item: str, gold: str, swapped: bool, z_gold: float, z_other: float, logsumexp: float, argmax: int, gold_id: int, other_id: int,
                    **optional: str | None) -> VerdictLogits:
        """A record from what a forward pass gives at the verdict position: the gold label's token
        logit (y*), the other label's (y-), the log-sum-exp over the vocabulary and the argmax token
        id; ``optional``: group, question, subset."""
        other = other_label(gold)
        top = gold if argmax == gold_id else other if argmax == other_id else None
        return cls(item, gold, swapped, {"A": float(z_gold if gold == "A" else z_other), "B": float(z_other if gold == "A" else z_gold)},
                   float(logsumexp), top, **optional)

    def __post_init__(self):
        problem = _problem(asdict(self))
        if problem:
            raise ValueError(f"VerdictLogits {self.item!r} field {problem[0]!r}: {problem[1]}")

    @property
    def unit(self) -> str:
        """The question this verdict belongs to: ``question``, else its best-of-N group, else its item."""
        return self.question or self.group or self.item

    @property
    def choice(self) -> str | None:
        """The two-way choice in the shown order; None when the two logits are equal."""
        a, b = self.z["A"], self.z["B"]
        return None if a == b else ("A" if a > b else "B")

    @property
    def original_choice(self) -> str | None:
        """The two-way choice naming the response in the item's original order."""
        choice = self.choice
        return other_label(choice) if self.swapped and choice else choice

    @property
    def right(self) -> bool:
        return self.choice == self.gold

    @property
    def margin(self) -> float:
        return self.z[self.gold] - self.z[other_label(self.gold)]

    def to_dict(self) -> dict:
        return asdict(self)


def _problem(d: dict) -> tuple[str, str] | None:
    """(field, what is wrong) for the first bad field of a record dict, or None."""
    if not isinstance(d.get("item"), str) or not d["item"]:
        return "item", "expected a non-empty string"
    if d.get("gold") not in LABELS:
        return "gold", f"expected 'A' or 'B', got {d.get('gold')!r}"
    if not isinstance(d.get("swapped"), bool):
        return "swapped", f"expected true or false, got {d.get('swapped')!r}"
    z = d.get("z")
    if not isinstance(z, dict) or sorted(z) != list(LABELS):
        return "z", f"expected {{'A': logit, 'B': logit}}, got {z!r}"
    for label in LABELS:
        if not _finite(z[label]):
            return f"z.{label}", f"expected a finite number, got {z[label]!r}"
    lse = d.get("logsumexp")
    if not _finite(lse):
        return "logsumexp", f"expected a finite number, got {lse!r}"
    top_logit = max(z.values())
    if lse < top_logit - 1e-4 * max(1.0, abs(top_logit)):
        return "logsumexp", f"{lse} is below a label's logit {top_logit}: not a log-sum-exp over the vocabulary"
    if d.get("top") not in (*LABELS, None):
        return "top", f"expected 'A', 'B' or null, got {d.get('top')!r}"
    for name in ("group", "question", "subset"):
        value = d.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            return name, f"expected a non-empty string or null, got {value!r}"
    return None


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


FIELDS = tuple(f.name for f in fields(VerdictLogits))


def record_from_dict(d, path, line: int) -> VerdictLogits:
    """One JSONL line as a record; a bad line is an :class:`EvalInputError` naming file, line and field."""
    unknown = sorted(set(d) - set(FIELDS))
    if unknown:
        raise EvalInputError(path, f"unknown key(s) {', '.join(unknown)} (a record has {', '.join(FIELDS)})", row=line, field=unknown[0], unit="line")
    problem = _problem(d)
    if problem:
        raise EvalInputError(path, problem[1], row=line, field=problem[0], unit="line")
    return VerdictLogits(**d)


def write_verdict_logits(path: str | Path, records: Iterable[VerdictLogits]) -> None:
    """One record per line, written atomically (a reader sees the old file or the whole new one)."""
    from cj2.utils.atomic import atomic_write_text

    atomic_write_text(path, "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records))


def read_verdict_logits(path: str | Path) -> list[VerdictLogits]:
    records = [record_from_dict(d, path, line) for line, d in iter_jsonl(path, objects=True)]
    check_unique(records, str(path))
    return records


def check_unique(records: Sequence[VerdictLogits], where: str = "records") -> None:
    """One record per (item, order): a duplicate would count one verdict twice."""
    seen: set[tuple[str, bool]] = set()
    for r in records:
        key = (r.item, r.swapped)
        if key in seen:
            raise ValueError(f"{where}: item {r.item!r} appears twice in the {'swapped' if r.swapped else 'original'} order")
        seen.add(key)


# --- per-unit scores: the one source of every number and interval below -------------------------


@dataclass(frozen=True)
class Units:
    """Scores per unit and the question each unit belongs to (the bootstrap's resampling unit)."""

    values: dict[str, np.ndarray]
    questions: list[str]


def record_units(records: Sequence[VerdictLogits]) -> Units:
    margin = np.array([r.margin for r in records], dtype=np.float64)
    values = {
        "accuracy": np.array([r.right for r in records], dtype=bool),
        "top1": np.array([r.top == r.gold for r in records], dtype=bool),
        "a_rate": np.array([r.choice == "A" for r in records], dtype=bool),
        "gold_a_rate": np.array([r.gold == "A" for r in records], dtype=bool),
        "margin": margin,
        "nll": np.array([r.logsumexp - r.z[r.gold] for r in records], dtype=np.float64),
        # 1 - p_gold = sigmoid(-margin) = exp(-log(1 + exp(margin))), stable for large margins
        "brier": np.exp(-np.logaddexp(0.0, margin)) ** 2,
    }
    return Units(values, [r.unit for r in records])


def swap_units(records: Sequence[VerdictLogits]) -> Units:
    """One unit per item judged in both orders: consistent when both choices name the same original response."""
    orders: dict[str, dict[bool, VerdictLogits]] = defaultdict(dict)
    for r in records:
        orders[r.item][r.swapped] = r
    both = [pair for pair in orders.values() if len(pair) == 2]
    consistent = [pair[False].original_choice is not None and pair[False].original_choice == pair[True].original_choice for pair in both]
    return Units({"swap_consistency": np.array(consistent, dtype=bool)}, [pair[False].unit for pair in both])


def group_units(records: Sequence[VerdictLogits]) -> Units:
    """One unit per best-of-N group: right when every record of the group is right."""
    groups: dict[str, list[VerdictLogits]] = defaultdict(list)
    for r in records:
        if r.group is not None:
            groups[r.group].append(r)
    members = list(groups.values())
    return Units({"bon_accuracy": np.array([all(r.right for r in g) for g in members], dtype=bool)}, [g[0].unit for g in members])


def _mean(values: np.ndarray, scale: float) -> float | None:
    return scale * float(values.mean()) if values.size else None


def verdict_metrics(records: Sequence[VerdictLogits], by_subset: bool = True) -> dict:
    """Every number of the verdict metric (module docstring), overall and per ``subset`` when records carry one.

    ``swap_consistency`` is None when no item was judged in both orders, ``bon_accuracy`` when
    no record has a group, every mean None when there are no records.
    """
    check_unique(records)
    per_record, swaps, groups = record_units(records), swap_units(records), group_units(records)
    out: dict = {
        "records": len(records),
        "items": len({r.item for r in records}),
        "questions": len({r.unit for r in records}),
        "groups": len(groups.questions),
        "items_in_both_orders": len(swaps.questions),
    }
    for name in (*RATES, "gold_a_rate"):
        out[name] = _mean(per_record.values[name], 100.0)
    for name in MEANS:
        out[name] = _mean(per_record.values[name], 1.0)
    out["swap_consistency"] = _mean(swaps.values["swap_consistency"], 100.0)
    out["bon_accuracy"] = _mean(groups.values["bon_accuracy"], 100.0)
    subsets = sorted({r.subset for r in records if r.subset is not None})
    if by_subset and subsets:
        out["subsets"] = {s: verdict_metrics([r for r in records if r.subset == s], by_subset=False) for s in subsets}
    return out


def verdict_intervals(records: Sequence[VerdictLogits], resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> dict[str, Interval]:
    """A ``level`` interval for each metric that has a value, its questions resampled
    (:func:`cj2.eval.core.intervals.rate_interval` for rates, the question bootstrap for means)."""
    out: dict[str, Interval] = {}
    for units in (record_units(records), swap_units(records), group_units(records)):
        for name, values in units.values.items():
            if name == "gold_a_rate" or not values.size:
                continue
            if values.dtype == bool:
                out[name] = rate_interval(values, units.questions, resamples, seed, level)
            else:
                out[name] = question_bootstrap(values, units.questions, resamples, seed, level)
    return out


# --- two judges on the same verdicts ------------------------------------------------------------


def aligned(a: Sequence[VerdictLogits], b: Sequence[VerdictLogits]) -> list[tuple[VerdictLogits, VerdictLogits]]:
    """The records of two judges paired by (item, order); both must have judged exactly the same verdicts."""
    check_unique(a, "first judge")
    check_unique(b, "second judge")
    b_by_key = {(r.item, r.swapped): r for r in b}
    a_keys = {(r.item, r.swapped) for r in a}
    if a_keys != set(b_by_key):
        only_a, only_b = sorted(a_keys - set(b_by_key)), sorted(set(b_by_key) - a_keys)
        raise ValueError(f"paired judges must judge the same verdicts: {len(only_a)} only in the first (e.g. {only_a[:3]}), {len(only_b)} only in the second (e.g. {only_b[:3]})")
    pairs = [(r, b_by_key[(r.item, r.swapped)]) for r in a]
    for x, y in pairs:
        if x.gold != y.gold or x.unit != y.unit or x.group != y.group:
            raise ValueError(f"item {x.item!r} ({'swapped' if x.swapped else 'original'}): the two judges' records disagree on gold, question or group")
    return pairs


def paired_differences(a: Sequence[VerdictLogits], b: Sequence[VerdictLogits], resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> dict:
    """Judge a minus judge b on the same verdicts: ``accuracy``, ``margin``, ``nll`` (and
    ``bon_accuracy`` when there are groups) as paired question-bootstrap intervals, with exact
    McNemar tests on the verdicts (``mcnemar``) and on the groups (``bon_mcnemar``)."""
    pairs = aligned(a, b)
    first, second = [x for x, _ in pairs], [y for _, y in pairs]
    ua, ub = record_units(first), record_units(second)
    out: dict = {}
    for name, scale in (("accuracy", 100.0), ("margin", 1.0), ("nll", 1.0)):
        out[name] = paired_bootstrap(scale * ua.values[name], scale * ub.values[name], ua.questions, resamples, seed, level)
    out["mcnemar"] = mcnemar(ua.values["accuracy"], ub.values["accuracy"])
    ga, gb = group_units(first), group_units(second)
    if ga.questions:
        out["bon_accuracy"] = paired_bootstrap(100.0 * ga.values["bon_accuracy"], 100.0 * gb.values["bon_accuracy"], ga.questions, resamples, seed, level)
        out["bon_mcnemar"] = mcnemar(ga.values["bon_accuracy"], gb.values["bon_accuracy"])
    return out
