"""Checkpoints kept after pruning (newest ``keep``, numeric order past step 9999) and a corrupt
shard of the same size refused by its SHA-256 (the newest whole checkpoint is loaded instead)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.dist import run_torchrun

WORKER = Path(__file__).with_name("checkpoint_keep_worker.py")


@pytest.fixture(scope="module")
def keep_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("keep")
    run_torchrun(WORKER, nproc=1, args=[str(work)], timeout=300)
    return json.loads((work / "results.json").read_text())


@pytest.mark.distributed
@pytest.mark.slow
def test_pruning_keeps_the_newest_checkpoints_in_numeric_order(keep_run):
    """Catches: pruning with [keep:] instead of [:-keep] (cj2/train/checkpoint.py Checkpoints.save),
    which deletes the newest checkpoint, and ordering steps as strings ("10000" < "9999")."""
    assert keep_run["after_save"] == [
        ["step_00009999"],
        ["step_00009999", "step_00010000"],
        ["step_00010000", "step_00010001"],  # 9999 pruned; no staging directory left behind
    ]


@pytest.mark.distributed
@pytest.mark.slow
def test_a_same_size_corrupt_shard_is_refused_and_the_previous_checkpoint_loaded(keep_run):
    """Catches: the SHA-256 comparison dropped from problem_with (cj2/train/checkpoint.py): one
    flipped byte keeps the size, so only the hash can tell, and the corrupt step would load."""
    assert keep_run["problem"] == f"{keep_run['victim']} does not match its SHA-256 (corrupt)"
    assert keep_run["loaded_step"] == 10000
    assert len(keep_run["warnings"]) == 1 and "step_00010001" in keep_run["warnings"][0] and "SHA-256" in keep_run["warnings"][0]


@pytest.mark.distributed
@pytest.mark.slow
def test_a_save_hashes_its_shards_while_writing_them(keep_run):
    """Catches: a save that reads its whole checkpoint back to hash it (459 GB at 32B), a
    digest that differs from the file's bytes, digest files left inside the checkpoint."""
    assert keep_run["manifest_equals_hashlib"]
    shards = [n for n in keep_run["files"] if n.endswith(".distcp")]
    assert shards and not set(shards) & set(keep_run["read_back_during_save"])
    assert keep_run["leftover_digests"] == []
