"""What a parsed verdict is, and the slot-based parser every format shares.

A judge states its verdict in a *slot*: a key/value pair (``"Choice": "Model A"``) or a
bracket (``[[A>B]]``). A format finds every slot with one regex, reads the label out of each
slot's value, and decides between several slots by the rule its benchmark uses (the last one,
the first one, or all must agree). Parsing is total: any string yields a :class:`Verdict`,
with ``ok=False`` and a reason when no admissible verdict is stated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from re import Pattern

NO_VERDICT = "no verdict found"
CONFLICT = "two conflicting verdicts"
NOT_TEXT = "not a string"

_SWAP_AB = str.maketrans("ABab", "BAba")

# A label read out of a slot value: (normalized label, start, end) with start/end relative to
# the value, or None when the value is not an admissible label.
Interpretation = tuple[str, int, int] | None


@dataclass(frozen=True)
class Verdict:
    label: str | None  # normalized: "A" | "B" | "tie" | a score like "7" | "correct" | "incorrect"
    ok: bool
    reason: str = ""  # why not ok; "" when ok
    span: tuple[int, int] | None = None  # chars of the deciding label text in the parsed text
    raw: str | None = None  # the label text at span as written, e.g. "A>>B" or "A+" (the strength)


@dataclass(frozen=True)
class VerdictFormat:
    """One verdict format: how it is written (``render``), read (``parse``) and flipped (``opposite``)."""

    name: str
    labels: tuple[str, ...]  # the normalized labels this format can state
    slot: Pattern[str]  # finds candidate verdict slots; group "value" holds the label text
    interpret: Callable[[str], Interpretation]
    render_label: Callable[[str], str]  # normalized or raw label -> the verdict text
    policy: str  # "last" | "first" | "unique": which slot decides when there are several
    # label text -> the other side's label text; None: swap A and B in any A/B verdict text
    opposite_of: Callable[[str], str | None] | None = None

    def render(self, label: str) -> str:
        """The verdict text a well-formed judgment ends with (``label`` normalized or raw)."""
        return self.render_label(label)

    def opposite(self, label_text: str) -> str | None:
        """The other side's label text to write at a verdict's span; None for ties and scores."""
        if self.opposite_of is not None:
            return self.opposite_of(label_text)
        read = self.interpret(label_text) if isinstance(label_text, str) else None
        if read is None or read[0] not in ("A", "B"):
            return None
        return label_text.translate(_SWAP_AB)

    def slot_spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` states an admissible verdict in this format: each whole slot
        (``"Choice": "Model A"``, ``[[A>B]]``), not just its label."""
        return [m.span() for m in _overlapping(self.slot, text) if self.interpret(m.group("value")) is not None]

    def parse(self, text: str) -> Verdict:
        if not isinstance(text, str):
            return Verdict(None, False, NOT_TEXT)
        slots = [self._read_slot(m) for m in _overlapping(self.slot, text)]
        if not slots:
            return Verdict(None, False, NO_VERDICT)
        if self.policy == "last":
            return slots[-1]
        if self.policy == "first":
            return slots[0]
        return _agreeing(slots)

    def _read_slot(self, match: re.Match[str]) -> Verdict:
        value = match.group("value")
        read = self.interpret(value)
        if read is None:
            return Verdict(None, False, f"inadmissible {self.name} label {value.strip()[:40]!r}")
        label, start, end = read
        base = match.start("value")
        return Verdict(label, True, "", (base + start, base + end), value[start:end])


def _overlapping(pattern: Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Every slot, including one that starts inside another: in ``Choice: "Choice": "Model A"``
    the first match takes ``"Choice"`` as its value, and the real slot starts inside it."""
    pos, last_value = 0, None
    while (match := pattern.search(text, pos)) is not None:
        if match.span("value") != last_value:  # the same slot found again from a later start
            yield match
        last_value = match.span("value")
        pos = match.start() + 1


def _agreeing(slots: list[Verdict]) -> Verdict:
    """Every admissible slot must state the same label; the last of them marks the span."""
    valid = [s for s in slots if s.ok]
    if not valid:
        return slots[-1]
    labels = sorted({s.label for s in valid})
    if len(labels) > 1:
        return Verdict(None, False, f"{CONFLICT} ({', '.join(labels)})")
    return valid[-1]


def fullmatch_label(pattern: str, normalize: Callable[[str], str | None]) -> Callable[[str], Interpretation]:
    """An interpreter: the whole value must match ``pattern``; its group "label" is the label text."""
    compiled = re.compile(pattern, re.IGNORECASE)

    def interpret(value: str) -> Interpretation:
        m = compiled.fullmatch(value)
        if m is None:
            return None
        label = normalize(m.group("label"))
        return None if label is None else (label, m.start("label"), m.end("label"))

    return interpret
