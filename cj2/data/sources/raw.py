"""Raw rows of a component's source: local JSONL / JSON / Parquet / CSV files, or a hub dataset.

Yields ``(row_number, row_dict)``, a :class:`RawLine` (a JSONL line not parsed yet: a build
parses it in its workers, :func:`parse_line`) or a :class:`RejectedRow` for a row that cannot be
read. JSONL is read line by line here (not through ``datasets``) so that one malformed line is
quarantined with its line number instead of failing the whole file; Parquet, CSV and hub
datasets stream through HF ``datasets``. A directory path reads every matching file in it,
in sorted order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from cj2.data.records import RejectedRow

SUFFIX_FORMATS = {".jsonl": "jsonl", ".json": "json", ".parquet": "parquet", ".csv": "csv"}

Row = tuple[int, dict[str, Any]]


class RawLine(NamedTuple):
    number: int
    text: str


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


def _lone_surrogate(row: dict) -> str | None:
    """The first top-level field whose text holds a lone surrogate (a JSON ``\\ud800`` escape): not
    valid Unicode, so no tokenizer can read it."""
    for key, value in row.items():
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return key
    return None


def _surrogate_escape(text: str) -> bool:
    return "\\ud" in text or "\\uD" in text


def _checked(row: dict, may_hold_surrogates: bool, component: str, file: str, number: int) -> Row | RejectedRow:
    if may_hold_surrogates and (field := _lone_surrogate(row)) is not None:
        return RejectedRow(component, file, number, "malformed_row", f"field {field!r} holds a lone surrogate escape (\\ud800-\\udfff): not valid Unicode")
    return number, row


def _jsonl(path: Path) -> Iterator[RawLine]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                yield RawLine(number, line)


def parse_line(component: str, file: str, line: RawLine) -> Row | RejectedRow:
    """A JSONL line as a row, or its rejection (not JSON, not an object, not valid Unicode)."""
    try:
        row = json.loads(line.text)
    except json.JSONDecodeError as e:
        return RejectedRow(component, file, line.number, "malformed_row", f"not valid JSON: {e.msg} at column {e.colno}")
    if not isinstance(row, dict):
        return RejectedRow(component, file, line.number, "malformed_row", f"a JSON {type(row).__name__}, not an object")
    return _checked(row, _surrogate_escape(line.text), component, file, line.number)


def _json(path: Path, component: str) -> Iterator[Row | RejectedRow]:
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}); a JSON file must be one array of objects (use .jsonl for one object per line)") from None
    if isinstance(data, dict):  # {"data": [...]} style files
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise SourceError(f"{path}: a JSON object, not an array of rows")
        data = lists[0]
    if not isinstance(data, list):
        raise SourceError(f"{path}: expected an array of rows, found a JSON {type(data).__name__}")
    escapes = _surrogate_escape(text)
    for number, row in enumerate(data, 1):
        if isinstance(row, dict):
            yield _checked(row, escapes, component, str(path), number)
        else:
            yield RejectedRow(component, str(path), number, "malformed_row", f"a JSON {type(row).__name__}, not an object")


def _via_datasets(builder: str, data_files: str | None, split: str, hub_name: str | None = None, hub_config: str | None = None, revision: str | None = None,
                  data_dir: str | None = None) -> Iterator[Row]:
    import datasets

    if hub_name and offline():
        # Streaming a Hub id needs the Hub even when its files are cached: read the cached snapshot
        # of the pinned revision as a local dataset folder instead (same files, same rows).
        stream = datasets.load_dataset(cached_snapshot(hub_name, revision), hub_config, data_dir=data_dir, split=split, streaming=True)
    elif hub_name:
        stream = datasets.load_dataset(hub_name, hub_config, data_dir=data_dir, split=split, revision=revision, streaming=True)
    else:
        # pandas would read an answer option spelled "None" or "NA" (MMLU has them) as a missing value.
        options = {"keep_default_na": False, "na_filter": False} if builder == "csv" else {}
        stream = datasets.load_dataset(builder, data_files=data_files, split="train", streaming=True, **options)
    for number, row in enumerate(stream, 1):
        yield number, dict(row)


def offline() -> bool:
    """HF_HUB_OFFLINE or HF_DATASETS_OFFLINE set (read now, not when huggingface_hub was imported)."""
    return any(os.environ.get(key, "").strip().lower() in ("1", "true", "yes", "on") for key in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def hub_cache_dir() -> str:
    from huggingface_hub import constants

    return os.environ.get("HF_HUB_CACHE") or (os.path.join(os.environ["HF_HOME"], "hub") if os.environ.get("HF_HOME") else constants.HF_HUB_CACHE)


def cached_snapshot(hub_name: str, revision: str | None) -> str:
    """The local Hub cache's snapshot of dataset ``hub_name`` at ``revision``, or a SourceError saying how to fetch it."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    cache = hub_cache_dir()
    try:
        return snapshot_download(hub_name, repo_type="dataset", revision=revision, cache_dir=cache, local_files_only=True)
    except LocalEntryNotFoundError:
        raise SourceError(f"offline (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE) and dataset {hub_name}@{revision or 'main'} is not in the Hub cache {cache}: "
                          f"fetch it once where the Hub is reachable (huggingface-cli download --repo-type dataset {hub_name}"
                          f"{' --revision ' + revision if revision else ''}) and copy the cache, or point the component's path at a local copy") from None


def iter_rows(component: str, path: str | None, fmt: str | None = None, hub_name: str | None = None, split: str = "train",
              hub_config: str | None = None, hub_revision: str | None = None, hub_data_dir: str | None = None) -> Iterator[tuple[str, Row | RawLine | RejectedRow]]:
    """``(file label, row or rejection)`` for every row of the source, in a fixed order. A ``path``
    wins over ``hub_name``: a recipe's rows can be read from a local copy in the same schema."""
    if path is None:
        if not hub_name:
            raise SourceError(f"component {component!r}: neither path nor hub_name is set")
        label = f"hub:{hub_name}{'/' + hub_config if hub_config else ''}{':' + hub_data_dir if hub_data_dir else ''}@{hub_revision or 'main'}/{split}"
        for item in _via_datasets("", None, split, hub_name, hub_config, hub_revision, hub_data_dir):
            yield label, item
        return
    for file, kind in source_files(path, fmt):
        if kind == "jsonl":
            rows = _jsonl(file)
        elif kind == "json":
            rows = _json(file, component)
        else:
            rows = _via_datasets(kind, str(file), split)
        for item in rows:
            yield str(file), item
