"""The one door from evaluation to verdict parsing (:mod:`cj2.verdicts`).

Every benchmark turns raw judge text into a label through :func:`judged_label`, so the
distinction kept in reports is the same everywhere: a label, ``None`` (did not parse), or a
parsed letter that names neither response.
"""

from __future__ import annotations

from collections.abc import Callable

ParseFn = Callable[[str, str], object]  # (format name, text) -> cj2.verdicts.Verdict


def default_parse() -> ParseFn:
    from cj2.verdicts import parse

    return parse


def judged_label(parse: ParseFn, format_name: str, text: str | None) -> str | None:
    """The verdict's label, or ``None`` when there is no text or it does not parse."""
    if text is None:
        return None
    verdict = parse(format_name, text)
    if not getattr(verdict, "ok", False):
        return None
    return verdict.label
