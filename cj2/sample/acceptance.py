"""Which candidates are accepted: the parsed verdict equals the label (method.md 3.2).

Every candidate is kept in the output with its verdict, or the reason it could not be parsed;
a candidate is accepted when it is also a complete judgment (the CoT format's seven keys);
``kept`` marks the accepted ones that fit under the per-item cap and become training targets.
An accepted candidate that nearly repeats one already kept (:func:`similarity`) is not kept: the
cap then takes the next one, so that M kept judgments are M different analyses.
"""

from __future__ import annotations

import re
from typing import Any

from cj2.data.curation.judgment_check import cot_values, incomplete_reason
from cj2.verdicts import Verdict, get_format, parse

SHINGLE = 5  # characters per shingle: words for English, a few characters for Chinese


def checkable_labels(verdict_format: str) -> tuple[str, ...]:
    """The labels a candidate's verdict can state; rows labelled otherwise cannot be checked."""
    return get_format(verdict_format).labels


def _shingles(text: str, verdict_format: str) -> set[str]:
    values = cot_values(text) if verdict_format == "cj2_cot" else None
    if values:  # the seven keys are in every judgment: compare what is said under them
        text = " ".join(str(v) for v in values.values())
    norm = " ".join(re.sub(r"[\W_]+", " ", text.casefold()).split())
    return {norm[i : i + SHINGLE] for i in range(max(1, len(norm) - SHINGLE + 1))}


def similarity(a: str, b: str, verdict_format: str) -> float:
    """Jaccard similarity of the two judgments' character 5-gram sets (1.0: the same text up to case,
    spacing and punctuation)."""
    x, y = _shingles(a, verdict_format), _shingles(b, verdict_format)
    return len(x & y) / len(x | y) if x | y else 1.0


def refusal(text: str, label: str, verdict_format: str, verdict: Verdict | None = None) -> str | None:
    """Why ``text`` is not an accepted judgment of ``label`` (``unparsed``, ``wrong_verdict`` or an
    incompleteness reason); None when it is one."""
    verdict = verdict or parse(verdict_format, text)
    if not verdict.ok:
        return "unparsed"
    if verdict.label != label:
        return "wrong_verdict"
    incomplete = incomplete_reason(verdict_format, text)
    return incomplete[0] if incomplete else None


def judge_candidates(texts: list[str], label: str, verdict_format: str, accept_cap: int, near_duplicate: float | None = None) -> list[dict[str, Any]]:
    """One dict per candidate; ``accept_cap <= 0`` keeps every accepted candidate that is not a
    near-duplicate (``near_duplicate`` None: no such check).

    A candidate stating the label is accepted only when it is a complete judgment
    (cj2.data.curation.judgment_check); ``rejected`` names why a candidate is not accepted:
    ``unparsed``, ``wrong_verdict`` or an incompleteness reason. ``duplicate_of`` names the kept
    candidate an accepted one is at least ``near_duplicate`` similar to (it is then not kept).
    """
    candidates, kept = [], []
    for index, text in enumerate(texts):
        verdict = parse(verdict_format, text)
        rejected = refusal(text, label, verdict_format, verdict)
        accepted = rejected is None
        duplicate_of = None
        if accepted and near_duplicate is not None and (accept_cap <= 0 or len(kept) < accept_cap):
            duplicate_of = next((k for k in kept if similarity(texts[k], text, verdict_format) >= near_duplicate), None)
        keep = accepted and duplicate_of is None and (accept_cap <= 0 or len(kept) < accept_cap)
        if keep:
            kept.append(index)
        candidates.append({
            "index": index,
            "text": text,
            "verdict": verdict.label if verdict.ok else None,
            "parsed": bool(verdict.ok),
            "reason": None if verdict.ok else verdict.reason,
            "accepted": accepted,
            "rejected": rejected,
            "kept": keep,
            "duplicate_of": duplicate_of,
        })
    return candidates
