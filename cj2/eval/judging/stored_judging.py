"""Judging a benchmark so that a kill loses at most one batch and a rerun judges only what is missing.

Every judged request is committed through :mod:`cj2.utils.shard_store` (the project's
exactly-once store) under ``{run_dir}/judging_{name}/`` as a single shard: each batch of
``eval.flush_every`` requests becomes one atomic part as soon as the engine returns it. Rerunning
the same command reads the parts, judges only the requests they do not hold, and once every
request is judged finishes the shard (``items.jsonl`` + ``manifest.json``); a rerun after that
loads no model at all.

``run.json`` beside the shard records what decides the outputs (benchmark, engine, model,
decoding, and a hash of every request's prompt), so a rerun with another template, data file or
model refuses the directory instead of mixing two runs' judgments; the server address,
concurrency and timeouts may change between runs.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cj2.eval.core.files import EvalInputError
from cj2.utils.atomic import atomic_write_text
from cj2.utils.jsonl import read_jsonl
from cj2.utils.shard_store import ShardStore

FINGERPRINT_KEYS = ("name", "engine", "model", "max_tokens", "temperature", "top_p", "seed")


def store_dir(run_dir: str, name: str) -> Path:
    return Path(run_dir) / f"judging_{name}"


def fingerprint(eval_cfg, requests: Sequence[dict]) -> dict[str, Any]:
    digest = hashlib.sha256()
    for request in requests:
        digest.update(json.dumps([request["key"], request["messages"]], ensure_ascii=False, sort_keys=True).encode("utf-8"))
        digest.update(b"\n")
    return {**{k: eval_cfg[k] for k in FINGERPRINT_KEYS}, "requests": len(requests), "requests_sha256": digest.hexdigest()}


def claim(directory: Path, wanted: dict[str, Any]) -> None:
    """Record the run's fingerprint, or refuse a directory holding judgments of another run."""
    path = directory / "run.json"
    if not path.exists():
        atomic_write_text(path, json.dumps(wanted, indent=2))
    found = json.loads(path.read_text())
    if found != wanted:
        changed = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
        what = ", ".join(f"{k}: {found.get(k)!r} -> {wanted.get(k)!r}" for k in changed)
        raise EvalInputError(path, f"holds judgments of a run with other settings ({what}); use another run_dir or delete {directory}")


def judge_requests(requests: Sequence[dict], eval_cfg, directory: Path, engine: Callable[[], Any]) -> list[str]:
    """The raw judgment of every request, in order; only requests not already stored are judged.

    ``engine()`` returns the (lazily built) engine and is called only when work remains.
    """
    from cj2.eval.judging.inference import progress_bar

    if eval_cfg.flush_every < 1:
        raise EvalInputError("eval.flush_every", f"must be >= 1, got {eval_cfg.flush_every}")
    claim(directory, fingerprint(eval_cfg, requests))
    store = ShardStore(str(directory), 0, 1)
    if store.manifest() is not None:
        store.drop_parts()
        records = read_jsonl(store.items_path)
        print(f"{eval_cfg.name}: all {len(records)} judgments already stored in {directory}", file=sys.stderr)
        return [r["prediction"] for r in records]
    done = {r["row"] for r in store.done_records()}
    todo = [row for row in range(len(requests)) if row not in done]
    start = time.perf_counter()
    progress, task = progress_bar(f"judging {eval_cfg.name}", len(requests), len(done), eval_cfg.progress)
    with progress:
        for first in range(0, len(todo), eval_cfg.flush_every):
            batch = todo[first : first + eval_cfg.flush_every]
            outputs = engine().generate([requests[row]["messages"] for row in batch], n=1, temperature=eval_cfg.temperature, top_p=eval_cfg.top_p, max_tokens=eval_cfg.max_tokens, seed=[eval_cfg.seed + row for row in batch])
            store.commit_part([{"row": row, **requests[row]["key"], "prediction": texts[0]} for row, texts in zip(batch, outputs, strict=True)])
            progress.advance(task, len(batch))
    seconds = time.perf_counter() - start
    rate = len(todo) / seconds if todo and seconds > 0 else None
    manifest = store.finish([], lambda _records: {"judged_this_run": len(todo), "resumed": len(done), "judged_per_s_this_run": rate})
    print(f"{eval_cfg.name}: judged {len(todo)} request(s) ({rate or 0:.2f}/s), {len(done)} already stored; {manifest['items']} in {directory}", file=sys.stderr)
    return [r["prediction"] for r in read_jsonl(store.items_path)]


class LazyJudge:
    """Builds the judge on first use, so a rerun whose judgments are all stored loads no model."""

    def __init__(self, eval_cfg):
        self.eval_cfg = eval_cfg
        self.engine = None

    def __call__(self):
        if self.engine is None:
            from cj2.eval.judging.inference import build_judge

            self.engine = build_judge(self.eval_cfg)
        return self.engine

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
