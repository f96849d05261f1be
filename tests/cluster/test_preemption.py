"""Preemption: a signalled job saves, requeues itself and resumes where it stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from types import SimpleNamespace

import pytest

from cj2.cluster import preemption
from cj2.cluster.slurm import submit
from tests.cluster.helpers import result_of, slurm_config, wait_until
from tests.cluster.tasks import advance
from tests.dist import one_process_group


@pytest.fixture
def fresh_preemption(monkeypatch):
    """A clean flag and SIGUSR2/SIGALRM handlers restored after the test."""
    monkeypatch.setattr(preemption, "_requested", type(preemption._requested)())
    monkeypatch.setattr(preemption, "PEER_WAIT_S", 0)
    monkeypatch.setattr(preemption, "_handover", None)
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
    # The grace alarm is cancelled once the task saved (catches ``signal.alarm(1)`` / ``alarm(-1)``
    # in finish: a second, forced hand-over while rank 0 is already requeueing).
    assert signal.alarm(0) == 0


def test_finish_is_a_no_op_without_a_signal(fresh_preemption):
    preemption.install_handlers(grace_s=60)
    preemption.finish()
    assert not preemption.requested()


def test_a_task_that_does_not_stop_is_requeued_after_the_grace_period(fresh_preemption):
    """Catches (cj2/cluster/preemption.py on_signal): the grace alarm armed only when there is no
    submitit handler (``is None``) or only for ``grace_s == 0``, and a grace under a second rounded
    to no alarm at all (``max(int(grace_s), 0)``): a task that never polls the flag would run into
    the time limit instead of requeueing."""
    handed_over = threading.Event()
    signal.signal(signal.SIGUSR2, lambda signum, frame: handed_over.set())  # stands in for submitit's handler
    preemption.install_handlers(grace_s=0.5)
    os.kill(os.getpid(), signal.SIGUSR2)
    assert not handed_over.is_set()  # the task gets its grace period first
    assert handed_over.wait(timeout=30)  # then SIGALRM hands over, though the task never returned


@pytest.mark.parametrize(("grace_s", "alarm_s"), [(0.5, 1), (3.7, 3), (0, 0), (-1, 0)])
def test_the_forced_requeue_is_armed_for_the_grace_period_in_whole_seconds(fresh_preemption, grace_s, alarm_s):
    """Catches: ``max(int(grace_s), 2)`` (a short grace stretched), ``grace_s >= 0`` / ``!= 0`` (an
    alarm armed for a task that asked for no grace period: 0 or negative)."""
    signal.signal(signal.SIGUSR2, lambda signum, frame: None)
    preemption.install_handlers(grace_s=grace_s)
    os.kill(os.getpid(), signal.SIGUSR2)
    assert preemption.requested()
    assert signal.alarm(0) == alarm_s  # the seconds left on the pending alarm, 0 for none


def test_a_local_run_stops_without_waiting_for_a_requeue(fresh_preemption):
    """Outside SLURM no handler was installed: finish() returns at once. Catches (finish):
    ``_handover is not None or _handover[0] ...`` (a TypeError on a local run that was asked to stop)."""
    preemption.request()
    preemption.finish()
    assert preemption.requested()


def test_without_a_submitit_handler_a_stopped_task_just_returns(fresh_preemption):
    """Handlers installed outside a submitit job (SIGUSR2 had no Python handler): nothing requeues,
    so finish() returns. Catches: ``_handover[1]`` / ``_handover[-1]`` for ``_handover[0]`` (the
    signal number, never None: the rank waits for a requeue that never comes, then fails)."""
    signal.signal(signal.SIGUSR2, signal.SIG_DFL)
    preemption.install_handlers(grace_s=60)
    os.kill(os.getpid(), signal.SIGUSR2)
    preemption.finish()
    assert preemption.requested()


def test_other_ranks_wait_for_the_requeue_for_peer_wait_s(fresh_preemption, monkeypatch):
    """A rank that saved waits PEER_WAIT_S for rank 0's requeue to stop it, then fails loudly. On a
    fake clock (no real waiting). Catches: ``deadline = monotonic() - PEER_WAIT_S`` (no wait: the
    rank reports a failure while rank 0 is still requeueing)."""
    clock = {"now": 0.0, "sleeps": 0}

    def sleep(seconds):
        clock["now"] += seconds
        clock["sleeps"] += 1

    monkeypatch.setattr(preemption, "time", SimpleNamespace(monotonic=lambda: clock["now"], sleep=sleep))
    monkeypatch.setattr(preemption, "PEER_WAIT_S", 3)
    signal.signal(signal.SIGUSR2, lambda signum, frame: None)
    preemption.install_handlers(grace_s=60)
    os.kill(os.getpid(), signal.SIGUSR2)
    with pytest.raises(RuntimeError, match="not requeued within 3s"):
        preemption.finish()
    assert clock["sleeps"] == 3


def test_the_flag_needs_no_process_group_and_no_collective_for_one_process(fresh_preemption, monkeypatch, tmp_path):
    """Catches (requested_by_any): ``not initialized and world_size == 1`` (asking an uninitialized
    group for its size raises), and ``world_size() < 1`` / ``== 0`` (a collective every step in a
    one-process world)."""
    import torch.distributed as dist

    preemption.request()
    assert preemption.requested_by_any()
    with one_process_group(tmp_path):
        monkeypatch.setattr(dist, "all_reduce", lambda *a, **k: pytest.fail("a collective in a one-process world"))
        assert preemption.requested_by_any()


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
