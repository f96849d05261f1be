"""Run under torchrun (2 ranks, TP=2): train through the real recipe, optionally dying after a step.

    resume_worker.py RUN_DIR DATA_DIR OUT_DIR [KILL_AFTER_STEP]

With KILL_AFTER_STEP the processes stop right after that step, like a kill: nothing beyond the
periodic checkpoints is saved. Otherwise every rank writes its final weights to OUT_DIR.
"""

import sys
from pathlib import Path

import torch.distributed as dist

import cj2.train.job as job
from cj2.config import compose, finalize

STEPS = 6


def config(run_dir: str, data_dir: str, *overrides: str):
    """The demo recipe at TP=2 on 2 ranks; ``overrides`` (later wins) change the layout or the task."""
    return finalize(
        compose(
            [
                "+exp=demo",
                "parallel=tp2",
                "parallel.sp=false",
                "parallel.dp=1",
                "parallel.use_distributed_optimizer=false",
                "parallel.micro_batch_size=2",
                "parallel.global_batch_size=4",
                "cluster.nproc=2",
                f"train.max_steps={STEPS}",
                "train.save_interval=2",
                "train.keep_checkpoints=2",
                "train.export_hf=false",
                "tracking=offline",
                "data.components.arithmetic.num_samples=40",
                f"data.output_dir={data_dir}",
                f"run_dir={run_dir}",
                *overrides,
            ]
        )
    )


def die_after(steps: int) -> None:
    """Make training stop right after ``steps`` steps, like a kill: nothing beyond the periodic checkpoints is saved."""
    real_step, done = job.train_step, []

    def step_then_die(*args, **kwargs):
        result = real_step(*args, **kwargs)
        done.append(1)
        if len(done) == steps:
            # Leave the loop right here (not os._exit: the checkpoint writer's helper processes would outlive us).
            raise SystemExit(0)
        return result

    job.train_step = step_then_die


def main():
    run_dir, data_dir, out_dir = sys.argv[1:4]
    if len(sys.argv) > 4:
        die_after(int(sys.argv[4]))
    outcome = job.train(config(run_dir, data_dir))
    from safetensors.torch import save_file

    params = {name: p.detach().contiguous() for name, p in outcome.model.module.named_parameters()}
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    save_file(params, str(Path(out_dir) / f"rank{dist.get_rank()}.safetensors"))
    dist.barrier()


if __name__ == "__main__":
    main()
