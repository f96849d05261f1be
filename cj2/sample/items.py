"""Input rows -> judge items (or quarantine entries), with a stable id and shard for each.

A row is one JSON object per line, either cj2's ``JudgeExample`` dict
(``{"question", "responses": [A, B], "label": "A"|"B", "source", "id", ...}``) or the flat form
``{"question", "response_a", "response_b", "label", ...}``. A row without an ``id`` gets one
from a hash of its content, so the same row always lands in the same shard with the same seed.
A row that cannot be judged goes to quarantine with its file, row number and reason; it is
assigned to a shard by its row number, so exactly one array task records it.

Position balance (``sample.swap_positions``, the modes of cj2.data.curation.positions.orient): reward data
usually lists the chosen response first, so sampling it as read would teach a judge that the
answer is "A". ``random`` swaps exactly one row of every pair of input rows (2k, 2k+1), chosen by
a coin seeded with ``sample.seed``, the source and the pair, so the sampled labels are half A,
half B whatever the shards; ``both`` samples each row in both orders (two items, the swapped one
with id ``<id>~swapped``); ``none`` keeps the input order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cj2.data.curation.positions import orient
from cj2.data.records import JudgeExample


@dataclass
class Item:
    row: int  # 1-based line number in the input file
    example: JudgeExample

    @property
    def id(self) -> str:
        return self.example.id


@dataclass
class Quarantined:
    file: str
    row: int
    kind: str  # invalid_json | invalid_row | unverifiable_label | duplicate_id
    reason: str
    text: str  # the raw line, cut to a readable length

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "row": self.row, "kind": self.kind, "reason": self.reason, "text": self.text}


class RowError(ValueError):
    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind


@dataclass
class ShardInput:
    items: list[Item] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)


def stable_hash(text: str) -> int:
    """A 64-bit hash that is the same in every process and Python version (unlike ``hash``)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def shard_of(key: str, num_shards: int) -> int:
    return stable_hash(key) % num_shards


def content_id(example: JudgeExample) -> str:
    payload = json.dumps([example.question, example.responses, example.label, example.source], ensure_ascii=False)
    return "sha-" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def example_from_row(row: Any, labels: Sequence[str]) -> JudgeExample:
    """The judge example a row describes; :class:`RowError` says why a row cannot be one."""
    if not isinstance(row, dict):
        raise RowError("invalid_row", f"a row must be a JSON object, got {type(row).__name__}")
    if "responses" not in row and ("response_a" in row or "response_b" in row):
        row = {**{k: v for k, v in row.items() if k not in ("response_a", "response_b")}, "responses": [row.get("response_a"), row.get("response_b")]}
    if "question" not in row or "responses" not in row:
        raise RowError("invalid_row", "a row needs 'question' and 'responses' (or 'response_a' and 'response_b')")
    example = JudgeExample.from_dict(row)
    if not isinstance(example.question, str) or not example.question.strip():
        raise RowError("invalid_row", "'question' must be a non-empty string")
    responses = example.responses
    if not isinstance(responses, list) or len(responses) != 2 or not all(isinstance(r, str) for r in responses):
        raise RowError("invalid_row", "'responses' must be two strings (response A, response B)")
    if example.label not in labels:
        raise RowError("unverifiable_label", f"label {example.label!r} cannot be checked against a verdict (expected one of {', '.join(labels)})")
    example.id = str(example.id) if example.id not in (None, "") else content_id(example)
    return example


def read_shard(path: str, num_shards: int, shard_index: int, labels: Sequence[str], swap_mode: str = "none", seed: int = 0) -> ShardInput:
    """Every item and quarantined row of one shard, in input order, each in the order(s) ``swap_mode``
    shows it (module docstring); duplicate ids are quarantined."""
    shard = ShardInput()
    seen: dict[str, int] = {}
    for row_no, line in _numbered_lines(path):
        try:
            example = example_from_row(json.loads(line), labels)
        except (json.JSONDecodeError, RowError) as e:
            if shard_of(f"row:{row_no}", num_shards) == shard_index:
                kind = e.kind if isinstance(e, RowError) else "invalid_json"
                shard.quarantined.append(Quarantined(path, row_no, kind, str(e), line[:500]))
            continue
        if shard_of(example.id, num_shards) != shard_index:
            continue
        if example.id in seen:
            shard.quarantined.append(Quarantined(path, row_no, "duplicate_id", f"duplicate id {example.id!r} (first at row {seen[example.id]})", line[:500]))
            continue
        seen[example.id] = row_no
        for variant in orient(example, swap_mode, seed, row_no, None):
            if variant.meta.get("swapped") and swap_mode == "both":
                variant.id = f"{example.id}~swapped"
            shard.items.append(Item(row_no, variant))
    return shard


def _numbered_lines(path: str) -> Iterator[tuple]:
    with open(path, encoding="utf-8", errors="replace") as f:
        for row_no, line in enumerate(f, start=1):
            line = line.strip()
            if line:
                yield row_no, line

