"""The query pool: one row per query, bad rows quarantined with a reason (rows in = kept + rejected)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cj2.eval.core.files import EvalInputError

LANGUAGES = {"en": "en", "cn": "cn", "zh": "cn"}  # JudgerBenchV2 spells Chinese "cn"
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class BenchInputError(EvalInputError):
    """A benchmark-build input (query file, config setting) that cannot be used; names where and why."""


@dataclass(frozen=True)
class Query:
    row: int  # 0-based position in the file (line number - 1 for JSONL): what errors and quarantine name
    text: str
    lan: str  # "en" | "cn"


@dataclass(frozen=True)
class QueryPool:
    queries: list[Query]
    quarantined: list[dict[str, Any]]  # {"row", "reason", "raw"}
    rows_in: int


def detect_language(text: str) -> str:
    """"cn" when at least 10% of the non-space characters are CJK ideographs, else "en"."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return "en"
    return "cn" if len(_CJK.findall(text)) / len(chars) >= 0.1 else "en"


def _raw_rows(path: Path) -> list[tuple[Any, str | None]]:
    """(parsed row, None) or (raw line, reason) for every row; a JSON list file is all or nothing."""
    if not path.is_file():
        raise BenchInputError(path, "query file not found")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise BenchInputError(path, f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
        if not isinstance(data, list):
            raise BenchInputError(path, f"expected a JSON list of queries, got {type(data).__name__}")
        return [(row, None) for row in data]
    rows = []
    for line in text.splitlines():
        if not line.strip():
            rows.append((line, "blank line"))
            continue
        try:
            rows.append((json.loads(line), None))
        except json.JSONDecodeError as e:
            rows.append((line, f"not valid JSON ({e.msg} at column {e.colno})"))
    return rows


def read_queries(path: str | Path, query_field: str = "query") -> QueryPool:
    """Every usable query in file order; the rest quarantined (not an object, no text, bad lan, duplicate)."""
    path = Path(path)
    kept: list[Query] = []
    quarantined: list[dict[str, Any]] = []
    first_row_of: dict[str, int] = {}
    rows = _raw_rows(path)
    for row, (raw, reason) in enumerate(rows):
        if reason is None:
            reason = _problem(raw, query_field)
        if reason is None:
            text = raw[query_field].strip()
            if text in first_row_of:
                reason = f"duplicate of row {first_row_of[text]}"
        if reason is not None:
            if reason != "blank line":
                quarantined.append({"row": row, "reason": reason, "raw": raw})
            continue
        first_row_of[text] = row
        lan = raw.get("lan")
        kept.append(Query(row=row, text=text, lan=LANGUAGES[lan] if lan is not None else detect_language(text)))
    rows_in = sum(1 for raw, reason in rows if reason != "blank line")
    if not kept:
        raise BenchInputError(path, f"no usable query among {rows_in} row(s) (field {query_field!r}); first problem: {quarantined[0]['reason'] if quarantined else 'empty file'}")
    return QueryPool(kept, quarantined, rows_in)


def _problem(raw: Any, query_field: str) -> str | None:
    if not isinstance(raw, dict):
        return f"expected an object, got {type(raw).__name__}"
    if query_field not in raw:
        return f"field {query_field!r} missing"
    if not isinstance(raw[query_field], str):
        return f"field {query_field!r}: expected str, got {type(raw[query_field]).__name__}"
    if not raw[query_field].strip():
        return f"field {query_field!r} is empty"
    lan = raw.get("lan")
    if lan is not None and lan not in LANGUAGES:
        return f"field 'lan': expected one of {', '.join(LANGUAGES)}, got {lan!r}"
    return None
