"""Small real tasks the cluster tests run as local processes and SLURM jobs (``module:function``)."""

from __future__ import annotations

import os
import socket


def allreduce(cfg):
    """Join the process group from the environment and sum each rank's (rank + 1)."""
    import torch
    import torch.distributed as dist

    from cj2.cluster.env import init_distributed

    de = init_distributed(timeout_s=120)
    t = torch.tensor([float(de.rank + 1)])
    dist.all_reduce(t)
    ranks = [None] * de.world_size
    dist.all_gather_object(ranks, {"rank": de.rank, "local_rank": de.local_rank, "node_rank": de.node_rank, "host": socket.gethostname()})
    dist.destroy_process_group()
    return {"sum": t.item(), "world_size": de.world_size, "master": f"{de.master_addr}:{de.master_port}", "ranks": ranks, "run_dir": cfg.run_dir}


def fail_on_rank1(cfg):
    """Rank 1 fails at once; rank 0 would wait for two minutes if nobody stopped it."""
    import time

    from cj2.cluster.env import dist_env

    if dist_env().rank == 1:
        print("rank 1 is about to fail", flush=True)
        raise RuntimeError("deliberate failure on rank 1")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(1)  # stands in for a collective waiting on the dead rank
    raise SystemExit(3)


def echo_run_dir(cfg):
    return {"run_dir": cfg.run_dir, "job_id": os.environ.get("SLURM_JOB_ID"), "pid": os.getpid()}


def wait_forever(cfg):
    """Runs until cancelled (the cancel test stops it)."""
    import time

    while True:
        time.sleep(1)


STEP_SECONDS = 0.25


def advance(state: dict) -> dict:
    """One deterministic 'training step': the final state tells whether any step was lost or repeated."""
    step = state["step"] + 1
    return {"step": step, "acc": (state["acc"] * 31 + step) % 1_000_003}


def count_steps(cfg):
    """A resumable loop: saves its state atomically every step, stops and saves when preempted."""
    import json
    import time
    from pathlib import Path

    from cj2.cluster import preemption
    from cj2.tracking.wandb_run import run_id
    from cj2.utils.atomic import atomic_write_text

    run_dir = Path(cfg.run_dir)
    state_path = run_dir / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {"step": 0, "acc": 0}
    with open(run_dir / "attempts.jsonl", "a") as f:
        f.write(json.dumps({"start_step": state["step"], "job_id": os.environ.get("SLURM_JOB_ID"), "restarts": os.environ.get("SLURM_RESTART_COUNT", "0"), "wandb_run_id": run_id(run_dir)}) + "\n")
    while state["step"] < cfg.train.max_steps:
        time.sleep(STEP_SECONDS)  # the step's "work"
        state = advance(state)
        atomic_write_text(state_path, json.dumps(state))
        if preemption.requested_by_any():
            return {"preempted_at": state["step"]}
    return state


def report_point(cfg):
    """A sweep point: records which loss it ran with, where, and when (for the concurrency check)."""
    import json
    import time
    from pathlib import Path

    from cj2.utils.atomic import atomic_write_text

    start = time.time()
    time.sleep(STEP_SECONDS)  # long enough for a second point to overlap if the limit were ignored
    info = {"loss": cfg.loss.name, "run_dir": cfg.run_dir, "job_id": os.environ.get("SLURM_JOB_ID"), "array_job_id": os.environ.get("SLURM_ARRAY_JOB_ID"), "start": start, "end": time.time()}
    atomic_write_text(Path(cfg.run_dir) / "point.json", json.dumps(info))
    return info


def _stage(cfg, needs: str, makes: str):
    """A pipeline stage: fails unless the previous stage's output exists, then writes its own."""
    from pathlib import Path

    run_dir = Path(cfg.run_dir)
    missing = [p for p in needs.split(",") if p and not (run_dir / p).exists()]
    if missing:
        raise RuntimeError(f"started before its inputs existed: {missing}")
    (run_dir / makes).parent.mkdir(parents=True, exist_ok=True)
    (run_dir / makes).write_text(os.environ.get("SLURM_JOB_ID", ""))
    return makes


def stage_sample(cfg):
    return _stage(cfg, "", f"samples/shard{cfg.sample.shard_index}.done")


def stage_build(cfg):
    shards = ",".join(f"samples/shard{i}.done" for i in range(cfg.sample.num_shards))
    return _stage(cfg, shards, "data.done")


def stage_train(cfg):
    return _stage(cfg, "data.done", "model.done")


def stage_eval(cfg):
    return _stage(cfg, "model.done", "eval.done")


def stage_fail(cfg):
    raise RuntimeError("deliberate stage failure")


def rank1_never_joins(cfg):
    """Rank 1 leaves without joining; rank 0 must fail after the timeout, not wait forever."""
    from cj2.cluster.env import dist_env, init_distributed

    if dist_env().rank == 1:
        return None
    init_distributed(timeout_s=5)


def train_gated(cfg):
    """The real ``train`` task, held at gates on its first attempt, so a test can act on a job at
    a known point. ``run_dir/gate.json`` lists holds ``{"at": "step" | "save", "step": k, "ranks":
    [...], "until": NAME}``: the listed ranks stop after training step k ("step") or as they start
    writing checkpoint k ("save"), touch ``gate/rank<r>.<at><k>``, and wait until ``gate/NAME``
    exists or the job is asked to preempt (SIGUSR2). Hold ranks at a "step" gate for as long as you
    like; at a "save" gate the other ranks wait in a collective, which times out. A requeued
    attempt, or a run with ``gate/open`` present, passes straight on."""
    import json
    import time
    from pathlib import Path

    import cj2.models
    import cj2.train.job as job
    from cj2.cluster import preemption
    from cj2.cluster.env import dist_env

    run_dir = Path(cfg.run_dir)
    gate, rank = run_dir / "gate", dist_env().rank
    if (gate / "open").exists() or os.environ.get("SLURM_RESTART_COUNT", "0") != "0":
        return job.run(cfg)
    holds = {(h["at"], h["step"]): h["until"] for h in json.loads((run_dir / "gate.json").read_text()) if rank in h["ranks"]}

    def hold(at: str, step: int) -> None:
        if (at, step) not in holds:
            return
        (gate / f"rank{rank}.{at}{step}").touch()
        deadline = time.monotonic() + 300
        while not (gate / holds[at, step]).exists() and not preemption.requested():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{gate / holds[at, step]} never appeared")
            time.sleep(0.1)  # polling interval of the bounded wait

    real_step, real_save, steps = job.train_step, cj2.models.save_checkpoint, []

    def step_then_hold(*args, **kwargs):
        result = real_step(*args, **kwargs)
        steps.append(1)
        hold("step", len(steps))
        return result

    def hold_then_save(directory, model, optimizer, extra, **kwargs):
        hold("save", extra["step"])
        return real_save(directory, model, optimizer, extra=extra, **kwargs)

    job.train_step, cj2.models.save_checkpoint = step_then_hold, hold_then_save
    return job.run(cfg)
