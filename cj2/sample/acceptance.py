"""Which candidates are accepted: the parsed verdict equals the label (method.md 3.2).

Every candidate is kept in the output with its verdict, or the reason it could not be parsed;
a candidate is accepted when it is also a complete judgment (the CoT format's seven keys);
``kept`` marks the accepted ones that fit under the per-item cap and become training targets.
"""

from __future__ import annotations

from typing import Any

from cj2.data.curation.judgment_check import incomplete_reason
from cj2.verdicts import get_format, parse


def checkable_labels(verdict_format: str) -> tuple[str, ...]:
    """The labels a candidate's verdict can state; rows labelled otherwise cannot be checked."""
    return get_format(verdict_format).labels


def judge_candidates(texts: list[str], label: str, verdict_format: str, accept_cap: int) -> list[dict[str, Any]]:
    """One dict per candidate; ``accept_cap <= 0`` keeps every accepted candidate.

    A candidate stating the label is accepted only when it is a complete judgment
    (cj2.data.curation.judgment_check); ``rejected`` names why a candidate is not accepted:
    ``unparsed``, ``wrong_verdict`` or an incompleteness reason.
    """
    candidates, kept = [], 0
    for index, text in enumerate(texts):
        verdict = parse(verdict_format, text)
        if not verdict.ok:
            rejected = "unparsed"
        elif verdict.label != label:
            rejected = "wrong_verdict"
        else:
            incomplete = incomplete_reason(verdict_format, text)
            rejected = incomplete[0] if incomplete else None
        accepted = rejected is None
        keep = accepted and (accept_cap <= 0 or kept < accept_cap)
        kept += keep
        candidates.append({
            "index": index,
            "text": text,
            "verdict": verdict.label if verdict.ok else None,
            "parsed": bool(verdict.ok),
            "reason": None if verdict.ok else verdict.reason,
            "accepted": accepted,
            "rejected": rejected,
            "kept": keep,
        })
    return candidates
