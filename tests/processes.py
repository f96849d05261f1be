"""SIGKILL a subprocess once it has committed enough work: the kill-and-resume tests' one wait."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

RUN_TIMEOUT_S = 300


def kill_once_committed(proc: subprocess.Popen, committed: Callable[[], int], at_least: int, log: Path, what: str) -> int:
    """Wait (bounded) until ``committed()`` reaches ``at_least``, SIGKILL ``proc``, return the count
    on disk after the kill. Fails with the log's tail if the process ends first or never gets there."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while committed() < at_least:
        assert proc.poll() is None, f"the run ended (rc {proc.returncode}) before {at_least} {what} were committed:\n{log.read_text()[-3000:]}"
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError(f"no {at_least} committed {what} after {RUN_TIMEOUT_S} s:\n{log.read_text()[-3000:]}")
        time.sleep(0.02)  # polling interval of the bounded wait
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL
    return committed()
