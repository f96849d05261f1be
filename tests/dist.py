"""Run a worker script under torchrun (gloo, CPU) and fail the test with its output.

Distributed checks live in worker scripts that do many checks per launch (each launch pays
~5 s of imports per rank). A failing or hanging rank fails the test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def one_process_group(store_dir: Path) -> Iterator[None]:
    """A gloo world of this process alone (rank 0 of 1), for collectives called in-process."""
    import pytest
    import torch.distributed as dist

    if dist.is_initialized():
        pytest.skip("a process group is already up in this process")
    dist.init_process_group("gloo", init_method=f"file://{Path(store_dir) / 'store'}", rank=0, world_size=1)
    try:
        yield
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_torchrun(script: Path, nproc: int, args: Sequence[str] = (), timeout: float = 300) -> str:
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}", "--master_addr=127.0.0.1", f"--master_port={free_port()}", str(script), *args]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{script.name} under torchrun x{nproc} timed out after {timeout}s\n{e.stdout}\n{e.stderr}") from e
    if proc.returncode != 0:
        raise AssertionError(f"{script.name} under torchrun x{nproc} failed (rc {proc.returncode})\n--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}")
    return proc.stdout
