"""Position debiasing: which of a pair's two orders a sample shows (method: A/B order randomized).

Modes (``data.swap_positions``): ``none`` keeps the source order; ``random`` swaps with a seeded
coin, balanced in pairs: of rows 2k and 2k+1 exactly one is swapped, so a source whose better
response always comes first ends up half A, half B; ``both`` emits the original and the swapped
order. Swapping exchanges the responses, flips the label and rewrites an attached judgment so
it still argues for the same response (see :func:`swap_judgment`).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace

from cj2.data.records import JudgeExample
from cj2.verdicts import FORMATS, parse

FLIP = {"A": "B", "B": "A", "tie": "tie"}
_MENTION = re.compile(r"\b(Model|Assistant|Response|Output|model|assistant|response|output)(\s+|_)([AB])\b|(模型|回答|助手)([AB])")
_COT_PAIRS = (("Strengths of Model A", "Strengths of Model B"), ("Weaknesses of Model A", "Weaknesses of Model B"))


class SwapError(ValueError):
    """A judgment whose text cannot be rewritten for the swapped order."""


def seeded_unit(*parts: object) -> float:
    """A uniform number in [0, 1) that depends only on ``parts`` (stable across runs and processes)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _swap_mentions(text: str) -> str:
    def flip(m: re.Match) -> str:
        if m.group(1):
            return m.group(1) + m.group(2) + FLIP[m.group(3)]
        return m.group(4) + FLIP[m.group(5)]

    return _MENTION.sub(flip, text)


def _swap_cot_json(text: str) -> str:
    """A CJ2 CoT judgment (JSON with the seven keys) with the A and B analyses exchanged, keys kept in order."""
    start, end = text.find("{"), text.rfind("}")
    try:
        obj = json.loads(text[start : end + 1])
    except (json.JSONDecodeError, ValueError):
        raise SwapError("the CoT judgment is not one JSON object") from None
    if not isinstance(obj, dict):
        raise SwapError("the CoT judgment is not a JSON object")
    swapped = {k: _swap_mentions(v) if isinstance(v, str) else v for k, v in obj.items()}
    for a, b in _COT_PAIRS:
        if a in swapped and b in swapped:
            swapped[a], swapped[b] = swapped[b], swapped[a]
    return text[:start] + json.dumps(swapped, ensure_ascii=False) + text[end + 1 :]


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
