"""The local SLURM cluster (slurm/start-local-slurm.sh), served once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


@pytest.fixture(scope="session")
def slurm_partition(repo_root) -> str:
    """Start the local cluster (idempotent) and return its partition; skip where it cannot run."""
    in_ci = os.environ.get("CI") == "true"
    why_not = "the local SLURM cluster needs root" if os.geteuid() != 0 else None
    if why_not is None and not shutil.which("apt-get") and not shutil.which("slurmctld"):
        why_not = "the local SLURM cluster needs apt-get (Debian) to install Slurm"
    if why_not:
        if in_ci:
            pytest.fail(f"CI=true but {why_not}")
        pytest.skip(why_not)
    try:
        proc = subprocess.run(["bash", str(repo_root / "slurm" / "start-local-slurm.sh")], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"start-local-slurm.sh timed out after 300 s:\n{(e.stderr or '')[-3000:]}")
    if proc.returncode != 0:
        pytest.fail(f"start-local-slurm.sh failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return "debug"


@pytest.fixture
def slurm(slurm_partition, monkeypatch, repo_root):
    """Per test (its own tmp_path run dir, so its own submitit folder): jobs can import ``tests.*``, and submitit gives up on a missing result after 1 s."""
    from submitit.slurm.slurm import SlurmJob

    monkeypatch.setattr(SlurmJob, "_results_timeout_s", 1)
    monkeypatch.setenv("PYTHONPATH", str(repo_root))
    monkeypatch.chdir(repo_root)
    return slurm_partition

