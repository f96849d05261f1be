"""The local SLURM cluster (slurm/start-local-slurm.sh), served once per test session."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

IN_CI = os.environ.get("CI") == "true"
MULTI = "multi"  # the partition of the namespace nodes (start-local-slurm.sh --nodes N)


def skip_or_fail(why_not: str):
    """Skip where the machine cannot do it; in CI (root, Debian) that is a failure."""
    if IN_CI:
        pytest.fail(f"CI=true but {why_not}")
    pytest.skip(why_not)


def start_cluster(repo_root, *args: str) -> None:
    try:
        proc = subprocess.run(["bash", str(repo_root / "slurm" / "start-local-slurm.sh"), *args], capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"start-local-slurm.sh {' '.join(args)} timed out after 300 s:\n{(e.stderr or '')[-3000:]}")
    if proc.returncode != 0:
        pytest.fail(f"start-local-slurm.sh {' '.join(args)} failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")


@pytest.fixture(scope="session")
def slurm_partition(repo_root) -> str:
    """Start the local cluster (idempotent; a running one keeps its nodes) and return its default partition."""
    if os.geteuid() != 0:
        skip_or_fail("the local SLURM cluster needs root")
    if not shutil.which("apt-get") and not shutil.which("slurmctld"):
        skip_or_fail("the local SLURM cluster needs apt-get (Debian) to install Slurm")
    start_cluster(repo_root)
    return "debug"


@pytest.fixture(scope="session")
def slurm_nodes(slurm_partition, repo_root) -> list[str]:
    """The cluster with two namespace nodes (``--nodes 2``): the node names of partition ``multi``."""
    probe = subprocess.run(["unshare", "--net", "--uts", "--mount", "true"], capture_output=True, text=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        skip_or_fail(f"the two-node cluster needs network, UTS and mount namespaces (unshare --net --uts --mount: {probe.stderr.strip() if probe else 'no unshare'})")
    start_cluster(repo_root, "--nodes", "2")
    out = subprocess.run(["sinfo", "-h", "-N", "-p", MULTI, "-o", "%N"], capture_output=True, text=True, check=True).stdout
    return sorted(set(out.split()))


@pytest.fixture
def slurm(slurm_partition, monkeypatch, repo_root):
    """Per test (its own tmp_path run dir, so its own submitit folder): jobs can import ``tests.*``, and submitit gives up on a missing result after 1 s."""
    from submitit.slurm.slurm import SlurmJob

    monkeypatch.setattr(SlurmJob, "_results_timeout_s", 1)
    monkeypatch.setenv("PYTHONPATH", str(repo_root))
    monkeypatch.chdir(repo_root)
    return slurm_partition
