"""Reading a sampling run's outputs back, minus what legitimately differs between runs (timings)."""

from __future__ import annotations

import json
from pathlib import Path

TIMING_KEYS = ("gen_tokens", "gen_seconds")


def shard_records(output_dir: Path) -> list[dict]:
    records = []
    for path in sorted((output_dir / "shards").glob("*/items.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            for key in TIMING_KEYS:
                record.pop(key)
            records.append(record)
    return records


def quarantine_rows(output_dir: Path) -> list[dict]:
    return [json.loads(line) for path in sorted((output_dir / "shards").glob("*/quarantine.jsonl")) for line in path.read_text().splitlines()]


def accepted_lines(output_dir: Path) -> list[str]:
    return (output_dir / "accepted.jsonl").read_text().splitlines()
