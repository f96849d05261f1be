"""What runs inside a SLURM task: one rank of a cj2 task on its frozen config.

:class:`SlurmTask` is what cj2 pickles for submitit: a task name and a plain config dict (no
Hydra objects, hydra#3038) and nothing imported until it runs. It is submitit-``Checkpointable``:
on the warning signal the task saves (see :mod:`cj2.cluster.preemption`) and the job requeues
itself with the same task and config, so the rerun finds the same run dir, its checkpoints and
the W&B run id kept there (``cj2.tracking.wandb_run``; field-notes 3).
"""

from __future__ import annotations

from typing import Any

from submitit.helpers import Checkpointable, DelayedSubmission


def run_in_job(task: str, cfg) -> Any:
    """Run ``task`` as this SLURM task's rank: record the attempt, run, requeue if preempted.

    Used by :class:`SlurmTask` and by :func:`cj2.cluster.launch.launch` inside a Hydra
    submitit-launcher sweep job (where the launcher is the Checkpointable).
    """
    from cj2.cluster import peers, preemption
    from cj2.cluster.env import dist_env
    from cj2.cluster.tasks import task_function

    # Leave a few seconds between giving up on the task and SLURM's hard kill.
    from cj2.config.validate import REQUEUE_MARGIN_S

    preemption.install_handlers(grace_s=max(cfg.cluster.signal_delay_s - REQUEUE_MARGIN_S, 5))
    if dist_env().rank == 0:
        from cj2.tracking.run_record import write_run_record

        write_run_record(cfg, task)
    try:
        result = task_function(task)(cfg)
    except Exception as e:
        # A collective that timed out on a dead peer says only that: name the node that went.
        lost = peers.lost_node_error(e)
        if lost is None:
            raise
        raise lost from e
    preemption.finish()
    return result


class SlurmTask(Checkpointable):
    def __init__(self, task: str, config: dict[str, Any]):
        self.task = task
        self.config = config

    def __call__(self) -> Any:
        from cj2.cluster import frozen

        return run_in_job(self.task, frozen.from_plain(self.config))

    def checkpoint(self) -> DelayedSubmission:
        # The task saved its own state in the run dir; rerun the same task on the same config.
        return DelayedSubmission(SlurmTask(self.task, self.config))

    def __repr__(self) -> str:
        return f"SlurmTask({self.task!r}, run_dir={self.config.get('run_dir')!r})"
