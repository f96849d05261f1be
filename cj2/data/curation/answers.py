"""Final-answer extraction for knowledge synthesis: multiple-choice letters and numbers.

A model answer counts as correct when its extracted final answer equals the gold answer; an
answer with nothing extractable counts as incorrect. When a response states its answer more than
once ("the answer is 12 ... so the answer is 15"), the last statement wins. Letters are read only
among the question's options (:func:`option_letters`), so the word "I" or an "A" article is not
taken for an option the question does not have.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import takewhile
from string import ascii_uppercase

ALL_LETTERS = "ABCDEFGHIJ"  # when the options are unknown: the widest multiple-choice range in use
_NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")
_STATED_NUMBER = re.compile(r"answer\s*(?:is|:)\s*:?\s*(" + _NUMBER.pattern + ")", re.IGNORECASE)
# An option marker in a question: "(A) ..." anywhere, or "A. ..." / "A) ..." / "A: ..." at a line start.
_OPTION_MARKER = re.compile(r"\(([A-Z])\)|^[ \t]*([A-Z])[.):][ \t]", re.MULTILINE)


@lru_cache(maxsize=64)
def _letter_patterns(letters: str) -> tuple[re.Pattern, ...]:
    """In priority order: a stated answer ("the answer is (B)", "Answer: B"), an option in
    parentheses, a lone letter ending the text. Within one kind the last occurrence wins."""
    option = f"[{re.escape(letters)}]"
    return (
        re.compile(r"(?i:answer)\s*(?:is|:)?\s*[:\-]?\s*\**\(?(" + option + r")\)?\**(?![A-Za-z])"),
        re.compile(r"\((" + option + r")\)"),
        re.compile(r"(?:^|\s)\**(" + option + r")\**[.)]?\s*$"),
    )


def option_letters(question: str, gold: str = "", choices: int | str | None = None) -> str:
    """The letters an answer to ``question`` may take.

    ``choices`` (a component's ``options.choices``) declares them: a count (4 -> "ABCD") or the
    letters. Otherwise the run of options the question marks from (A) on, else A-D; either way
    widened to reach the gold letter, which must be one of them.
    """
    if choices is not None:
        letters = ascii_uppercase[: int(choices)] if str(choices).isdigit() else str(choices).upper()
    else:
        marked = {a or b for a, b in _OPTION_MARKER.findall(question)}
        letters = "".join(takewhile(marked.__contains__, ascii_uppercase)) or "ABCD"
    gold = gold.strip().upper()
    if len(gold) == 1 and gold in ascii_uppercase and gold not in letters:
        letters = ascii_uppercase[: max(ascii_uppercase.index(gold) + 1, len(letters))]
    return letters


def extract_letter(text: str, letters: str = ALL_LETTERS) -> str | None:
    """The option letter (one of ``letters``) a response settles on: "the answer is (B)", "Answer: B", a lone "B"."""
    for pattern in _letter_patterns(letters):
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
    """The final number: the last after GSM8K's ``####``, else the last after "answer is", else the last one."""
    if "####" in text:
        numbers = _NUMBER.findall(text.rsplit("####", 1)[1])
        return normalize_number(numbers[-1]) if numbers else None
    numbers = _STATED_NUMBER.findall(text) or _NUMBER.findall(text)
    return normalize_number(numbers[-1]) if numbers else None


def gold_answer(gold: str, answer_type: str) -> str | None:
    return extract_number(gold) if answer_type == "number" else gold.strip().upper() or None


def is_correct(response: str, gold: str, answer_type: str, letters: str = ALL_LETTERS) -> bool:
    """Whether ``response``'s final answer is ``gold``; ``letters``: the question's options (letter answers)."""
    extracted = extract_letter(response, letters) if answer_type == "letter" else extract_number(response)
    return extracted is not None and extracted == gold_answer(gold, answer_type)
