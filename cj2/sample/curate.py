"""``launch/curate.py`` lands here: the teacher curates the mixture's teacher-role components.

Each component (role ``rejudge``, ``rft`` or ``synthesize``; cj2.sample.curation) is dealt to
``curate.num_shards`` shards: row ``i`` to shard ``i % num_shards``. A shard is brought to done
exactly once through the shard store (cj2.utils.shard_store): rows go to the teacher
``curate.flush_every`` at a time, each batch's outcomes are committed as one atomic part, and a
killed task resumes after the last committed part, repeating at most the batch it was in. Rows
whose question is evaluation data, and pairs an earlier component or row already holds
(``curate.skip_known_pairs``), are quarantined before the teacher sees them. Each curated row
records the teacher's work on it (prompts, candidates, prompt and completion tokens); the summary
divides it by the rows kept.

Locally (``curate.shard_index=null``) one process works through every shard; in a SLURM array
each task takes its own shard, and whichever finds every shard done writes ``summary.json``. The
data build reads the result (cj2.data.curation.curated) and never calls a teacher.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from cj2.data.curation import decontaminate
from cj2.data.curation.curated import component_dir, differences, encode, fingerprint, teacher_components
from cj2.data.curation.known_pairs import KnownPairs
from cj2.data.sources.loaders import example_of, plain_component, source_rows
from cj2.sample.curation import Curator
from cj2.sample.model_entries import LazyEngine, ModelEntryError, model_spec
from cj2.utils.atomic import atomic_write_text
from cj2.utils.shard_store import ShardStore


class CurationMismatch(RuntimeError):
    """``curate.output_dir`` holds a curation made with other settings."""


class Teacher:
    """The engine, built on the first call, so a task whose shards are all done loads no model."""

    def __init__(self, cfg, engine=None):
        from cj2.sample.job import LazyEngine

        self._given, self._lazy = engine, LazyEngine(cfg)

    @property
    def engine(self):
        return self._given if self._given is not None else self._lazy()

    def generate(self, *args, **kwargs):
        return self.engine.generate(*args, **kwargs)

    @property
    def context_length(self) -> int | None:
        """The served context where the engine knows it (cj2.sample.engines.openai_server), else None."""
        return getattr(self.engine, "context_length", None)

    def close(self) -> None:
        self._lazy.close()  # a given engine belongs to its caller


def claim(cfg, name: str) -> None:
    """Record the component's curation settings in ``run.json``, or refuse a directory holding others."""
    path = component_dir(cfg, name) / "run.json"
    wanted = fingerprint(cfg, name)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(wanted, indent=2))  # concurrent tasks write the same text
    found = json.loads(path.read_text())
    if found != wanted:
        raise CurationMismatch(f"{path.parent} holds a curation with other settings ({differences(found, wanted)}): "
                               "set curate.output_dir to a new directory, restore the settings, or delete it if no build uses it")


def _batches(rows: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(rows, size)):
        yield batch


def curate_shard(cfg, name: str, index: int, teacher, progress: bool = True, policies: list | None = None) -> dict[str, Any]:
    """Bring shard ``index`` of component ``name`` to done; return its manifest."""
    from tqdm import tqdm

    n = cfg.curate.num_shards
    store = ShardStore(str(component_dir(cfg, name)), index, n)
    finished = store.manifest()
    if finished is not None:
        store.drop_parts()
        return finished
    component = cfg.data.components[name]
    source = plain_component(component)
    curator = Curator(cfg, name, component, teacher, policies)
    known = KnownPairs(cfg, name) if cfg.curate.skip_known_pairs else None
    done, picks = -1, []
    for record in store.done_records():  # committed parts: a prefix of the shard's rows
        done = record["row"]
        if "picked_correct" in record:
            picks.append(record["picked_correct"])
    curator.restore(picks)
    todo = ((i, row) for i, row in enumerate(source_rows(source, name)) if i % n == index and i > done)
    with tqdm(desc=f"curate {name} {index}/{n}", unit="row", disable=not progress) as bar:
        for batch in _batches(todo, cfg.curate.flush_every):
            items = decontaminate.screen(name, source, [(i, example_of(source, name, row)) for i, row in batch])
            outcomes = curator.chunk(known.screen(items) if known else items)
            store.commit_part([encode(i, outcome, curator.picks.get(i), curator.spent.get(i)) for i, outcome in outcomes])
            bar.update(len(batch))
    return store.finish([], shard_counts)


TEACHER_WORK = ("prompts", "candidates", "prompt_tokens", "completion_tokens")


def shard_counts(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A shard's rows, kept and rejected by reason, and the teacher's and policy models' work, one record at a time."""
    rejected: Counter = Counter()
    work: Counter = Counter()
    rows = 0
    for record in records:
        rows += 1
        work.update(record.get("teacher", {}))
        if "rejected" in record:
            rejected[record["rejected"]["reason"]] += 1
    return {"rows": rows, "kept": rows - sum(rejected.values()), "rejected": dict(sorted(rejected.items())),
            "teacher": {key: work[key] for key in TEACHER_WORK}, "policies": {key: work[f"policy_{key}"] for key in TEACHER_WORK}}


def curate(cfg, teacher=None, show_progress: bool = True) -> dict[str, Any] | None:
    """Curate this task's shards of every teacher-role component (all shards when
    ``curate.shard_index`` is null); return the summary once every shard is done, else None."""
    names = teacher_components(cfg)
    if not names:
        raise ValueError(f"mixture {cfg.data.name!r} has no component with a teacher role (rejudge, rft, synthesize): nothing to curate")
    c = cfg.curate
    shards = range(c.num_shards) if c.shard_index is None else [c.shard_index]
    for name in names:
        claim(cfg, name)
    teacher = Teacher(cfg, teacher)
    policies = [LazyEngine(model_spec(entry, cfg.sample, f"curate.policy_models[{i}]")) for i, entry in enumerate(c.policy_models)]
    decontaminate.load(cfg)
    try:
        for name in names:
            for index in shards:
                m = curate_shard(cfg, name, index, teacher, progress=show_progress, policies=policies)
                print(f"curate {name} shard {index}/{c.num_shards}: {m['rows']} rows, {m['kept']} kept, rejected {m['rejected'] or 0}", file=sys.stderr)
    finally:
        decontaminate.unload()
        teacher.close()
        for policy in policies:
            policy.close()
    return summarize(cfg, names)


def summarize(cfg, names: list[str]) -> dict[str, Any] | None:
    """``summary.json`` over every shard of every component, or None while shards are pending."""
    n = cfg.curate.num_shards
    components = {}
    for name in names:
        manifests = [ShardStore(str(component_dir(cfg, name)), i, n).manifest() for i in range(n)]
        pending = [i for i, m in enumerate(manifests) if m is None]
        if pending:
            print(f"curate {name}: shards {pending} are still running; the last task writes the summary", file=sys.stderr)
            return None
        rejected, work, policies = Counter(), Counter(), Counter()
        for m in manifests:
            rejected.update(m["rejected"])
            work.update(m["teacher"])
            policies.update(m["policies"])
        components[name] = {"role": cfg.data.components[name].role, "rows": sum(m["rows"] for m in manifests),
                            "kept": sum(m["kept"] for m in manifests), "rejected": dict(sorted(rejected.items())),
                            "teacher": {key: work[key] for key in TEACHER_WORK}, "policies": {key: policies[key] for key in TEACHER_WORK}}
        components[name]["per_kept_row"] = per_kept_row(components[name])
    total = {key: sum(c["teacher"][key] for c in components.values()) for key in TEACHER_WORK}
    kept = sum(c["kept"] for c in components.values())
    summary = {"output_dir": str(Path(cfg.curate.output_dir)), "shards": n, "components": components,
               "teacher": total, "per_kept_row": per_kept_row({"kept": kept, "teacher": total})}
    atomic_write_text(Path(cfg.curate.output_dir) / "summary.json", json.dumps(summary, indent=2))
    return summary


def per_kept_row(counts: dict[str, Any]) -> dict[str, float] | None:
    """Teacher candidates and tokens (prompt + completion) paid per row kept; None when none is kept."""
    if not counts["kept"]:
        return None
    work = counts["teacher"]
    return {"candidates": round(work["candidates"] / counts["kept"], 2),
            "tokens": round((work["prompt_tokens"] + work["completion_tokens"]) / counts["kept"], 1)}


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"{'component':<22} {'role':<11} {'rows':>7} {'kept':>7} {'calls/kept':>10} {'tokens/kept':>11}  rejected (by reason)"]
    for name, c in [*summary["components"].items(), ("all", {**summary, "role": "", "rows": sum(x["rows"] for x in summary["components"].values()),
                                                                 "kept": sum(x["kept"] for x in summary["components"].values()), "rejected": {}})]:
        reasons = ", ".join(f"{r} {k}" for r, k in c["rejected"].items()) or "-"
        paid = c["per_kept_row"] or {"candidates": "-", "tokens": "-"}
        lines.append(f"{name:<22} {c['role']:<11} {c['rows']:>7} {c['kept']:>7} {paid['candidates']:>10} {paid['tokens']:>11}  {reasons}")
    lines.append(f"curated rows in {summary['output_dir']}: the data build reads them (python launch/build_data.py with the same data and sample settings)")
    return "\n".join(lines)


def run(cfg) -> dict[str, Any] | None:
    """The ``curate`` task. With the megatron engine every TP rank runs it: rank 0 curates, the others serve."""
    if cfg.sample.engine == "megatron":
        from cj2.sample.job import LazyEngine

        engine = LazyEngine(cfg)
        if engine().rank != 0:
            try:
                engine().follow()
            finally:
                engine.close()
            return None
        try:
            return _run(cfg, engine())
        finally:
            engine.close()
    return _run(cfg, None)


def _run(cfg, engine) -> dict[str, Any] | None:
    try:
        summary = curate(cfg, engine, show_progress=cfg.curate.progress)
    except (CurationMismatch, ModelEntryError) as e:
        print(f"cj2 curate: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    if summary is not None:
        print(format_summary(summary))
    return summary
