"""Model calls committed exactly once: every call of a build goes through here.

A *stage* is a list of requests (chat messages plus a key saying what they are) sent to one model.
Its answers are committed through :mod:`cj2.utils.shard_store` under ``{work}/{stage}/`` as a
single shard, ``flush_every`` calls per atomic part, the row being the request's position in the
stage. A killed build rerun with the same settings reads the parts and calls only what they do not
hold: a committed call is never repeated, an uncommitted one (in flight at the kill) is made once
more. ``run.json`` records what decides the answers (model, decoding, a hash of every request), so a
rerun with other settings refuses the directory instead of mixing two builds' answers.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cj2.benchmark.queries import BenchInputError
from cj2.utils.atomic import atomic_write_text
from cj2.utils.jsonl import read_jsonl
from cj2.utils.shard_store import ShardStore


@dataclass(frozen=True)
class Decoding:
    temperature: float
    top_p: float
    max_tokens: int
    seed: int  # request ``row`` is sampled with seed + row: a resumed stage samples as an uninterrupted one


@dataclass
class CallStats:
    """Calls per stage, for the report and the throughput measure."""

    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, stage: str, total: int, made: int, seconds: float) -> None:
        self.stages[stage] = {"calls": total, "made_this_run": made, "resumed": total - made, "seconds": seconds, "calls_per_s": made / seconds if made and seconds > 0 else None}

    @property
    def made(self) -> int:
        return sum(s["made_this_run"] for s in self.stages.values())


def fingerprint(model: dict[str, Any], decoding: Decoding, requests: Sequence[dict]) -> dict[str, Any]:
    digest = hashlib.sha256()
    for request in requests:
        digest.update(json.dumps([request["key"], request["messages"]], ensure_ascii=False, sort_keys=True).encode("utf-8"))
        digest.update(b"\n")
    return {"model": model, **decoding.__dict__, "requests": len(requests), "requests_sha256": digest.hexdigest()}


def claim(directory: Path, wanted: dict[str, Any]) -> None:
    path = directory / "run.json"
    if not path.exists():
        atomic_write_text(path, json.dumps(wanted, indent=2, ensure_ascii=False))
    found = json.loads(path.read_text())
    if found != wanted:
        changed = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
        what = ", ".join(f"{k}: {found.get(k)!r} -> {wanted.get(k)!r}" for k in changed)
        raise BenchInputError(path, f"holds the calls of a build with other settings ({what}); use another bench.output_dir or delete {directory}")


def stored_calls(
    directory: Path,
    stage: str,
    requests: Sequence[dict],
    engine: Callable[[], Any],
    model: dict[str, Any],
    decoding: Decoding,
    flush_every: int,
    progress: bool,
    stats: CallStats,
) -> list[str]:
    """The answer to every request, in order; only requests no committed part holds are sent.

    ``requests`` are ``{"key": {...}, "messages": [...]}``; ``engine()`` is called only if work remains.
    """
    from tqdm import tqdm

    if flush_every < 1:
        raise BenchInputError("bench.flush_every", f"must be >= 1, got {flush_every}")
    directory.mkdir(parents=True, exist_ok=True)
    claim(directory, fingerprint(model, decoding, requests))
    store = ShardStore(str(directory), 0, 1)
    if store.manifest() is not None:
        store.drop_parts()
        stats.add(stage, len(requests), 0, 0.0)
        return [r["text"] for r in read_jsonl(store.items_path)]
    done = {r["row"] for r in store.done_records()}
    todo = [row for row in range(len(requests)) if row not in done]
    start = time.perf_counter()
    with tqdm(total=len(requests), initial=len(done), desc=stage, unit="call", disable=not progress, file=sys.stderr) as bar:
        for first in range(0, len(todo), flush_every):
            batch = todo[first : first + flush_every]
            seeds = [decoding.seed + row for row in batch]
            outputs = engine().generate([requests[row]["messages"] for row in batch], n=1, temperature=decoding.temperature, top_p=decoding.top_p, max_tokens=decoding.max_tokens, seed=seeds)
            if len(outputs) != len(batch) or any(len(texts) < 1 for texts in outputs):
                raise RuntimeError(f"{stage}: the engine returned {[len(t) for t in outputs]} answers for {len(batch)} prompts, expected one each")
            store.commit_part([{"row": row, **requests[row]["key"], "text": texts[0]} for row, texts in zip(batch, outputs, strict=True)])
            bar.update(len(batch))
    seconds = time.perf_counter() - start
    store.finish([], lambda _records: {"stage": stage, "called_this_run": len(todo), "resumed": len(done)})
    stats.add(stage, len(requests), len(todo), seconds)
    return [r["text"] for r in read_jsonl(store.items_path)]
