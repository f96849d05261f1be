"""Is a teacher's judgment complete enough to be a training target?

A verdict that matches the label is not enough: ``{"Choice": "Model B"}`` states the right
verdict and teaches the student to skip the analysis. For the CJ2 CoT format (prompts.md) a
target must be one JSON object with exactly the seven keys, in the prompt's order, each a
non-empty string. Other formats have no fixed structure; their verdict check is all there is.
"""

from __future__ import annotations

import json

COT_KEYS = ("User's Demand", "Strengths of Model A", "Weaknesses of Model A", "Strengths of Model B", "Weaknesses of Model B", "Reasoning", "Choice")
# The reasons returned here are cj2.data.records.INCOMPLETE_REASONS: the build counts them as filters, not bad input.


def incomplete_reason(verdict_format: str, text: str) -> tuple[str, str] | None:
    """``(reason, detail)`` when ``text`` is not a complete judgment of ``verdict_format``; None when it is."""
    if verdict_format != "cj2_cot":
        return None
    start, end = text.find("{"), text.rfind("}")
    try:
        obj = json.loads(text[start : end + 1]) if 0 <= start < end else None
    except json.JSONDecodeError:
        obj = None
    if not isinstance(obj, dict):
        return "cot_not_one_object", "the judgment is not one JSON object"
    keys = list(obj)
    missing = [k for k in COT_KEYS if k not in obj]
    if missing:
        return "cot_missing_keys", f"missing {', '.join(map(repr, missing))}"
    extra = [k for k in keys if k not in COT_KEYS]
    if extra:
        return "cot_extra_keys", f"keys outside the format: {', '.join(map(repr, extra))}"
    if tuple(keys) != COT_KEYS:
        return "cot_key_order", f"keys in the order {keys}, not the prompt's"
    empty = [k for k in COT_KEYS if not isinstance(obj[k], str) or not obj[k].strip()]
    if empty:
        return "cot_empty_value", f"empty or non-text {', '.join(map(repr, empty))}"
    return None
