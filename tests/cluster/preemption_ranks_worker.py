"""Run under torchrun (2 ranks, gloo): SIGUSR2 reaches rank 1 only; both ranks must stop together.

Each step does a collective (the training step's gradient all-reduce), then polls
cj2.cluster.preemption.requested_by_any() as the training loop does; the rank that stops
"saves" (writes its stop step). Rank 1 signals itself after step 3. Collectives time out after
COLLECTIVE_TIMEOUT_S, so ranks that disagree fail the run instead of hanging it.
Usage: preemption_ranks_worker.py WORK_DIR
"""

import datetime
import json
import os
import signal
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from cj2.cluster import preemption

STEPS = 8
SIGNALLED_RANK, SIGNAL_AFTER_STEP = 1, 3
COLLECTIVE_TIMEOUT_S = 60


def main():
    work = Path(sys.argv[1])
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT_S))
    rank = dist.get_rank()
    preemption.install_handlers(grace_s=0)  # no submitit handler here: the signal only sets the flag
    stopped_at, total = None, torch.zeros(1)
    for step in range(1, STEPS + 1):
        grad = torch.tensor([float(step)])
        dist.all_reduce(grad)
        total += grad
        if rank == SIGNALLED_RANK and step == SIGNAL_AFTER_STEP:
            os.kill(os.getpid(), signal.SIGUSR2)
        if preemption.requested_by_any():
            stopped_at = step
            break
    (work / f"rank{rank}.json").write_text(json.dumps({"stopped_at": stopped_at, "requested": preemption.requested(), "total": total.item()}))
    everyone = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, stopped_at)
    if rank == 0:
        (work / "stops.json").write_text(json.dumps(everyone))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
