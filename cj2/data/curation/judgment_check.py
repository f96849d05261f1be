"""Is a teacher's judgment complete enough to be a training target?

A verdict that matches the label is not enough: ``{"Choice": "Model B"}`` states the right
verdict and teaches the student to skip the analysis. For the CJ2 CoT format (prompts.md) a
target must be one JSON object with exactly the seven keys, in the prompt's order, each a
non-empty string. Other formats have no fixed structure; their verdict check is all there is.

Large teachers write that object loosely: a numbered list with raw line breaks inside a value
("1. ...\\n2. ..."), a quoted phrase left unescaped (``"Replaces "gonna" with ..."``), a
full-width colon after a key in Chinese. Strict JSON refuses all three although every key and the
verdict are there, so the object is read without JSON's control-character rule, and when it is
still not JSON, by finding the seven ``"Key":`` markers in order (:func:`cot_values`).
"""

from __future__ import annotations

import json
import re

from cj2.data.templates import COT_KEYS

# The reasons returned here are cj2.data.records.INCOMPLETE_REASONS: the build counts them as filters, not bad input.

# '"Key":' with straight or curly quotes and an ASCII or full-width colon, then the value's opening quote.
_MARKERS = [re.compile(rf"[\"\u201c]{re.escape(key)}[\"\u201d]\s*[:\uff1a]\s*") for key in COT_KEYS]


def _keys_in_order(body: str) -> dict[str, str] | None:
    """The seven values of ``body`` (one ``{...}``) read between the key markers, found in the prompt's
    order, the first right after the opening brace; None when a marker is missing or a value is not
    one quoted text. A value may then hold unescaped quotes and raw line breaks."""
    found, pos = [], 1
    for marker in _MARKERS:
        match = marker.search(body, pos)
        if match is None or (not found and body[1 : match.start()].strip()):
            return None
        found.append(match)
        pos = match.end()
    ends = [m.start() for m in found[1:]] + [len(body) - 1]  # the last value runs to the closing brace
    values = {}
    for key, match, end in zip(COT_KEYS, found, ends, strict=True):
        raw = body[match.end() : end].strip()
        raw = raw[:-1].rstrip() if key != COT_KEYS[-1] and raw.endswith(",") else raw
        if len(raw) < 2 or raw[0] not in "\"\u201c" or raw[-1] not in "\"\u201d":
            return None
        values[key] = raw[1:-1]
    return values


def cot_values(text: str) -> dict | None:
    """The judgment's one ``{...}`` as a dict: JSON (raw control characters in strings allowed), else
    the seven keys found in order (:func:`_keys_in_order`); None when it is neither."""
    start, end = text.find("{"), text.rfind("}")
    if not 0 <= start < end:
        return None
    body = text[start : end + 1]
    try:
        obj = json.loads(body, strict=False)
    except json.JSONDecodeError:
        return _keys_in_order(body)
    return obj if isinstance(obj, dict) else None


def incomplete_reason(verdict_format: str, text: str) -> tuple[str, str] | None:
    """``(reason, detail)`` when ``text`` is not a complete judgment of ``verdict_format``; None when it is."""
    if verdict_format != "cj2_cot":
        return None
    obj = cot_values(text)
    if obj is None:
        return "cot_not_one_object", "the judgment is not one JSON object, nor the seven keys in order"
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
