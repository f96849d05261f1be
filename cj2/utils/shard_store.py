"""The on-disk state of one shard, built so that a kill at any moment loses nothing and repeats nothing.

Layout under ``<output_dir>/shards/<index>-of-<count>/``::

    parts/part-000000.jsonl ...  finished batches, each written atomically (the commit point of its items)
    items.jsonl                  every item of the shard, in input order   } written when the shard is done,
    quarantine.jsonl             the shard's rows that could not be judged } then
    manifest.json                counts and checksums; its presence means "done" (written last)

A resumed task reads the parts, skips the items they hold and appends new parts. A kill between
the outputs and the manifest leaves the parts in place, so the next run rebuilds the same outputs.

Nothing here holds a shard's records in memory: parts are read and written one record at a time.
Work is done in input order, batch after batch, so the parts taken in order already hold the
items in input order (``finish`` checks it while it streams them into ``items.jsonl``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from cj2.utils.atomic import atomic_path, atomic_write_text
from cj2.utils.jsonl import jsonl_records


def shard_dir(output_dir: str, shard_index: int, num_shards: int) -> Path:
    return Path(output_dir) / "shards" / f"{shard_index:05d}-of-{num_shards:05d}"


class JsonlSink:
    """Rows written one at a time; ``lines`` and ``sha256`` describe what was written (for a manifest)."""

    def __init__(self, file):
        self._file, self._digest, self.lines = file, hashlib.sha256(), 0

    def write(self, row: dict[str, Any]) -> None:
        line = json.dumps(row, ensure_ascii=False) + "\n"
        self._file.write(line)
        self._digest.update(line.encode("utf-8"))
        self.lines += 1

    def describe(self) -> dict[str, Any]:
        return {"lines": self.lines, "sha256": self._digest.hexdigest()}


@contextlib.contextmanager
def jsonl_sink(path: Path) -> Iterator[JsonlSink]:
    """A :class:`JsonlSink` whose file appears at ``path`` atomically when the block ends without error."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        yield JsonlSink(f)
        f.flush()


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Atomically write ``rows`` (any iterable: streamed, not collected); return lines and sha256."""
    with jsonl_sink(path) as sink:
        for row in rows:
            sink.write(row)
    return sink.describe()


class ShardOrderError(RuntimeError):
    """Committed parts that are not in input order: written by something other than this store's users."""


class ShardStore:
    def __init__(self, output_dir: str, shard_index: int, num_shards: int):
        self.index, self.count = shard_index, num_shards
        self.dir = shard_dir(output_dir, shard_index, num_shards)
        self.parts_dir = self.dir / "parts"
        self.items_path = self.dir / "items.jsonl"
        self.quarantine_path = self.dir / "quarantine.jsonl"
        self.manifest_path = self.dir / "manifest.json"

    def manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.exists():
            return None
        return json.loads(self.manifest_path.read_text())

    def _parts(self) -> list[Path]:
        return sorted(self.parts_dir.glob("part-*.jsonl"))

    def done_records(self) -> Iterator[dict[str, Any]]:
        """The records of every committed part, streamed in commit order (temporary files of a
        killed write are not parts)."""
        for part in self._parts():
            yield from jsonl_records(part)

    def commit_part(self, records: list[dict[str, Any]]) -> Path:
        parts = self._parts()
        number = int(parts[-1].stem.split("-")[1]) + 1 if parts else 0
        path = self.parts_dir / f"part-{number:06d}.jsonl"
        write_jsonl(path, records)
        return path

    def finish(self, quarantined: list[dict[str, Any]], stats_of: Callable[[Iterator[dict[str, Any]]], dict[str, Any]]) -> dict[str, Any]:
        """Stream the committed parts into the shard's outputs, then write the manifest that marks
        it done (with ``stats_of(records)``, computed over a second stream), then drop the parts."""
        with jsonl_sink(self.items_path) as items:
            for record in self._in_input_order(self.done_records()):
                items.write(record)
        manifest = {
            "shard_index": self.index,
            "num_shards": self.count,
            "items": items.lines,
            "quarantined": len(quarantined),
            "files": {self.items_path.name: items.describe(), self.quarantine_path.name: write_jsonl(self.quarantine_path, quarantined)},
            **stats_of(jsonl_records(self.items_path)),
        }
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2))
        self.drop_parts()
        return manifest

    def _in_input_order(self, records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        last = 0
        for record in records:
            if record["row"] < last:
                raise ShardOrderError(f"{self.parts_dir}: row {record['row']} committed after row {last}; parts must follow input order")
            last = record["row"]
            yield record

    def drop_parts(self) -> None:
        """Parts are redundant once the manifest exists (a kill may have left them behind)."""
        shutil.rmtree(self.parts_dir, ignore_errors=True)
        for stale in self.dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
