"""Preemption and time limits: the running task saves, then the job requeues itself.

SLURM sends SIGUSR2 ``cluster.signal_delay_s`` before the time limit (and on preemption, or
``scancel --signal=USR2``). Inside a cj2 SLURM job the signal only sets a flag; the task polls it
at a safe point (the training loop: after each optimizer step), saves a checkpoint in its run
dir, and returns. The job wrapper (:mod:`cj2.cluster.job`) then hands over to submitit, whose
checkpoint hook resubmits the same task with the same frozen config: the requeued job finds the
same run dir, checkpoint and W&B run id.

For a task API, two functions::

    from cj2.cluster import preemption
    for step in ...:
        train_step()
        if preemption.requested_by_any():   # or requested() in a single-process task
            save_checkpoint(step)
            return

If the task does not stop within the grace period, the job is requeued anyway (from its last
periodic checkpoint), so a task that never polls still requeues before the time limit.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

_requested = threading.Event()
# submitit's own handler (checkpoint + requeue + exit on rank 0) and its signal, once installed.
_handover: tuple | None = None
# How long a rank other than 0 waits for the requeue to stop it after its task saved.
PEER_WAIT_S = 300


def requested() -> bool:
    """True once this process was asked to checkpoint and stop."""
    return _requested.is_set()


def request() -> None:
    """Ask the running task to checkpoint and stop (what the signal handler does)."""
    _requested.set()


def requested_by_any() -> bool:
    """:func:`requested` agreed across all ranks (MAX all-reduce), so every rank stops at the same step.

    Each rank gets the signal at a slightly different moment; without agreement one rank would
    start saving while another enters the next step's collective, and both would hang.
    """
    if "torch.distributed" not in sys.modules:
        return requested()
    import torch
    import torch.distributed as dist

    from cj2.placement import collective_device

    if not dist.is_initialized() or dist.get_world_size() == 1:
        return requested()  # no collective per step for a single process
    flag = torch.tensor([1 if requested() else 0], dtype=torch.int32, device=collective_device())
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item())


def install_handlers(grace_s: float, sig: int = signal.SIGUSR2) -> None:
    """Make ``sig`` set the flag; after ``grace_s`` without the task stopping, requeue anyway.

    Call it in the job after submitit installed its handlers: theirs becomes the hand-over.
    """
    global _handover
    previous = signal.getsignal(sig)
    submitit_handler: Callable | None = previous if callable(previous) else None
    _handover = (submitit_handler, sig)

    def on_signal(signum, frame):
        if _requested.is_set():
            return
        log.warning("cj2: got %s: asking the task to checkpoint and stop (requeue in at most %.0fs)", signal.Signals(signum).name, grace_s)
        _requested.set()
        if submitit_handler is not None and grace_s > 0:
            signal.signal(signal.SIGALRM, lambda *_: _hand_over("the task did not stop within the grace period"))
            signal.alarm(max(int(grace_s), 1))

    signal.signal(sig, on_signal)


def finish() -> None:
    """After the task returned: if it stopped because of preemption, requeue (never returns then).

    Rank 0 runs submitit's checkpoint-and-requeue (which exits the process); other ranks wait
    for the requeue to stop them, so no rank reports success for an unfinished run.
    """
    if not requested():
        return
    signal.alarm(0)
    _hand_over("the task saved its checkpoint")
    if _handover is not None and _handover[0] is not None:
        deadline = time.monotonic() + PEER_WAIT_S
        while time.monotonic() < deadline:
            time.sleep(1)  # the requeue kills this process; nothing to poll for
        raise RuntimeError(f"preempted task was not requeued within {PEER_WAIT_S}s by rank 0")


def _hand_over(why: str) -> None:
    handler, sig = _handover or (None, None)
    if handler is None:
        return
    log.warning("cj2: requeuing: %s", why)
    handler(sig, None)
