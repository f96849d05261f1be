"""Run a task as ``world`` local processes, torchrun-style, for development without SLURM.

Each rank is ``python -m cj2.cluster.worker`` with RANK / LOCAL_RANK / WORLD_SIZE and a free
MASTER_PORT on 127.0.0.1 (read by :func:`cj2.cluster.env.dist_env`). Output is streamed with a
``[rank N]`` prefix and kept in ``run_dir/logs/rank{N}.log``. When one rank fails the others
are stopped at once, and the error carries the failing rank's exit reason and log tail.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from omegaconf import DictConfig

from cj2.cluster.env import free_port

TAIL_LINES = 40
# After SIGTERM, seconds the surviving ranks get to exit before SIGKILL.
TERM_GRACE_S = 10


class RankFailed(RuntimeError):
    """A local rank exited with an error; the message names it and shows its log tail."""

    def __init__(self, task: str, rank: int, reason: str, tail: list[str]):
        self.rank, self.reason, self.tail = rank, reason, tail
        body = "".join(tail) or "(no output)\n"
        super().__init__(f"cj2 {task}: rank {rank} {reason}; last lines of its log:\n{body}")


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class _Rank:
    def __init__(self, rank: int, cmd: list[str], env: dict, log_path: Path):
        self.rank = rank
        self.tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.log = open(log_path, "a", buffering=1)
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, start_new_session=True)
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.tail.append(line)
            self.log.write(line)
            sys.stdout.write(f"[rank {self.rank}] {line}")
            sys.stdout.flush()

    def signal(self, sig: int) -> None:
        # Each rank leads its own session, so grandchildren (data workers) get the signal too.
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        self.reader.join(timeout=5)
        self.log.close()


def _stop(ranks: list[_Rank]) -> None:
    for r in ranks:
        if r.proc.poll() is None:
            r.signal(signal.SIGTERM)
    deadline = time.monotonic() + TERM_GRACE_S
    for r in ranks:
        try:
            r.proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            r.signal(signal.SIGKILL)
            r.proc.wait()


def run_processes(task: str, cfg: DictConfig, world: int):
    """Start ``world`` ranks of ``task`` on ``cfg``; return rank 0's result or raise :class:`RankFailed`."""
    import cloudpickle

    from cj2.cluster import frozen

    run_dir = Path(cfg.run_dir)
    work = run_dir / ".cj2"
    logs = run_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    config_path = frozen.save(cfg, work / f"{task.replace(':', '.')}.config.yaml")
    result_path = work / f"{task.replace(':', '.')}.result.pkl"
    result_path.unlink(missing_ok=True)
    port = free_port()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    base_env.setdefault("OMP_NUM_THREADS", "1")
    ranks: list[_Rank] = []
    try:
        for rank in range(world):
            env = {**base_env, "RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_WORLD_SIZE": str(world), "GROUP_RANK": "0", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)}
            cmd = [sys.executable, "-u", "-m", "cj2.cluster.worker", task, str(config_path), str(result_path)]
            ranks.append(_Rank(rank, cmd, env, logs / f"rank{rank}.log"))
        failed = _wait_first_failure(ranks)
    finally:
        _stop(ranks)
        for r in ranks:
            r.close()
    if failed is not None:
        raise RankFailed(task, failed.rank, exit_reason(failed.proc.returncode), list(failed.tail))
    return cloudpickle.loads(result_path.read_bytes())


def _wait_first_failure(ranks: list[_Rank]):
    """Block until every rank succeeded (None) or one failed (that rank)."""
    running = list(ranks)
    while running:
        for r in list(running):
            code = r.proc.poll()
            if code is None:
                continue
            running.remove(r)
            if code != 0:
                return r
        if running:
            try:
                running[0].proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                pass
    return None
