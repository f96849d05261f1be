"""The teacher's curated rows, as the curation stage leaves them and the data build reads them.

A mixture component with a teacher role (``rejudge``, ``rft``, ``synthesize``) is curated by its
own stage (``launch/curate.py``, :mod:`cj2.sample.curate`) before the build: a SLURM array whose
tasks commit rows through the exactly-once shard store. The build reads the result and never
calls a teacher. Layout, per component::

    <curate.output_dir>/<component>/run.json                 the settings it was curated with
    <curate.output_dir>/<component>/shards/NNNNN-of-NNNNN/   items.jsonl + manifest.json per shard

Row ``i`` of a component's source goes to shard ``i % curate.num_shards``; each shard's
``items.jsonl`` holds one record per row, in row order: ``{"row", "example"}`` (the curated
example, its judged variants in ``meta.variants``) or ``{"row", "rejected"}`` (why not), so that
rows in = rows kept + rows rejected holds across the two stages.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from cj2.data.curation.known_pairs import earlier_components
from cj2.data.records import JudgeExample, RejectedRow
from cj2.utils.jsonl import jsonl_records
from cj2.utils.shard_store import ShardStore

TEACHER_ROLES = ("rejudge", "rft", "synthesize")
# The sample settings curation reads: the teacher and how it samples. Addresses, concurrency,
# timeouts and the sampling run's own output_dir decide nothing about the rows.
TEACHER_KEYS = ("engine", "model", "dtype", "n", "n_first", "temperature", "top_p", "max_tokens", "accept_cap", "near_duplicate", "context_length")
# The curate settings that decide rows (not where they go or how the work is split).
CURATE_KEYS = ("template_share", "skip_known_pairs", "policy_models")
CURATION_VERSION = 2


class CurationMissing(RuntimeError):
    """A teacher-role component has no complete curation matching the build's settings."""


def teacher_components(cfg) -> list[str]:
    return [name for name, c in cfg.data.components.items() if c.role in TEACHER_ROLES]


def component_dir(cfg, name: str) -> Path:
    return Path(cfg.curate.output_dir) / name


def fingerprint(cfg, name: str) -> dict[str, Any]:
    """Everything that decides a component's curated rows (``run.json``): a resumed or later
    task with other settings is refused rather than mixing two curations."""
    component = OmegaConf.to_container(cfg.data.components[name], resolve=True)
    component.pop("max_reject_fraction", None)  # the build's stopping rule, not the rows
    path = component.get("path")
    return {
        "version": CURATION_VERSION,
        "component": component,
        "source_bytes": os.path.getsize(path) if path and os.path.isfile(path) else None,
        # seq_length and the tokenizer decide which prompts are over_long
        "data": {key: cfg.data[key] for key in ("seed", "swap_positions", "date_cutoff", "seq_length")},
        "tokenizer": cfg.model.tokenizer,
        "teacher": {key: cfg.sample[key] for key in TEACHER_KEYS},
        "curate": curate_settings(cfg),
        # the components whose pairs are not judged again (curate.skip_known_pairs)
        "known_pairs_from": earlier_components(cfg, name) if cfg.curate.skip_known_pairs else [],
        # Each shard steers its own share of correct knowledge answers: the split decides the picks.
        "num_shards": cfg.curate.num_shards,
    }


def curate_settings(cfg) -> dict[str, Any]:
    return {key: OmegaConf.to_container(cfg.curate[key], resolve=True) if key == "policy_models" else cfg.curate[key] for key in CURATE_KEYS}


def differences(found: dict, wanted: dict) -> str:
    keys = sorted(k for k in found.keys() | wanted.keys() if found.get(k) != wanted.get(k))
    return ", ".join(f"{k}: {found.get(k)!r} -> {wanted.get(k)!r}" for k in keys)


def curation_problem(cfg, name: str) -> str | None:
    """Why component ``name`` cannot be read from ``curate.output_dir`` (None: it can)."""
    root = component_dir(cfg, name)
    try:
        found = json.loads((root / "run.json").read_text())
    except (OSError, json.JSONDecodeError):
        return f"{root} holds no curation (no run.json)"
    wanted = fingerprint(cfg, name)
    if found != wanted:
        return f"{root} was curated with other settings ({differences(found, wanted)})"
    n = cfg.curate.num_shards
    pending = [i for i in range(n) if ShardStore(str(root), i, n).manifest() is None]
    if pending:
        return f"{root}: shards {pending} of {n} are not done"
    return None


def require_curated(cfg) -> None:
    """Raise :class:`CurationMissing` naming every teacher-role component the build cannot read yet."""
    problems = [f"component {name!r} (role {cfg.data.components[name].role}): {problem}"
                for name in teacher_components(cfg) if (problem := curation_problem(cfg, name))]
    if problems:
        raise CurationMissing(
            "the teacher's curated rows are missing: " + "; ".join(problems) + ". Curate first, with this build's data and sample "
            f"settings: python launch/curate.py data={cfg.data.name} ... (an array with cluster=slurm curate.num_shards=N), "
            "or run the pipeline, whose curate stage comes before build_data")


def encode(index: int, outcome: JudgeExample | RejectedRow, picked_correct: bool | None = None, teacher: dict[str, int] | None = None) -> dict[str, Any]:
    """A curated row's record; ``teacher``: the work it cost (prompts, candidates, prompt and completion tokens)."""
    record: dict[str, Any] = {"row": index}
    if isinstance(outcome, RejectedRow):
        record["rejected"] = outcome.to_dict()
    else:
        record["example"] = outcome.to_dict()  # asdict: the variants in meta become dicts too
    if picked_correct is not None:
        record["picked_correct"] = picked_correct
    if teacher:
        record["teacher"] = dict(teacher)
    return record


def decode(record: dict[str, Any]) -> JudgeExample | RejectedRow:
    if "rejected" in record:
        return RejectedRow(**record["rejected"])
    example = JudgeExample.from_dict(record["example"])
    if "variants" in example.meta:
        example.meta["variants"] = [JudgeExample.from_dict(v) for v in example.meta["variants"]]
    return example


def curated_rows(cfg, name: str) -> Iterator[tuple[int, JudgeExample | RejectedRow]]:
    """Component ``name``'s rows in source order, merged from its shards one record at a time."""
    root, n = component_dir(cfg, name), cfg.curate.num_shards
    shards = [jsonl_records(ShardStore(str(root), i, n).items_path) for i in range(n)]
    for record in heapq.merge(*shards, key=lambda r: r["row"]):
        yield record["row"], decode(record)
