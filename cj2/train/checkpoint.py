"""Checkpoints under ``<run_dir>/checkpoints``: saved atomically, verified before use.

A save goes to ``.step_00000010.staged`` and is renamed to ``step_00000010`` only after every
rank has written its part and a manifest (size and SHA-256 of every file) is in place, so a kill
at any moment leaves either a complete checkpoint or a partial directory that is never read.
On start the newest checkpoint whose files match its manifest is loaded; a truncated or
corrupt one is skipped with a warning and the previous one is used.

The manifest's SHA-256s are computed while the shards are written (:func:`hashing_writes`
wraps the files megatron's writer processes open, and each leaves its digest beside its file),
so a save never reads its own checkpoint back; only the few small metadata files megatron
writes by other means are hashed afterwards. Verification before a load re-reads everything,
spread over all ranks (file i is hashed by rank i mod world).
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import os
import re
import shutil
import warnings
from pathlib import Path

import torch.distributed as dist

from cj2.utils.atomic import atomic_write_text, fsync_dir

MANIFEST = "cj2_manifest.json"
STEP_DIR = re.compile(r"^step_(\d{8})$")
# The digest a writer process leaves beside each file it wrote (removed once in the manifest).
DIGEST_SUFFIX = ".cj2-sha256"


class CheckpointWarning(UserWarning):
    pass


def step_dir_name(step: int) -> str:
    return f"step_{step:08d}"


def complete_checkpoints(root: Path) -> list[tuple[int, Path]]:
    """(step, dir) of the renamed (complete) checkpoint directories, oldest first."""
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := STEP_DIR.match(p.name)) and p.is_dir()]
    return sorted(found)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST and not p.name.endswith(DIGEST_SUFFIX))


class _HashingFile:
    """A binary file opened for writing that hashes every byte on its way to disk.

    The digest is trusted only for strictly sequential writes (what torch's checkpoint writer
    does: it appends items and only asks ``tell()``); after a seek none is left, and the file is
    hashed from disk instead.
    """

    def __init__(self, path, raw):
        self._path, self._raw, self._digest, self._sequential = path, raw, hashlib.sha256(), True

    def write(self, data) -> int:
        self._digest.update(data)
        return self._raw.write(data)

    def seek(self, *args):
        self._sequential = False
        return self._raw.seek(*args)

    def __getattr__(self, name):
        return getattr(self._raw, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._raw.__exit__(*exc_info)
        if exc_info[0] is None and self._sequential:
            with builtins.open(f"{self._path}{DIGEST_SUFFIX}", "w") as f:
                f.write(self._digest.hexdigest())


@contextlib.contextmanager
def hashing_writes():
    """Within, every file megatron's checkpoint writer (and its forked writer processes) opens
    for binary writing is hashed as it is written (see :class:`_HashingFile`)."""
    from megatron.core.dist_checkpointing.strategies import filesystem_async

    def hashing_open(file, mode="r", *args, **kwargs):
        raw = builtins.open(file, mode, *args, **kwargs)
        return _HashingFile(file, raw) if "w" in mode and "b" in mode else raw

    # The writer calls the builtin ``open`` by name: a module global shadows it.
    filesystem_async.open = hashing_open
    try:
        yield
    finally:
        del filesystem_async.open


def _written_digests(directory: Path, names: list[str]) -> dict[str, str]:
    """SHA-256 of ``names``: the writers' digests where they left one, else read from disk."""
    digests = {}
    for name in names:
        sidecar = directory / f"{name}{DIGEST_SUFFIX}"
        digests[name] = sidecar.read_text().strip() if sidecar.is_file() else _sha256(directory / name)
    return digests


def _hash_shared(directory: Path, names: list[str]) -> dict[str, str]:
    """SHA-256 of ``names`` with the work split over all ranks; the result on every rank."""
    rank, world = dist.get_rank(), dist.get_world_size()
    mine = {n: _sha256(directory / n) for i, n in enumerate(names) if i % world == rank and (directory / n).is_file()}
    gathered: list[dict[str, str] | None] = [None] * world
    dist.all_gather_object(gathered, mine)
    return {k: v for part in gathered for k, v in part.items()}


def _broadcast(obj):
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _missing_or_truncated(directory: Path, files: dict[str, dict]) -> str | None:
    """This rank's view of the manifest's files: the first one missing or of the wrong size."""
    for name, meta in files.items():
        path = directory / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != meta["size"]:
            return f"{name} has {path.stat().st_size} bytes, the manifest says {meta['size']} (truncated?)"
    return None


def problem_with(directory: Path) -> str | None:
    """Why ``directory`` cannot be loaded (collective: every rank calls it), or None if it is whole."""
    manifest_path = directory / MANIFEST
    manifest = None
    if dist.get_rank() == 0 and manifest_path.is_file():
        try:
            manifest = json.loads(manifest_path.read_text())
        except ValueError:
            manifest = "unreadable"
    manifest = _broadcast(manifest)
    if manifest is None or manifest == "unreadable":
        return f"{MANIFEST} missing or unreadable"
    files = manifest["files"]
    # Ranks may see the same files differently (NFS attribute caching): they agree on one verdict
    # before the collective hash, or the ranks that found nothing wrong would wait in it alone.
    seen: list[str | None] = [None] * dist.get_world_size()
    dist.all_gather_object(seen, _missing_or_truncated(directory, files))
    if problem := next((p for p in seen if p), None):
        return problem
    hashes = _hash_shared(directory, sorted(files))
    bad = [n for n in sorted(files) if hashes.get(n) != files[n]["sha256"]]
    return f"{bad[0]} does not match its SHA-256 (corrupt)" if bad else None


class Checkpoints:
    def __init__(self, root, keep: int):
        self.root = Path(root)
        self.keep = keep

    def save(self, step: int, model, optimizer, trainer_state: dict, optimizer_format: str | None = None) -> Path:
        """Collective: every rank calls it. Returns the final directory. ``optimizer_format``:
        cj2.models.checkpoint's DP-sharded default, or its portable format (an export)."""
        from cj2.models import save_checkpoint
        from cj2.models.checkpoint import DP_SHARDED

        final = self.root / step_dir_name(step)
        staging = self.root / f".{final.name}.staged"
        if dist.get_rank() == 0:
            shutil.rmtree(staging, ignore_errors=True)
        dist.barrier()
        with hashing_writes():
            save_checkpoint(staging, model, optimizer, extra=trainer_state, optimizer_format=optimizer_format or DP_SHARDED)
        if dist.get_rank() == 0:
            names = _files(staging)
            hashes = _written_digests(staging, names)
            for sidecar in staging.rglob(f"*{DIGEST_SUFFIX}"):
                sidecar.unlink()
            files = {n: {"size": (staging / n).stat().st_size, "sha256": hashes[n]} for n in names}
            atomic_write_text(staging / MANIFEST, json.dumps({"step": step, "files": files}, indent=2))
            if final.exists():  # a rerun past this step (e.g. after falling back) rewrites it
                shutil.rmtree(final)
            os.replace(staging, final)
            fsync_dir(self.root)
            for _, old in complete_checkpoints(self.root)[: -self.keep]:
                shutil.rmtree(old, ignore_errors=True)
        dist.barrier()
        return final

    def load_latest(self, model, optimizer) -> dict | None:
        """Load the newest whole checkpoint into ``model`` / ``optimizer``; its trainer state, or None.

        Only incomplete files make a checkpoint unusable; one for another model raises.
        """
        from cj2.models import load_checkpoint

        candidates = _broadcast(complete_checkpoints(self.root) if dist.get_rank() == 0 else None)
        for _step, directory in reversed(candidates):
            problem = problem_with(directory)
            if problem:
                if dist.get_rank() == 0:
                    warnings.warn(
                        f"checkpoint {directory} is unusable ({problem}); falling back to the previous one",
                        CheckpointWarning,
                        stacklevel=2,
                    )
                continue
            return load_checkpoint(directory, model, optimizer)
        return None
