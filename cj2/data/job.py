"""Build a training mixture: load, template, tokenize, dedup, mix, shuffle, split, pack.

Components with a teacher role (``rejudge``, ``rft``, ``synthesize``) are read from the curation
stage's output (cj2.data.curation.curated; ``launch/curate.py`` writes it): the build never calls a
teacher, and refuses to start (:class:`CurationMissing`) until that output is complete.

``build_mixture(cfg) -> Path`` is idempotent: when ``data.output_dir`` already holds a complete
build (``build.json``) of the same data config and tokenizer, it returns at once. Layout::

    train.jsonl, valid.jsonl   the TrainingSample rows, in shuffled order
    train/, valid/             packed shards + index.json (cj2.data.packed.packing; the trainer streams them)
    quarantine.jsonl           one line per rejected row: component, file, row, reason, detail
    stats.json, lengths.png    per-component statistics and the token-length distribution
    build.json                 written last: config hash + statistics (marks a complete build)

A build never overwrites another config's complete build (:class:`BuildConflict`): runs that
share a directory must share a config hash, and a hash covers only what decides the output
(:func:`config_hash`), so ablations that differ in the loss train on one mixture. Builders of one
directory take its lock (``.<name>.lock`` beside it) in turn, and each writes into a staging
directory that replaces ``data.output_dir`` in one rename: readers see the old build or the new one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from omegaconf import OmegaConf

from cj2.data.curation import decontaminate
from cj2.data.curation.curated import (
    TEACHER_KEYS,
    TEACHER_ROLES,
    CurationMissing,
    curate_settings,
    curated_rows,
    require_curated,
)
from cj2.data.packed.mixture import Mixture
from cj2.data.packed.quarantine import ComponentStats, Quarantine
from cj2.data.packed.token_spool import RefTable, close_spools
from cj2.data.process import ComponentSpec, process_chunk
from cj2.data.records import RejectedRow
from cj2.data.sources.demo import demo_examples
from cj2.data.sources.loaders import plain_component, source_rows
from cj2.utils.atomic import atomic_path, atomic_write_text, replace_dir

BUILD_VERSION = 1
# Settings that change how fast a build runs, or whether it stops, never what it produces.
_SPEED_ONLY = ("output_dir", "num_workers", "chunk_size", "max_reject_fraction")
_COMPONENT_SPEED_ONLY = ("max_reject_fraction",)
# What a build writes into data.output_dir; anything else there is not ours to replace.
BUILD_FILES = frozenset({"train.jsonl", "valid.jsonl", "train", "valid", "quarantine.jsonl", "stats.json", "lengths.png", "build.json", ".work"})


class BuildConflict(RuntimeError):
    """data.output_dir holds something a build must not replace (another config's build, other files)."""


def hashed_config(cfg) -> dict:
    """Everything that decides a build's output, as plain data (hashed by :func:`config_hash`)."""
    data = OmegaConf.to_container(cfg.data, resolve=True)
    for key in _SPEED_ONLY:
        data.pop(key, None)
    for component in data["components"].values():
        for key in _COMPONENT_SPEED_ONLY:
            component.pop(key, None)
    payload = {"data": data, "tokenizer": cfg.model.tokenizer, "version": BUILD_VERSION}
    if any(c.get("role") in TEACHER_ROLES for c in data["components"].values()):
        # The curated rows decide the output: the teacher, and the shard split that steers
        # knowledge picks (cj2.data.curation.curated.fingerprint). Never sample.output_dir: a run name
        # there gave every ablation preset its own hash.
        payload["teacher"] = {key: cfg.sample[key] for key in TEACHER_KEYS}
        payload["curate"] = curate_settings(cfg)
        payload["curate_shards"] = cfg.curate.num_shards
    return payload


def config_hash(cfg) -> str:
    return hashlib.sha256(json.dumps(hashed_config(cfg), sort_keys=True).encode()).hexdigest()[:16]


def completed_build(out_dir: Path, wanted_hash: str) -> dict | None:
    manifest = _manifest(out_dir)
    return manifest if manifest is not None and manifest.get("config_hash") == wanted_hash else None


def _manifest(out_dir: Path) -> dict | None:
    try:
        return json.loads((Path(out_dir) / "build.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None


def _flat(value, prefix: str = "") -> dict[str, object]:
    if not isinstance(value, dict):
        return {prefix: value}
    return {k: v for key, item in value.items() for k, v in _flat(item, f"{prefix}.{key}" if prefix else str(key)).items()}


def _differences(old: dict | None, new: dict) -> str:
    if old is None:
        return "the old build does not record its config"
    a, b = _flat(old), _flat(new)
    changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    shown = ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in changed[:8])
    return shown + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")


def refuse_to_replace(out_dir: Path, wanted: str, config: dict) -> None:
    """Raise :class:`BuildConflict` unless ``out_dir`` is empty, absent or an unfinished build."""
    if not out_dir.exists():
        return
    manifest = _manifest(out_dir)
    if manifest is not None:
        raise BuildConflict(
            f"{out_dir} holds a complete build of another data config (hash {manifest.get('config_hash')}, this config: {wanted}; "
            f"{_differences(manifest.get('config'), config)}). Runs that train on it would see their data change: "
            f"set data.output_dir to a new directory, or delete {out_dir} if no run uses it")
    foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in BUILD_FILES)
    if foreign:
        raise BuildConflict(f"{out_dir} holds files that are not a data build ({', '.join(foreign[:5])}): a build replaces the whole directory; "
                            f"set data.output_dir to a new or empty directory")


@contextmanager
def build_lock(out_dir: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``out_dir``: one builder of a directory at a time, the others wait."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(out_dir.parent / f".{out_dir.name}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _waiting_for_lock(out_dir)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _waiting_for_lock(out_dir: Path) -> None:
    print(f"cj2 build_data: another process is building {out_dir}; waiting for it to finish", file=sys.stderr)


def _records(name: str, component, seed: int) -> Iterator:
    """The component's records, or its source rows as read (the workers parse them)."""
    if component.kind == "synthetic_demo":
        return demo_examples(name, component.num_samples if component.num_samples is not None else 256, seed)
    return source_rows(plain_component(component), name)


def _chunks(indexed: Iterator[tuple[int, object]], size: int) -> Iterator[list]:
    """Chunks of (index, record or source row)."""
    while chunk := list(islice(indexed, size)):
        yield chunk


def _component_spec(cfg, name: str, component, spool_dir: Path) -> ComponentSpec:
    return ComponentSpec(
        name=name, kind=component.kind, template=component.template, role=component.role, seed=cfg.data.seed,
        swap_mode=cfg.data.swap_positions, seq_length=cfg.data.seq_length, tokenizer=cfg.model.tokenizer,
        judgment_format=component.options.get("judgment_format"), spool_dir=str(spool_dir), language=component.language,
        source=None if component.kind == "synthetic_demo" else plain_component(component),
    )


def _work(args):
    spec, items = args
    return process_chunk(spec, decontaminate.screen(spec.name, spec.source, items))  # eval_overlap rows out before any rendering


def _ordered_map(pool, fn, items: Iterator, depth: int) -> Iterator:
    """``pool.imap`` with at most ``depth`` chunks in flight: imap would read the whole source
    ahead into memory whenever the workers are slower than the reader."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.apply_async(fn, (item,)))
        if len(pending) >= depth:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def _run_component(cfg, name, component, pool, mixture: Mixture, quarantine: Quarantine, progress) -> ComponentStats:
    stats = ComponentStats(name)
    spec = _component_spec(cfg, name, component, mixture.dir)
    rows = curated_rows(cfg, name) if component.role in TEACHER_ROLES else enumerate(_records(name, component, cfg.data.seed))
    chunks = ((spec, chunk) for chunk in _chunks(rows, cfg.data.chunk_size))
    results = _ordered_map(pool, _work, chunks, depth=2 * cfg.data.num_workers) if pool is not None else map(_work, chunks)
    task = progress.add_task(name, total=None)
    for outcomes in results:
        for outcome in outcomes:
            if isinstance(outcome, RejectedRow):
                quarantine.add(outcome, stats)
            elif mixture.is_duplicate(outcome.content_hash):
                quarantine.add(RejectedRow(name, outcome.file, outcome.row, "duplicate", "same question and responses as an earlier row"), stats)
            else:
                stats.keep(outcome.tokens, outcome.verdicts, outcome.formats, outcome.language)
                mixture.add(name, outcome.content_hash, outcome.samples, outcome.refs)
        progress.update(task, completed=stats.rows_in, description=f"{name}: {stats.kept} kept, {stats.rows_in - stats.kept} rejected")
    limit = component.max_reject_fraction if component.max_reject_fraction is not None else cfg.data.max_reject_fraction
    stats.check(limit, quarantine.path)
    return stats


def _write_splits(mixture: Mixture, out_dir: Path) -> dict[str, RefTable]:
    """train.jsonl and valid.jsonl in shuffled order; returns each split's token references."""
    refs = {"train": RefTable(), "valid": RefTable()}
    with atomic_path(out_dir / "train.jsonl") as train_tmp, atomic_path(out_dir / "valid.jsonl") as valid_tmp:
        with open(train_tmp, "w", encoding="utf-8") as train, open(valid_tmp, "w", encoding="utf-8") as valid:
            for split, ref, sample in mixture.shuffled():
                (valid if split == "valid" else train).write(sample)
                refs[split].append(ref)
    return refs


def _pack(cfg, mixture: Mixture, refs: dict[str, RefTable], out_dir: Path, progress) -> dict:
    """Pack both splits from the token spool (the ids the workers produced) for the trainer."""
    from cj2.data.packed.packing import write_tokenized
    from cj2.data.packed.token_spool import SpooledSamples
    from cj2.data.packed.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(cfg.model.tokenizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    packed = {}
    for split, split_refs in refs.items():
        task = progress.add_task(f"packing {split}", total=None)
        target = out_dir / split
        shutil.rmtree(target, ignore_errors=True)
        extra = {"sft_only_reasons": dict(split_refs.reason_counts())}
        samples = SpooledSamples(split_refs, mixture.dir)
        try:
            packed[split] = write_tokenized(samples, target, cfg.data.seq_length, pad_id, packing=cfg.data.packing, extra_stats=extra)
        finally:
            samples.close()
        progress.update(task, completed=len(split_refs), total=len(split_refs))
    return packed


def build_mixture(cfg, *, force: bool = False, show_progress: bool = True, pack: bool = True) -> Path:
    """Build ``cfg.data`` into ``cfg.data.output_dir`` (or return the complete build already there).

    ``pack=False`` stops after the JSONL splits (no tokenized shards; the build is not marked
    complete, so a later call with ``pack=True`` builds again). ``force`` rebuilds, and replaces
    a complete build of another config (:class:`BuildConflict` without it). Teacher-role
    components must be curated first (:class:`CurationMissing` otherwise).
    """
    out_dir = Path(cfg.data.output_dir)
    wanted = config_hash(cfg)
    if not force and completed_build(out_dir, wanted):
        return out_dir
    with build_lock(out_dir):
        if not force and completed_build(out_dir, wanted):  # built by the process we waited for
            return out_dir
        require_curated(cfg)
        config = hashed_config(cfg)
        if not force:
            refuse_to_replace(out_dir, wanted, config)
        staging = out_dir.parent / f".{out_dir.name}.building"
        shutil.rmtree(staging, ignore_errors=True)  # left by a build that stopped
        staging.mkdir()
        stats = _build_into(staging, cfg, show_progress, pack)
        if pack:
            manifest = {"config_hash": wanted, "version": BUILD_VERSION, "config": config, "stats": stats}
            atomic_write_text(staging / "build.json", json.dumps(manifest, indent=2))
        replace_dir(staging, out_dir)
    return out_dir


def _build_into(out_dir: Path, cfg, show_progress: bool, pack: bool) -> dict:
    """Every build output but build.json, written into the empty ``out_dir``; returns the statistics."""
    from rich.progress import Progress

    decontaminate.load(cfg)  # before the pool forks: the workers inherit the evaluation questions
    mixture = Mixture(out_dir / ".work", cfg.data.seed)
    quarantine = Quarantine(out_dir / "quarantine.jsonl")
    components: dict[str, ComponentStats] = {}
    pool = _pool(cfg)
    with Progress(disable=not show_progress, transient=True) as progress:
        try:
            for name, component in cfg.data.components.items():
                components[name] = _run_component(cfg, name, component, pool, mixture, quarantine, progress)
        finally:
            decontaminate.unload()
            quarantine.close()
            close_spools(mixture.dir)
            if pool is not None:
                pool.terminate()
        rules = {name: (c.weight, c.num_samples, c.share) for name, c in cfg.data.components.items()}
        for name, count in mixture.select(rules, cfg.data.validation_fraction).items():
            components[name].selected = count
        mixture.cleanup()
        refs = _write_splits(mixture, out_dir)
        splits = {split: len(r) for split, r in refs.items()}
        packed = _pack(cfg, mixture, refs, out_dir, progress) if pack else {}
    shutil.rmtree(mixture.dir, ignore_errors=True)
    from cj2.data.packed.encoder import text_encoder
    from cj2.data.packed.stats import write_stats
    from cj2.data.process import worker_tokenizer

    return write_stats(out_dir, cfg, components, splits, packed, text_encoder(worker_tokenizer(cfg.model.tokenizer)).name)


def _pool(cfg):
    if cfg.data.num_workers <= 1:
        return None
    import multiprocessing

    from cj2.data.process import worker_tokenizer

    worker_tokenizer(cfg.model.tokenizer)  # loaded once here, inherited by the forked workers
    return multiprocessing.get_context("fork").Pool(cfg.data.num_workers, initializer=_one_thread_tokenizer)


def _one_thread_tokenizer() -> None:
    # The workers are the parallelism: a thread pool per worker would only oversubscribe the cores.
    os.environ["TOKENIZERS_PARALLELISM"] = "false"


def run(cfg) -> dict:
    """The ``build_data`` task: build the mixture and print its statistics."""
    from cj2.data.packed.quarantine import TooManyRejects
    from cj2.data.packed.stats import print_summary
    from cj2.data.sources.raw import SourceError

    try:
        out_dir = build_mixture(cfg)
    except (TooManyRejects, SourceError, BuildConflict, CurationMissing) as e:
        # The user fixes data or a config entry, not the code: one clear message, no traceback.
        print(f"cj2 build_data: {e}", file=sys.stderr)
        raise SystemExit(1) from None
    manifest = json.loads((out_dir / "build.json").read_text())
    print_summary(manifest["stats"], out_dir)
    return manifest["stats"]
