"""Every verdict format of method.md section 1, defined once.

Data (templates), losses (verdict position), sampling (acceptance) and evaluation (scoring)
all read verdicts through these definitions. Which slot decides when a judgment states several:
- ``last``: JudgerBenchV2 (OpenCompass takes the last ``"winner"``) and WildBench;
- ``first``: MT-Bench single (FastChat's ``re.search`` for ``[[score]]``);
- ``unique``: the rest; every admissible slot must agree, else "two conflicting verdicts"
  (Arena-Hard's own parser does this; for the CJ2 training format it keeps self-contradicting
  judgments out of the training data). FastChat's pairwise parser silently prefers ``[[A]]``
  when both appear; cj2 reports the conflict instead.
"""

from __future__ import annotations

import re

from cj2.verdicts.base import VerdictFormat, fullmatch_label

_QUOTE = "\"'\u201c\u201d"  # straight and curly quotes
_COLON = ":\uff1a"  # ASCII and full-width colon (Chinese outputs use both)


def _key_value_slot(key: str) -> re.Pattern[str]:
    """``"key": "value"`` with straight or curly quotes, quotes around the key optional."""
    return re.compile(
        rf"[{_QUOTE}]?{key}[{_QUOTE}]?\s*[{_COLON}]\s*[{_QUOTE}](?P<value>[^{_QUOTE}\n]{{0,60}})[{_QUOTE}]",
        re.IGNORECASE,
    )


_BRACKET_SLOT = re.compile(r"\[\[(?P<value>[^\[\]\n]{1,16})\]\]")


def _upper(text: str) -> str:
    return text.upper()


def _pairwise_renderer(template: str, aliases: dict[str, str]):
    def render(label: str) -> str:
        return template.format(aliases.get(label, label))

    return render


# --- CJ2: "Choice": "Model A" -------------------------------------------------------------
_CJ2_VALUE = fullmatch_label(r"\s*\[?\s*(?:model\s*)?(?P<label>[AB])\s*\]?\s*\.?\s*", _upper)

CJ2_COT = VerdictFormat(
    name="cj2_cot",
    labels=("A", "B"),
    slot=_key_value_slot("Choice"),
    interpret=_CJ2_VALUE,
    render_label=_pairwise_renderer('"Choice": "Model {}"', {}),
    policy="unique",
)
CJ2_SHORT = VerdictFormat(
    name="cj2_short",
    labels=("A", "B"),
    slot=_key_value_slot("Choice"),
    interpret=_CJ2_VALUE,
    render_label=_pairwise_renderer('{{"Choice": "Model {}"}}', {}),
    policy="unique",
)

# --- JudgerBenchV2: "winner": "A" / "胜者": "A", the last one decides ---------------------
_WINNER_VALUE = fullmatch_label(r"\s*(?:model\s*)?(?P<label>[AB])\s*", _upper)

JUDGERBENCH_EN = VerdictFormat(
    name="judgerbench_en",
    labels=("A", "B"),
    slot=_key_value_slot("winner"),
    interpret=_WINNER_VALUE,
    render_label=_pairwise_renderer('"winner": "{}"', {}),
    policy="last",
)
JUDGERBENCH_CN = VerdictFormat(
    name="judgerbench_cn",
    labels=("A", "B"),
    slot=_key_value_slot("胜者"),
    interpret=_WINNER_VALUE,
    render_label=_pairwise_renderer('"胜者": "{}"', {}),
    policy="last",
)

# --- Arena-Hard: [[A>>B]] ... [[B>>A]], mirrored forms ([[B<A]]) accepted ------------------
_ARENA_LABELS = {"A>>B": "A", "A>B": "A", "A=B": "tie", "B>A": "B", "B>>A": "B",
                 "B<<A": "A", "B<A": "A", "B=A": "tie", "A<B": "B", "A<<B": "B"}


def _arena_label(text: str) -> str | None:
    return _ARENA_LABELS.get(re.sub(r"\s+", "", text).upper())


ARENA_HARD = VerdictFormat(
    name="arena_hard",
    labels=("A", "tie", "B"),
    slot=_BRACKET_SLOT,
    interpret=fullmatch_label(r"\s*(?P<label>[AB]\s*(?:>>|<<|>|<|=)\s*[AB])\s*", _arena_label),
    render_label=_pairwise_renderer("[[{}]]", {"A": "A>B", "B": "B>A", "tie": "A=B"}),
    policy="unique",
)

# --- MT-Bench pairwise: [[A]] / [[B]] / [[C]] (tie) -----------------------------------------
MTBENCH_PAIR = VerdictFormat(
    name="mtbench_pair",
    labels=("A", "B", "tie"),
    slot=_BRACKET_SLOT,
    interpret=fullmatch_label(r"\s*(?P<label>[ABC])\s*", lambda t: {"A": "A", "B": "B", "C": "tie"}[t.upper()]),
    render_label=_pairwise_renderer("[[{}]]", {"tie": "C"}),
    policy="unique",
)


# --- MT-Bench single: [[7]] on a 1-10 scale, the first one decides ------------------------
def _score(text: str) -> str | None:
    value = float(text)
    if not 1 <= value <= 10:
        return None
    return str(int(value)) if value.is_integer() else f"{value:g}"


MTBENCH_SINGLE = VerdictFormat(
    name="mtbench_single",
    labels=tuple(str(i) for i in range(1, 11)),
    slot=re.compile(r"\[\[\s*(?P<value>[-+]?\d{1,6}(?:\.\d{1,6})?)\s*\]\]"),
    interpret=fullmatch_label(r"(?P<label>[-+]?\d{1,6}(?:\.\d{1,6})?)", _score),
    render_label=lambda label: f"[[{label}]]",
    policy="first",
    opposite_of=lambda _text: None,
)

# --- WildBench pairwise: "choice": "A++" / "A+" / "A=B" / "B+" / "B++" ----------------------
_WILDBENCH_LABELS = {"A++": "A", "A+": "A", "A=B": "tie", "B=A": "tie", "B+": "B", "B++": "B"}

WILDBENCH = VerdictFormat(
    name="wildbench",
    labels=("A", "tie", "B"),
    slot=_key_value_slot("choice"),
    interpret=fullmatch_label(r"\s*(?P<label>[AB]\s*(?:\+\+|\+|=\s*[AB]))\s*",
                              lambda t: _WILDBENCH_LABELS.get(re.sub(r"\s+", "", t).upper())),
    render_label=_pairwise_renderer('"choice": "{}"', {"A": "A+", "B": "B+", "tie": "A=B"}),
    policy="last",
)

# --- pointwise correctness (knowledge data): "correctness": "correct" or [[incorrect]] -----
_CORRECTNESS_SLOT = re.compile(
    rf"(?:[{_QUOTE}]?correctness[{_QUOTE}]?\s*[{_COLON}]\s*[{_QUOTE}]|\[\[)(?P<value>[^{_QUOTE}\[\]\n]{{0,40}})(?:[{_QUOTE}]|\]\])",
    re.IGNORECASE,
)
_FLIP_CORRECTNESS = {"correct": "incorrect", "incorrect": "correct"}


def _flip_correctness(text: str) -> str | None:
    flipped = _FLIP_CORRECTNESS.get(text.lower()) if isinstance(text, str) else None
    if flipped is None:
        return None
    if text.isupper():
        return flipped.upper()
    return flipped.capitalize() if text[:1].isupper() else flipped


POINTWISE_CORRECTNESS = VerdictFormat(
    name="pointwise_correctness",
    labels=("correct", "incorrect"),
    slot=_CORRECTNESS_SLOT,
    interpret=fullmatch_label(r"\s*(?P<label>correct|incorrect)\s*\.?\s*", str.lower),
    render_label=lambda label: f'"correctness": "{label}"',
    policy="unique",
    opposite_of=_flip_correctness,
)

FORMATS: dict[str, VerdictFormat] = {f.name: f for f in (
    CJ2_COT, CJ2_SHORT, JUDGERBENCH_EN, JUDGERBENCH_CN, ARENA_HARD, MTBENCH_PAIR,
    MTBENCH_SINGLE, WILDBENCH, POINTWISE_CORRECTNESS,
)}
