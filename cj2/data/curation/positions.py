"""Position debiasing: which of a pair's two orders a sample shows (method: A/B order randomized).

Modes (``data.swap_positions``): ``none`` keeps the source order; ``random`` swaps with a seeded
coin, balanced in pairs: of rows 2k and 2k+1 exactly one is swapped, so a source whose better
response always comes first ends up half A, half B; ``both`` emits the original and the swapped
order. Swapping exchanges the responses, flips the label and rewrites an attached judgment so
it still argues for the same response (see :func:`swap_judgment`).
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from json.decoder import scanstring

from cj2.data.records import JudgeExample
from cj2.utils.seeded import seeded_unit
from cj2.verdicts import FORMATS, parse

FLIP = {"A": "B", "B": "A", "tie": "tie"}
_NOUN = r"(?i:model|assistant|response|output|answer|candidate|completion|reply)"
# Every way a judgment names a position, found in one pass so that A->B and B->A never undo each other:
# "Model A", "model_B", "Output (a)", "Assistant 1", "Response #2", "the first response", "模型A", "第二个回答".
_MENTION = re.compile(
    rf"\b(?P<noun>{_NOUN})(?P<sep>\s+|_)(?P<tag>[AB]\b|[12]\b(?!\.\d)|\([ABab12]\)|#[12]\b)"
    rf"|\b(?P<ordinal>(?i:first|second))(?=\s+{_NOUN}\b)"
    r"|(?P<cn_noun>模型|回答|回复|助手)(?P<cn_tag>[AB12])(?![0-9])"
    r"|第(?P<cn_ordinal>[一二])(?=个?(?:模型|回答|回复|助手))"
)
_SWAP_TAG = str.maketrans("ABab12一二", "BAba21二一")
_ORDINAL = {"first": "second", "second": "first"}
_COT_PAIRS = (("Strengths of Model A", "Strengths of Model B"), ("Weaknesses of Model A", "Weaknesses of Model B"))


class SwapError(ValueError):
    """A judgment whose text cannot be rewritten for the swapped order."""


def _swap_mentions(text: str) -> str:
    def flip(m: re.Match) -> str:
        if m.group("noun"):
            return m.group("noun") + m.group("sep") + m.group("tag").translate(_SWAP_TAG)
        if m.group("ordinal"):
            word = m.group("ordinal")
            other = _ORDINAL[word.lower()]
            return other.upper() if word.isupper() else other.capitalize() if word[0].isupper() else other
        if m.group("cn_noun"):
            return m.group("cn_noun") + m.group("cn_tag").translate(_SWAP_TAG)
        return "第" + m.group("cn_ordinal").translate(_SWAP_TAG)

    return _MENTION.sub(flip, text)


def _string_values(text: str, start: int) -> tuple[dict[str, tuple[int, int, str]], int]:
    """The JSON object at ``text[start]``: each key's string value as (start, end, value), and where the
    object's closing brace is."""
    skip = re.compile(r"\s*")
    decoder = json.JSONDecoder()
    values: dict[str, tuple[int, int, str]] = {}
    pos = skip.match(text, start + 1).end()
    if text[pos : pos + 1] == "}":
        return values, pos
    while True:
        if text[pos : pos + 1] != '"':
            raise ValueError("expected a key")
        key, pos = scanstring(text, pos + 1)
        pos = skip.match(text, pos).end()
        if text[pos : pos + 1] != ":":
            raise ValueError("expected ':'")
        pos = skip.match(text, pos + 1).end()
        value, end = decoder.raw_decode(text, pos)
        if isinstance(value, str):
            values[key] = (pos, end, value)
        pos = skip.match(text, end).end()
        if text[pos : pos + 1] == "}":
            return values, pos
        if text[pos : pos + 1] != ",":
            raise ValueError("expected ',' or '}'")
        pos = skip.match(text, pos + 1).end()


def _swap_cot_json(text: str) -> str:
    """A CJ2 CoT judgment (JSON with the seven keys) with the A and B analyses exchanged, keys kept in order.

    Only the string values change, in place: the object's layout (line breaks, indentation, separators,
    escapes) stays the source's, so a swapped target is formatted exactly like an unswapped one and its
    format cannot tell the model which side won."""
    start = text.find("{")
    try:
        if start < 0:
            raise ValueError("no '{'")
        slots, close = _string_values(text, start)
    except ValueError:  # json.JSONDecodeError included
        raise SwapError("the CoT judgment is not one JSON object") from None
    values = {key: value for key, (_, _, value) in slots.items()}
    for a, b in _COT_PAIRS:
        if a in values and b in values:
            values[a], values[b] = values[b], values[a]
    ascii_only = text[start : close + 1].isascii()  # the source escaped non-ASCII characters
    out, pos = [_swap_mentions(text[:start])], start
    for key, (value_start, value_end, value) in sorted(slots.items(), key=lambda kv: kv[1][0]):
        new = _swap_mentions(values[key])
        token = text[value_start:value_end] if new == value else json.dumps(new, ensure_ascii=ascii_only)
        out += [text[pos:value_start], token]
        pos = value_end
    return "".join(out) + text[pos : close + 1] + _swap_mentions(text[close + 1 :])


def swap_judgment(text: str, verdict_format: str, label: str) -> str:
    """``text`` rewritten for the swapped order: it must then state the flipped ``label``."""
    if verdict_format == "cj2_cot":
        swapped = _swap_cot_json(text)
    else:
        swapped = _swap_mentions(text)
    verdict = parse(verdict_format, swapped)
    if verdict.ok and verdict.label == label and label != "tie":  # the verdict slot had no "Model X" mention
        start, end = verdict.span
        opposite = FORMATS[verdict_format].opposite(verdict.raw)
        if opposite is not None:
            swapped = swapped[:start] + opposite + swapped[end:]
            verdict = parse(verdict_format, swapped)
    if not verdict.ok or verdict.label != FLIP[label]:
        raise SwapError(f"after swapping, the judgment states {verdict.label or verdict.reason!r}, not {FLIP[label]!r}")
    return swapped


def swapped(example: JudgeExample, verdict_format: str | None) -> JudgeExample:
    meta = dict(example.meta, swapped=not example.meta.get("swapped", False))
    if "judgment" in meta and verdict_format:
        meta["judgment"] = swap_judgment(meta["judgment"], verdict_format, example.label)
    return replace(example, responses=example.responses[::-1], label=FLIP.get(example.label, example.label), meta=meta)


def orient(example: JudgeExample, mode: str, seed: int, index: int, verdict_format: str | None) -> list[JudgeExample]:
    """The orders of ``example`` a mixture shows (``index``: the row's position in its component)."""
    if len(example.responses) != 2 or mode == "none":
        return [example]
    if mode == "both":
        return [example, swapped(example, verdict_format)]
    coin = seeded_unit(seed, example.source, index // 2) < 0.5
    swap = coin == (index % 2 == 0)
    return [swapped(example, verdict_format) if swap else example]
