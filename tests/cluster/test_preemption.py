"""Preemption: a signalled job saves, requeues itself and resumes where it stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from cj2.cluster import preemption
from cj2.cluster.slurm import submit
from tests.cluster.helpers import result_of, slurm_config, wait_until
from tests.cluster.tasks import advance


@pytest.fixture
def fresh_preemption(monkeypatch):
    """A clean flag and SIGUSR2/SIGALRM handlers restored after the test."""
    monkeypatch.setattr(preemption, "_requested", type(preemption._requested)())
    monkeypatch.setattr(preemption, "PEER_WAIT_S", 0)
    saved = {s: signal.getsignal(s) for s in (signal.SIGUSR2, signal.SIGALRM)}
    yield
    signal.alarm(0)
    for s, h in saved.items():
        signal.signal(s, h)


def test_signal_sets_flag_and_hands_over_after_the_task_saved(fresh_preemption):
    calls = []
    signal.signal(signal.SIGUSR2, lambda signum, frame: calls.append(signum))  # stands in for submitit's handler
    preemption.install_handlers(grace_s=60)
    assert not preemption.requested()
    os.kill(os.getpid(), signal.SIGUSR2)
    assert preemption.requested() and preemption.requested_by_any()
    assert calls == []  # the task gets to save first
    with pytest.raises(RuntimeError, match="not requeued"):
        preemption.finish()
    assert calls == [signal.SIGUSR2]


def test_finish_is_a_no_op_without_a_signal(fresh_preemption):
    preemption.install_handlers(grace_s=60)
    preemption.finish()
    assert not preemption.requested()


@pytest.mark.slurm
def test_usr2_checkpoints_requeues_and_resumes_to_the_same_end(slurm, tmp_path):
    run_dir = tmp_path / "run"
    steps = 40
    # > 10 minutes, so submitit counts the signal as a preemption, not a time-out.
    cfg = slurm_config(run_dir, "cluster.time_min=15", f"train.max_steps={steps}")
    job = submit("tests.cluster.tasks:count_steps", cfg)
    state_path = run_dir / "state.json"
    wait_until(lambda: state_path.exists() and json.loads(state_path.read_text())["step"] >= 5, what="5 steps", timeout_s=120)
    subprocess.run(["scancel", "--signal=USR2", job.job_id], check=True)

    final = result_of(job)

    expected = {"step": 0, "acc": 0}
    for _ in range(steps):
        expected = advance(expected)
    assert final == expected  # the resumed run ends exactly where an uninterrupted one does
    attempts = [json.loads(line) for line in (run_dir / "attempts.jsonl").read_text().splitlines()]
    assert len(attempts) == 2
    assert 5 <= attempts[1]["start_step"] < steps  # resumed from its checkpoint, not from 0
    assert [a["restarts"] for a in attempts] == ["0", "1"]
    assert {a["job_id"] for a in attempts} == {job.job_id}  # requeued, same job
    assert len({a["wandb_run_id"] for a in attempts}) == 1 and attempts[0]["wandb_run_id"]
    record = json.loads((run_dir / "run.json").read_text())
    assert [a["slurm_job_id"] for a in record["attempts"]] == [job.job_id, job.job_id]
