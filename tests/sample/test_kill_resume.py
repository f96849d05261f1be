"""Exactly once across kills: SIGKILL the real launcher at several points, rerun, compare.

Each run is ``python launch/sample.py ...`` in a subprocess, killed with SIGKILL once the shards
hold at least K committed items (K = 1: inside the first shard; 3: the first shard finished, the
second started; 6: inside the last shard). A final run completes the job; its outputs must equal
those of the uninterrupted reference run item for item: no duplicates, nothing missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.processes import RUN_TIMEOUT_S, kill_once_committed
from tests.sample.conftest import sample_overrides
from tests.sample.inputs import GOOD_IDS
from tests.sample.outputs import accepted_lines, quarantine_rows, shard_records

KILL_AT = (1, 3, 6)


def _lines(path: Path) -> int:
    try:
        return len(path.read_text().splitlines())
    except FileNotFoundError:  # a part merged away by its finishing shard while the run goes on
        return 0


def committed_items(output_dir: Path) -> int:
    """Items a kill can no longer lose: those in committed parts and in finished shards (while
    the run goes on, a shard finishing between the two globs can hide its items from one poll)."""
    shards = output_dir / "shards"
    parts = sum(_lines(p) for p in shards.glob("*/parts/part-*.jsonl"))
    finished = sum(_lines(p) for p in shards.glob("*/items.jsonl") if (p.parent / "manifest.json").exists())
    return parts + finished


def launch(repo_root: Path, overrides: list, log: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)}
    with open(log, "a") as out:
        return subprocess.Popen([sys.executable, "launch/sample.py", *overrides], cwd=repo_root, stdout=out, stderr=subprocess.STDOUT, env=env)


def test_killed_runs_resume_to_exactly_the_uninterrupted_outputs(repo_root, tiny_qwen2_dir, sample_input, reference_run, tmp_path):
    out, log = tmp_path / "out", tmp_path / "runs.log"
    overrides = sample_overrides(tiny_qwen2_dir, sample_input, out, tmp_path / "run")
    reached = []
    for items in KILL_AT:
        reached.append(kill_once_committed(launch(repo_root, overrides, log), lambda: committed_items(out), items, log, "items"))
        assert not (out / "summary.json").exists()  # each kill left the job unfinished
    assert reached == sorted(reached) and reached[-1] < len(GOOD_IDS)
    final = launch(repo_root, overrides, log)
    assert final.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()[-3000:]

    records = shard_records(out)
    assert sorted(r["id"] for r in records) == sorted(GOOD_IDS)
    assert records == shard_records(reference_run)  # same candidates, verdicts and seeds, item for item
    assert quarantine_rows(out) == quarantine_rows(reference_run)
    assert accepted_lines(out) == accepted_lines(reference_run)
    assert not list(out.glob("shards/*/parts")) and not list((out / "shards").rglob("*.tmp"))
