"""Sample one shard exactly once: skip what committed parts hold, commit each batch atomically."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from cj2.sample.acceptance import checkable_labels, judge_candidates
from cj2.sample.engines.base import Engine
from cj2.sample.items import read_shard
from cj2.sample.prompt import judge_messages
from cj2.sample.records import item_record, item_seed
from cj2.utils.atomic import atomic_write_text
from cj2.utils.shard_store import ShardStore

# The settings that decide what a shard's outputs contain. A restart must use the same ones
# (it may change the server address, concurrency, timeouts ...), or finished shards would mix runs.
FINGERPRINT_KEYS = ("engine", "model", "template", "verdict_format", "n", "choices", "temperature", "top_p", "max_tokens", "seed", "accept_cap", "near_duplicate", "num_shards", "swap_positions")


class RunMismatch(RuntimeError):
    pass


def _setting(s, key: str) -> Any:
    """A sample setting as plain JSON data (a list setting is an OmegaConf ListConfig)."""
    from omegaconf import ListConfig, OmegaConf

    value = s[key]
    return OmegaConf.to_container(value) if isinstance(value, ListConfig) else value


def run_fingerprint(s) -> dict[str, Any]:
    source = Path(s.input).resolve()
    return {**{k: _setting(s, k) for k in FINGERPRINT_KEYS}, "input": str(source), "input_bytes": source.stat().st_size}


def claim_output_dir(s) -> None:
    """Record the run's fingerprint in ``run.json``, or refuse an output dir holding another run."""
    path = Path(s.output_dir) / "run.json"
    wanted = run_fingerprint(s)
    if not path.exists():
        atomic_write_text(path, json.dumps(wanted, indent=2))  # concurrent tasks write the same text
    found = json.loads(path.read_text())
    if found != wanted:
        changed = sorted(k for k in set(found) | set(wanted) if found.get(k) != wanted.get(k))
        raise RunMismatch(f"{s.output_dir} holds a sampling run with other settings ({', '.join(f'{k}: {found.get(k)!r} -> {wanted.get(k)!r}' for k in changed)}); use a new sample.output_dir or restore the settings")


def sampling_params(s, seed: int) -> dict[str, Any]:
    return {**{k: _setting(s, k) for k in FINGERPRINT_KEYS if k not in ("accept_cap", "near_duplicate", "num_shards", "seed", "swap_positions")}, "base_seed": s.seed, "seed": seed}


def sample_shard(s, shard_index: int, engine: Callable[[], Engine], progress: bool = True) -> dict[str, Any]:
    """Bring shard ``shard_index`` to done and return its manifest. ``engine()`` is called only if work remains."""
    from tqdm import tqdm

    store = ShardStore(s.output_dir, shard_index, s.num_shards)
    finished = store.manifest()
    if finished is not None:
        store.drop_parts()
        return finished
    shard = read_shard(s.input, s.num_shards, shard_index, checkable_labels(s.verdict_format), s.swap_positions, s.seed)
    done = {r["id"] for r in store.done_records()}  # ids only: the records stay on disk
    todo = [item for item in shard.items if item.id not in done]
    with tqdm(total=len(shard.items), initial=len(shard.items) - len(todo), desc=f"shard {shard_index}/{s.num_shards}", unit="item", disable=not progress) as bar:
        for start in range(0, len(todo), s.flush_every):
            batch = todo[start : start + s.flush_every]
            store.commit_part(sample_batch(s, engine(), batch))
            bar.update(len(batch))
    return store.finish([q.to_dict() for q in shard.quarantined], shard_stats)


def sample_batch(s, engine: Engine, batch) -> list[dict[str, Any]]:
    prompts = [judge_messages(item.example, s.template) for item in batch]
    seeds = [item_seed(s.seed, item.id) for item in batch]
    before, start = engine.usage.snapshot(), time.perf_counter()
    outputs = engine.generate(prompts, n=s.n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens, seed=seeds)
    seconds = time.perf_counter() - start
    tokens = engine.usage.minus(before).completion_tokens
    if len(outputs) != len(batch) or any(len(texts) != s.n for texts in outputs):
        raise RuntimeError(f"engine {s.engine} returned {[len(t) for t in outputs]} candidates for {len(batch)} prompts, expected {s.n} each")
    return [
        item_record(item, messages, judge_candidates(texts, item.example.label, s.verdict_format, s.accept_cap, s.near_duplicate), sampling_params(s, seed), tokens / len(batch), seconds / len(batch))
        for item, messages, texts, seed in zip(batch, prompts, outputs, seeds, strict=True)
    ]


def shard_stats(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Totals over a shard's records, one record at a time."""
    totals = dict.fromkeys(("candidates", "accepted", "kept", "zero_accepted_items"), 0)
    tokens = seconds = 0.0
    for r in records:
        totals["candidates"] += len(r["candidates"])
        totals["accepted"] += r["num_accepted"]
        totals["kept"] += r["num_kept"]
        totals["zero_accepted_items"] += r["num_accepted"] == 0
        tokens += r["gen_tokens"]
        seconds += r["gen_seconds"]
    return {**totals, "completion_tokens": round(tokens), "gen_seconds": seconds, "tokens_per_s": tokens / seconds if seconds > 0 else None}
