"""Verdict parsing for evaluation: the published protocols' own rules (official) or cj2's (lenient).

``eval.parser=official`` (the default) reads a verdict exactly as the code that produced the
published numbers does, so a score is comparable with the paper's:

- JudgerBenchV2 (OpenCompass ``Judgerbenchv2Evaluator.extract_winner``): the case-sensitive
  regex ``"?(winner)"?\\s*:\\s*"([A-Z])"`` (``胜者`` for Chinese records); the last match decides.
  ``"Winner"``, ``"winner": "a"``, ``"winner": "Model A"`` and curly quotes do not parse; any capital
  letter does (``"C"`` parses and names neither response).
- OpenCompass's pairwise "Choice" protocol (JudgeBench, RMB, RewardBench; ``JudgeEvaluator`` and
  ``RMBEvaluator``): ``prediction.split('"Choice": "Model ')[-1][0]``, i.e. the character after the
  LAST ``"Choice": "Model `` marker. Without the marker the split returns the whole text, and its
  FIRST character is taken as the choice (an output starting with "A" counts as choosing A); that
  fallback is reproduced and counted separately (:func:`choice_marker_absent`). Only an empty output
  has no choice. A marker at the very end makes the published code raise IndexError; here it
  is unparsed.
- Every other verdict format (cj2_cot, arena_hard ...): its published parser is cj2's own
  (:mod:`cj2.verdicts`), so official and lenient agree.

``eval.parser=lenient`` reads every verdict with :mod:`cj2.verdicts`, which also accepts
``"Winner"``, lower-case letters, ``"Model A"`` values and curly quotes; the OpenCompass Choice
protocol is then read as the ``cj2_cot`` format (its verdict line is the same ``"Choice": "Model A"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cj2.eval.judging.verdict_source import ParseFn

PARSERS = ("official", "lenient")
OPENCOMPASS_CHOICE = "opencompass_choice"  # verdict format of OpenCompass's pairwise Choice prompt

# Byte for byte from opencompass/openicl/icl_evaluator/icl_judge_evaluator.py.
_WINNER_EN = re.compile(r'"?(winner)"?\s*:\s*"([A-Z])"')
_WINNER_CN = re.compile(r'"?(胜者)"?\s*:\s*"([A-Z])"')
CHOICE_MARKER = '"Choice": "Model '

# Which formats the published code reads differently from cj2.verdicts.
OFFICIAL_FORMATS = ("judgerbench_en", "judgerbench_cn", OPENCOMPASS_CHOICE)


@dataclass(frozen=True)
class OfficialVerdict:
    """The two fields evaluation reads from a verdict (same names as :class:`cj2.verdicts.Verdict`)."""

    label: str | None
    ok: bool


def opencompass_winner(text: str, lan: str) -> str | None:
    """``Judgerbenchv2Evaluator.extract_winner``: the letter of the last ``"winner": "X"``, or None."""
    pattern = _WINNER_CN if lan.lower() in ("zh", "cn") else _WINNER_EN
    matches = pattern.findall(text)
    return matches[-1][1] if matches else None


def opencompass_choice(text: str) -> str | None:
    """``JudgeEvaluator`` / ``RMBEvaluator``: one character after the last marker, else the first character."""
    if len(text) == 0:
        return None
    tail = text.split(CHOICE_MARKER)[-1]
    return tail[0] if tail else None  # the published code raises IndexError on an empty tail


def choice_marker_absent(text: str | None) -> bool:
    """True when the published Choice rule fell back to the output's first character."""
    return bool(text) and CHOICE_MARKER not in text


def _verdict(label: str | None) -> OfficialVerdict:
    return OfficialVerdict(label=label, ok=label is not None)


def official_parse(format_name: str, text: str) -> object:
    if format_name == "judgerbench_en":
        return _verdict(opencompass_winner(text, "en"))
    if format_name == "judgerbench_cn":
        return _verdict(opencompass_winner(text, "cn"))
    if format_name == OPENCOMPASS_CHOICE:
        return _verdict(opencompass_choice(text))
    from cj2.verdicts import parse

    return parse(format_name, text)


def lenient_parse(format_name: str, text: str) -> object:
    from cj2.verdicts import parse

    return parse("cj2_cot" if format_name == OPENCOMPASS_CHOICE else format_name, text)


def parser_for(name: str) -> ParseFn:
    """The parse function for ``eval.parser``; an unknown name is an error naming the setting."""
    from cj2.eval.core.files import EvalInputError

    if name == "official":
        return official_parse
    if name == "lenient":
        return lenient_parse
    raise EvalInputError("eval.parser", f"expected one of {', '.join(PARSERS)}, got {name!r}")
