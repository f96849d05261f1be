"""Final-answer extraction for knowledge synthesis: multiple-choice letters and numbers.

A model answer counts as correct when its extracted final answer equals the gold answer; an
answer with nothing extractable counts as incorrect.
"""

from __future__ import annotations

import re

_LETTER_PATTERNS = [
    re.compile(r"(?i:answer)\s*(?:is|:)?\s*[:\-]?\s*\**\(?([A-J])\)?\**(?![A-Za-z])"),
    re.compile(r"\(([A-J])\)"),
    re.compile(r"(?:^|\s)\**([A-J])\**[.)]?\s*$"),
]
_NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")


def extract_letter(text: str) -> str | None:
    """The option letter a response settles on: "the answer is (B)", "Answer: B", a lone "B"."""
    for pattern in _LETTER_PATTERNS:
        found = pattern.findall(text)
        if found:
            return found[-1].upper()
    return None


def normalize_number(text: str) -> str | None:
    cleaned = text.replace(",", "").replace("$", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return str(int(value)) if value.is_integer() else f"{value:g}"


def extract_number(text: str) -> str | None:
    """The final number: the last after GSM8K's ``####``, else the first after "answer is", else the last one."""
    if "####" in text:
        numbers = _NUMBER.findall(text.rsplit("####", 1)[1])
        return normalize_number(numbers[-1]) if numbers else None
    stated = re.search(r"answer\s*(?:is|:)\s*:?\s*(" + _NUMBER.pattern + ")", text, re.IGNORECASE)
    if stated:
        return normalize_number(stated.group(1))
    numbers = _NUMBER.findall(text)
    return normalize_number(numbers[-1]) if numbers else None


EXTRACTORS = {"letter": extract_letter, "number": extract_number}


def gold_answer(gold: str, answer_type: str) -> str | None:
    return EXTRACTORS[answer_type](gold) if answer_type == "number" else gold.strip().upper() or None


def is_correct(response: str, gold: str, answer_type: str) -> bool:
    extracted = EXTRACTORS[answer_type](response)
    return extracted is not None and extracted == gold_answer(gold, answer_type)
