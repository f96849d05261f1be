"""Verdict formats: how each is written, parsed, and flipped (method.md section 1).

``parse(format_name, text)`` is total over strings: it returns a :class:`Verdict` whose
``ok`` is False, with a ``reason``, when the text states no admissible verdict. An unknown
format name is a programming error and raises :class:`UnknownVerdictFormat`.
"""

from __future__ import annotations

from cj2.verdicts.base import CONFLICT, NO_VERDICT, Verdict, VerdictFormat
from cj2.verdicts.formats import FORMATS

__all__ = ["CONFLICT", "FORMATS", "NO_VERDICT", "UnknownVerdictFormat", "Verdict", "VerdictFormat", "get_format", "parse"]


class UnknownVerdictFormat(KeyError):
    def __str__(self) -> str:
        return f"unknown verdict format {self.args[0]!r}; known: {', '.join(sorted(FORMATS))}"


def get_format(name: str) -> VerdictFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise UnknownVerdictFormat(name) from None


def parse(format_name: str, text: str) -> Verdict:
    """The verdict ``text`` states in format ``format_name`` (never raises on any ``text``)."""
    return get_format(format_name).parse(text)
