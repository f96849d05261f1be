"""The on-disk state of one shard, built so that a kill at any moment loses nothing and repeats nothing.

Layout under ``<output_dir>/shards/<index>-of-<count>/``::

    parts/part-000000.jsonl ...  finished batches, each written atomically (the commit point of its items)
    items.jsonl                  every item of the shard, in input order   } written when the shard is done,
    quarantine.jsonl             the shard's rows that could not be judged } then
    manifest.json                counts and checksums; its presence means "done" (written last)

A resumed task reads the parts, skips the items they hold and appends new parts. A kill between
the outputs and the manifest leaves the parts in place, so the next run rebuilds the same outputs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cj2.utils.atomic import atomic_path, atomic_write_text


def shard_dir(output_dir: str, shard_index: int, num_shards: int) -> Path:
    return Path(output_dir) / "shards" / f"{shard_index:05d}-of-{num_shards:05d}"


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Atomically write ``rows``; return the line count and sha256 for a manifest."""
    digest, lines = hashlib.sha256(), 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for row in rows:
            line = json.dumps(row, ensure_ascii=False) + "\n"
            f.write(line)
            digest.update(line.encode("utf-8"))
            lines += 1
        f.flush()
    return {"lines": lines, "sha256": digest.hexdigest()}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


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

    def done_records(self) -> list[dict[str, Any]]:
        """The records of every committed part (temporary files of a killed write are not parts)."""
        return [record for part in self._parts() for record in read_jsonl(part)]

    def commit_part(self, records: list[dict[str, Any]]) -> Path:
        parts = self._parts()
        number = int(parts[-1].stem.split("-")[1]) + 1 if parts else 0
        path = self.parts_dir / f"part-{number:06d}.jsonl"
        write_jsonl(path, records)
        return path

    def finish(self, records: list[dict[str, Any]], quarantined: list[dict[str, Any]], stats: dict[str, Any]) -> dict[str, Any]:
        """Write the shard's outputs, then the manifest that marks it done, then drop the parts."""
        ordered = sorted(records, key=lambda r: r["row"])
        manifest = {
            "shard_index": self.index,
            "num_shards": self.count,
            "items": len(ordered),
            "quarantined": len(quarantined),
            "files": {
                self.items_path.name: write_jsonl(self.items_path, ordered),
                self.quarantine_path.name: write_jsonl(self.quarantine_path, quarantined),
            },
            **stats,
        }
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2))
        self.drop_parts()
        return manifest

    def drop_parts(self) -> None:
        """Parts are redundant once the manifest exists (a kill may have left them behind)."""
        shutil.rmtree(self.parts_dir, ignore_errors=True)
        for stale in self.dir.glob(".*.tmp"):
            stale.unlink(missing_ok=True)
