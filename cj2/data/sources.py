"""Raw rows of a component's source: local JSONL / JSON / Parquet / CSV files, or a hub dataset.

Yields ``(row_number, row_dict)`` or a :class:`RejectedRow` for a row that cannot be read.
JSONL is read line by line here (not through ``datasets``) so that one malformed line is
quarantined with its line number instead of failing the whole file; Parquet, CSV and hub
datasets stream through HF ``datasets``. A directory path reads every matching file in it,
in sorted order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cj2.data.records import RejectedRow

SUFFIX_FORMATS = {".jsonl": "jsonl", ".json": "json", ".parquet": "parquet", ".csv": "csv"}

Row = tuple[int, dict[str, Any]]


class SourceError(ValueError):
    """A source that cannot be read at all (missing file, unknown format); names the component."""


def source_files(path: str, fmt: str | None) -> list[tuple[Path, str]]:
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.iterdir() if p.suffix in SUFFIX_FORMATS and (fmt is None or SUFFIX_FORMATS[p.suffix] == fmt))
        if not files:
            raise SourceError(f"{path}: no .jsonl/.json/.parquet/.csv files in this directory")
    elif root.is_file():
        files = [root]
    else:
        raise SourceError(f"{path}: file not found")
    out = []
    for f in files:
        kind = fmt or SUFFIX_FORMATS.get(f.suffix)
        if kind not in ("jsonl", "json", "parquet", "csv"):
            raise SourceError(f"{f}: cannot tell the format from the suffix {f.suffix!r}; set format: jsonl|json|parquet|csv")
        out.append((f, kind))
    return out


def _jsonl(path: Path, component: str) -> Iterator[Row | RejectedRow]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                yield RejectedRow(component, str(path), number, "malformed_row", f"not valid JSON: {e.msg} at column {e.colno}")
                continue
            if not isinstance(row, dict):
                yield RejectedRow(component, str(path), number, "malformed_row", f"a JSON {type(row).__name__}, not an object")
                continue
            yield number, row


def _json(path: Path, component: str) -> Iterator[Row | RejectedRow]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SourceError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}); a JSON file must be one array of objects (use .jsonl for one object per line)") from None
    if isinstance(data, dict):  # {"data": [...]} style files
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise SourceError(f"{path}: a JSON object, not an array of rows")
        data = lists[0]
    if not isinstance(data, list):
        raise SourceError(f"{path}: expected an array of rows, found a JSON {type(data).__name__}")
    for number, row in enumerate(data, 1):
        if isinstance(row, dict):
            yield number, row
        else:
            yield RejectedRow(component, str(path), number, "malformed_row", f"a JSON {type(row).__name__}, not an object")


def _via_datasets(builder: str, data_files: str | None, split: str, hub_name: str | None = None) -> Iterator[Row]:
    import datasets

    if hub_name:
        stream = datasets.load_dataset(hub_name, split=split, streaming=True)
    else:
        # pandas would read an answer option spelled "None" or "NA" (MMLU has them) as a missing value.
        options = {"keep_default_na": False, "na_filter": False} if builder == "csv" else {}
        stream = datasets.load_dataset(builder, data_files=data_files, split="train", streaming=True, **options)
    for number, row in enumerate(stream, 1):
        yield number, dict(row)


def iter_rows(component: str, path: str | None, fmt: str | None = None, hub_name: str | None = None, split: str = "train") -> Iterator[tuple[str, Row | RejectedRow]]:
    """``(file label, row or rejection)`` for every row of the source, in a fixed order."""
    if path is None:
        if not hub_name:
            raise SourceError(f"component {component!r}: neither path nor hub_name is set")
        for item in _via_datasets("", None, split, hub_name):
            yield f"hub:{hub_name}/{split}", item
        return
    for file, kind in source_files(path, fmt):
        if kind == "jsonl":
            rows = _jsonl(file, component)
        elif kind == "json":
            rows = _json(file, component)
        else:
            rows = _via_datasets(kind, str(file), split)
        for item in rows:
            yield str(file), item
