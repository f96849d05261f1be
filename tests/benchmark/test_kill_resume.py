"""Exactly once across three SIGKILLs of the real command (``python launch/build_bench.py``).

Each killed run is the launcher in a subprocess whose scripted model SIGKILLs its own process when
its N-th answer is about to be returned (``CJ2_BENCH_KILL_AT``; tests/benchmark/scripted_models.py):
a deterministic point inside a model call, no waiting on timing. The three kills land in three
stages (difficulty labels, responses, judgments); a fourth run completes the build. Every answer
that was returned is logged (``CJ2_BENCH_CALL_LOG``); with ``flush_every=1`` each returned answer is
committed before the next call, so exactly once means: over all four runs every call of the
uninterrupted build appears exactly once in the log, and the outputs equal the uninterrupted build's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from cj2.benchmark.job import build
from cj2.sample.model_entries import build_engine_for
from tests.benchmark.conftest import compose_bench, read_outputs, scripted_overrides
from tests.processes import RUN_TIMEOUT_S

KILL_AT = (10, 60, 150)  # the answer, counted within each run, whose return is killed
CALLS = 3 + 24 + 3 * 18 + 3 * 36 * 2  # classifier, difficulty, responses, judgments


def _run(repo_root: Path, overrides: list[str], log: Path, kill_at: int | None, env_log: Path) -> int:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root), "CJ2_BENCH_CALL_LOG": str(env_log)}
    env.pop("CJ2_BENCH_KILL_AT", None)
    if kill_at is not None:
        env["CJ2_BENCH_KILL_AT"] = str(kill_at)
    with open(log, "a") as out:
        proc = subprocess.run([sys.executable, "launch/build_bench.py", *overrides], cwd=repo_root, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=RUN_TIMEOUT_S)
    return proc.returncode


@pytest.mark.slow
def test_three_kills_resume_to_the_uninterrupted_build_exactly_once(repo_root, pool, tmp_path, monkeypatch):
    """Mutants caught (both planted): a stage that forgets its committed parts on resume (it makes their calls
    again; the resumed run then fails on the parts' row order, so it never reaches its kill); a resumed stage
    that skips its first uncommitted call (a call lost: the run fails on the short answer list)."""
    reference_log = tmp_path / "reference_calls.log"
    monkeypatch.setenv("CJ2_BENCH_CALL_LOG", str(reference_log))
    build(compose_bench(scripted_overrides(pool, tmp_path / "reference", "bench.flush_every=1")), build_engine_for)
    monkeypatch.delenv("CJ2_BENCH_CALL_LOG")
    reference_calls = reference_log.read_text().splitlines()
    assert len(reference_calls) == len(set(reference_calls)) == CALLS

    out, log, calls_log = tmp_path / "bench", tmp_path / "runs.log", tmp_path / "calls.log"
    overrides = scripted_overrides(pool, out, "bench.flush_every=1")
    logged_before = []
    for kill_at in KILL_AT:
        assert _run(repo_root, overrides, log, kill_at, calls_log) == -signal.SIGKILL, log.read_text()[-3000:]
        assert not (out / "benchmark.json").exists()  # each kill left the build unfinished
        logged_before.append(len(calls_log.read_text().splitlines()))
    # each run returned kill_at - 1 answers before its kill: nothing more, nothing less was made
    assert logged_before == [9, 9 + 59, 9 + 59 + 149]
    stages = {line.split("\t")[0] for line in calls_log.read_text().splitlines()[68:]}
    assert "biased" in stages  # the third kill came inside the judgments
    assert _run(repo_root, overrides, log, None, calls_log) == 0, log.read_text()[-3000:]

    calls = calls_log.read_text().splitlines()
    assert Counter(calls) == Counter(reference_calls)  # every call once: none repeated, none lost
    assert read_outputs(out) == read_outputs(tmp_path / "reference")
    assert not list((out / "calls").rglob("parts")) and not list((out / "calls").rglob("*.tmp"))
