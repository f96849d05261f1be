"""Reading benchmark files and saved judge outputs, with errors that name file, row and field."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cj2.utils.jsonl import jsonl_rows

PathLike = str | Path


class EvalInputError(ValueError):
    """A benchmark or predictions file that cannot be scored; the message says where and why."""

    def __init__(self, path: PathLike, message: str, row: int | None = None, field: str | None = None, unit: str = "row"):
        where = str(path)
        if row is not None:
            where += f" {unit} {row}"
        if field is not None:
            where += f" field {field!r}"
        super().__init__(f"{where}: {message}")


@contextmanager
def stop_on_input_error(command: str, *also: type[Exception]) -> Iterator[None]:
    """An :class:`EvalInputError` (or one of ``also``) in the block ends the command: one line on
    stderr, exit status 2, no traceback (the user fixes a setting or a file, not the code)."""
    try:
        yield
    except (EvalInputError, *also) as e:
        print(f"cj2 {command}: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def read_json_list(path: PathLike) -> list[Any]:
    """A JSON file holding one list of records (rows are 0-based indices into it)."""
    path = Path(path)
    if not path.is_file():
        raise EvalInputError(path, "file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise EvalInputError(path, f"not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(data, list):
        raise EvalInputError(path, f"expected a JSON list of records, got {type(data).__name__}")
    return data


def line_error(path: PathLike, message: str, row: int | None = None) -> EvalInputError:
    """A JSONL error as evaluation words it: ``FILE line N: ...`` (cj2.utils.jsonl's error factory)."""
    return EvalInputError(path, message, row=row, unit="line")


def iter_jsonl(path: PathLike, objects: bool = False) -> Iterator[tuple[int, Any]]:
    """(1-based line number, parsed value) for every non-blank line; ``objects``: each must be a JSON object."""
    return jsonl_rows(path, error=line_error, objects=objects)


def read_records(path: PathLike) -> list[tuple[int, Any]]:
    """Rows of a .json list or a .jsonl file as (row number, record); .jsonl rows are line numbers."""
    path = Path(path)
    if path.suffix == ".jsonl":
        return list(iter_jsonl(path))
    return list(enumerate(read_json_list(path)))


def field_of(record: Any, dotted: str, path: PathLike, row: int, kind: type = str) -> Any:
    """``record['a']['b']`` for ``dotted='a.b'``, checked to exist and be of ``kind``."""
    value = record
    for part in dotted.split("."):
        # dict, not Mapping: JSON gives dicts, and the ABC check dominated loading 10,000 records.
        if not isinstance(value, dict) or part not in value:
            raise EvalInputError(path, "missing", row=row, field=dotted)
        value = value[part]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise EvalInputError(path, f"expected {kind.__name__}, got {type(value).__name__}", row=row, field=dotted)
    return value
