"""Reading JSONL files that must be whole: every non-blank line one JSON value, or an error naming the file and row.

The one reader for answer keys, question files, saved predictions, judge requests and shard parts.
Readers that quarantine a bad line instead (a data source's rows, sampling input) keep their own
loop: there a bad line is a counted rejection, not an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

PathLike = str | Path


class JsonlError(ValueError):
    """A file or row that cannot be read; the message names the file, the row (1-based line) and the field."""

    def __init__(self, path: PathLike, message: str, row: int | None = None, field: str | None = None):
        self.path, self.reason, self.row, self.field = str(path), message, row, field
        where = str(path) + (f", row {row}" if row is not None else "") + (f": field {field!r}" if field is not None else "")
        super().__init__(f"{where}: {message}")


# Called as error(path, message, row=row): JsonlError, a subclass, or another error with that signature.
ErrorFactory = Callable[..., Exception]


def numbered_rows(lines: Iterable[str], source: PathLike, error: ErrorFactory = JsonlError, objects: bool = False) -> Iterator[tuple[int, Any]]:
    """``(1-based line number, parsed value)`` for every non-blank line; ``objects``: each must be a JSON object."""
    for row, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as e:
            raise error(source, f"not valid JSON ({e.msg} at column {e.colno})", row=row) from None
        if objects and not isinstance(value, dict):
            raise error(source, f"expected a JSON object, got {type(value).__name__}", row=row)
        yield row, value


def jsonl_rows(path: PathLike, error: ErrorFactory = JsonlError, objects: bool = False) -> Iterator[tuple[int, Any]]:
    """:func:`numbered_rows` of the file at ``path`` (missing: ``error(path, "file not found")``)."""
    path = Path(path)
    if not path.is_file():
        raise error(path, "file not found")
    with path.open(encoding="utf-8") as f:
        yield from numbered_rows(f, path, error, objects)


def jsonl_records(path: PathLike) -> Iterator[dict[str, Any]]:
    """The records of a JSONL file cj2 wrote (a shard part, a finished shard), streamed."""
    for _, record in jsonl_rows(path, objects=True):
        yield record


def read_jsonl(path: PathLike) -> list[dict[str, Any]]:
    return list(jsonl_records(path))


def require_text(record: dict, fields: Iterable[str], path: PathLike, row: int, error: ErrorFactory = JsonlError) -> None:
    """Each of ``fields`` a non-blank string in ``record``, else ``error`` naming the first that is not."""
    for field in fields:
        if not isinstance(record.get(field), str) or not record[field].strip():
            raise error(path, "missing or not text", row=row, field=field)
