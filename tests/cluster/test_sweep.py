"""Hydra multirun on the local cluster: one job array, a concurrency limit, one run dir per point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slurm


def _multirun(repo_root, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(repo_root / "tests" / "cluster" / "apps" / "sweep.py"), "--multirun", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=repo_root)


def test_loss_sweep_runs_as_an_array_with_a_concurrency_limit(slurm, repo_root, tmp_path):
    proc = _multirun(repo_root, "cluster=slurm_local", "loss=margin,dpo_noref,temperature", f"run_dir={tmp_path}", "cluster.time_min=5", "cluster.array_parallelism=1")
    assert proc.returncode == 0, proc.stderr[-4000:]
    points = [json.loads(p.read_text()) for p in sorted((tmp_path / "sweep").glob("*/point.json"))]
    assert sorted(p["loss"] for p in points) == ["dpo_noref", "margin", "temperature"]
    assert len({p["array_job_id"] for p in points}) == 1  # one array, not three jobs
    assert len({p["run_dir"] for p in points}) == 3 and all(f"loss={p['loss']}" in p["run_dir"] for p in points)
    script = next((tmp_path / "sweep" / ".submitit").rglob("*_submission.sh")).read_text()
    assert "#SBATCH --array=0-2%1" in script
    # At most one point ran at a time: each started after the previous one ended.
    spans = sorted((p["start"], p["end"]) for p in points)
    assert all(nxt[0] >= prev[1] for prev, nxt in zip(spans, spans[1:], strict=False))


def test_an_invalid_point_fails_before_anything_is_submitted(slurm, repo_root, tmp_path):
    proc = _multirun(repo_root, "cluster=slurm_local", "loss.gamma=10,-1", f"run_dir={tmp_path}")
    assert proc.returncode == 2
    assert "sweep point #1" in proc.stderr and "loss.gamma" in proc.stderr
    assert not (tmp_path / "sweep" / ".submitit").exists()
