"""Dates as sources write them, read as calendar days (the rejudge cut-off, method.md 3.1).

String comparison put "2024/01/05" and "Jan 5, 2024" after "2024-10-01": every form is parsed to
a :class:`datetime.date` first, and a value that names no day, or names it ambiguously, is None
(the row is quarantined as ``bad_date``, never guessed).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?)?"
_YEAR_FIRST = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})" + _TIME)
_YEAR_LAST = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})" + _TIME)
_MONTH_NAME_FORMATS = ("%b %d %Y", "%B %d %Y", "%d %b %Y", "%d %B %Y")
DATE_FORMATS = "ISO 8601, YYYY/MM/DD, DD/MM/YYYY or MM/DD/YYYY where the day is over 12, 'Jan 5, 2024', '5 January 2024', or a Unix timestamp"


def parse_date(value) -> date | None:
    """The calendar day ``value`` names, or None when it names none (or names it ambiguously).

    A Unix timestamp (seconds, or milliseconds from 1e11 on) is read in UTC; other forms give the
    day as written, whatever their time zone.
    """
    text = " ".join(str(value).split())
    if re.fullmatch(r"\d{9,13}(?:\.\d+)?", text):
        seconds = float(text)
        return datetime.fromtimestamp(seconds / 1000 if seconds >= 1e11 else seconds, tz=UTC).date()
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        pass
    try:
        if m := _YEAR_FIRST.fullmatch(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _YEAR_LAST.fullmatch(text):
            first, second, year = int(m[1]), int(m[2]), int(m[3])
            if first <= 12 and second <= 12 and first != second:
                return None  # 01/05/2024: January 5 in the US, 1 May elsewhere; guessing would misfile it
            day, month = (first, second) if first > 12 else (second, first)
            return date(year, month, day)
    except ValueError:  # 2024/02/30
        return None
    bare = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", text.replace(",", " ").replace(".", " "))
    for fmt in _MONTH_NAME_FORMATS:
        try:
            return datetime.strptime(" ".join(bare.split()), fmt).date()
        except ValueError:
            continue
    try:  # RFC 2822, as mail and HTTP headers write it: "Fri, 05 Jan 2024 10:00:00 +0000"
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError):
        return None


def cutoff_date(value) -> date:
    """``data.date_cutoff`` as a date: a real day written YYYY-MM-DD, else a clear error."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
            return date.fromisoformat(str(value))
    except ValueError:  # 2024-02-30
        pass
    raise ValueError(f"data.date_cutoff: {value!r} is not a YYYY-MM-DD date (e.g. 2024-10-01)")
