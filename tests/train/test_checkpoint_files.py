"""The checkpoint directory's bookkeeping, file by file: which directories count as checkpoints,
what a manifest lists, when a writer's digest is trusted, and why a directory is refused."""

from __future__ import annotations

import hashlib
import json

import pytest

from cj2.train.checkpoint import DIGEST_SUFFIX, MANIFEST, _files, _HashingFile, complete_checkpoints, problem_with
from tests.dist import one_process_group


def test_only_renamed_step_directories_are_checkpoints(tmp_path):
    """Catches: ``(m := STEP_DIR.match(name)) or p.is_dir()`` (a killed save's ``.staged`` directory
    crashes the resume) and the ``is_dir`` test dropped (a stray file named like a step)."""
    for name in ("step_00000010", "step_00000002", ".step_00000011.staged", "notes"):
        (tmp_path / name).mkdir()
    (tmp_path / "step_00000003").write_text("not a directory")
    assert complete_checkpoints(tmp_path) == [(2, tmp_path / "step_00000002"), (10, tmp_path / "step_00000010")]


def test_the_manifest_lists_every_file_but_itself_and_the_digests(tmp_path):
    """Catches: ``p.name < MANIFEST`` (files sorting after ``cj2_manifest.json``, megatron's
    ``common.pt`` and ``metadata.json`` among them, left unverified) and ``p.name is not MANIFEST``
    (the manifest listing itself)."""
    for name in ("__0_0.distcp", "common.pt", "metadata.json", ".metadata", MANIFEST, f"common.pt{DIGEST_SUFFIX}", "sub/extra.bin"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    assert _files(tmp_path) == [".metadata", "__0_0.distcp", "common.pt", "metadata.json", "sub/extra.bin"]


def test_a_digest_is_left_only_for_a_strictly_sequential_write(tmp_path):
    """Catches: ``seek`` leaving ``_sequential = True`` (a file rewritten in place would be recorded
    with the digest of bytes that are no longer on disk)."""
    sequential, rewritten = tmp_path / "a.bin", tmp_path / "b.bin"
    with _HashingFile(sequential, open(sequential, "wb")) as f:
        f.write(b"hello ")
        f.write(b"world")
    assert (tmp_path / f"a.bin{DIGEST_SUFFIX}").read_text() == hashlib.sha256(b"hello world").hexdigest()
    with _HashingFile(rewritten, open(rewritten, "wb")) as f:
        f.write(b"hello world")
        f.seek(0)
        f.write(b"J")
    assert not (tmp_path / f"b.bin{DIGEST_SUFFIX}").exists()


@pytest.fixture
def one_rank_world(tmp_path):
    with one_process_group(tmp_path):
        yield


def test_each_reason_a_checkpoint_is_refused_is_named(tmp_path, one_rank_world):
    """Catches (problem_with): ``except ValueError`` narrowed (an unreadable manifest crashes the
    resume instead of falling back) and ``st_size > size`` (a truncated file reported as corrupt,
    not truncated)."""
    ckpt = tmp_path / "step_00000001"
    ckpt.mkdir()
    (ckpt / "shard.distcp").write_bytes(b"0123456789")
    assert problem_with(ckpt) == f"{MANIFEST} missing or unreadable"
    (ckpt / MANIFEST).write_text('{"files": ')
    assert problem_with(ckpt) == f"{MANIFEST} missing or unreadable"
    manifest = {"step": 1, "files": {"shard.distcp": {"size": 10, "sha256": hashlib.sha256(b"0123456789").hexdigest()}}}
    (ckpt / MANIFEST).write_text(json.dumps(manifest))
    assert problem_with(ckpt) is None
    (ckpt / "shard.distcp").write_bytes(b"0123456780")
    assert problem_with(ckpt) == "shard.distcp does not match its SHA-256 (corrupt)"
    (ckpt / "shard.distcp").write_bytes(b"01234")
    assert problem_with(ckpt) == "shard.distcp has 5 bytes, the manifest says 10 (truncated?)"
    (ckpt / "shard.distcp").unlink()
    assert problem_with(ckpt) == "shard.distcp is missing"


@pytest.mark.distributed
def test_ranks_that_see_a_file_differently_agree_on_the_verdict(tmp_path):
    """2 gloo ranks (checkpoint_agreement_worker.py); rank 1 alone sees a shard as missing.
    Catches: each rank deciding "missing or truncated" alone before the collective hash (rank 1
    returns, rank 0 waits in ``_hash_shared``'s all-gather until the group's 20 s timeout fails it;
    in a real run, ``collective_timeout_s`` = 30 min)."""
    import json
    from pathlib import Path

    from tests.dist import run_torchrun

    out = run_torchrun(Path(__file__).with_name("checkpoint_agreement_worker.py"), 2, [str(tmp_path)], timeout=120)
    ranks = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("rank*.json"))]
    assert [r["rank"] for r in ranks] == [0, 1], out
    assert [r["whole"] for r in ranks] == [None, None]
    assert [r["verdict"] for r in ranks] == ["__1_0.distcp is missing"] * 2


def test_the_checkpoint_writers_helper_process_survives_the_preemption_signal():
    """SLURM sends SIGUSR2 to every process of the job step; megatron's writer reports through a
    queue served by a helper process it keeps. Catches: the helper started with the default
    SIGUSR2 action (it dies, and the preemption's own checkpoint fails with BrokenPipeError)."""
    import os
    import signal

    from megatron.core.dist_checkpointing.strategies import filesystem_async

    from cj2.models.checkpoint import _preemption_proof_results_queue

    _preemption_proof_results_queue()
    queue = filesystem_async._results_queue
    helper = queue._manager._process
    ignored = int(next(line for line in open(f"/proc/{helper.pid}/status") if line.startswith("SigIgn:")).split()[1], 16)
    assert ignored >> (signal.SIGUSR2 - 1) & 1  # set before the helper runs any code
    os.kill(helper.pid, signal.SIGUSR2)
    queue.put("after the signal")  # a dead helper: BrokenPipeError / EOFError here
    assert queue.get(timeout=30) == "after the signal" and helper.is_alive()
