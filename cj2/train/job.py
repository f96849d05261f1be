"""Train a judge: SFT + verdict-position policy gradient on megatron-core (the ``train`` task).

Read top to bottom: distributed setup, data, model, optimizer, resume, the loop, the outputs.
Everything a run writes lives under ``cfg.run_dir``: ``checkpoints/``, ``hf/`` (the final
judge), ``wandb/`` and ``summary.json``. Rerunning the same command resumes from the newest
whole checkpoint, with the data stream at exactly the row where that checkpoint stopped.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from omegaconf import DictConfig

from cj2 import cpu_shims
from cj2.cluster import preemption
from cj2.cluster.env import init_distributed
from cj2.config.plan import global_batch_rows
from cj2.data.packed.stream import PackedDataset, PackedStream, collate, denominators
from cj2.placement import require_gpus
from cj2.tracking.wandb_run import Tracker
from cj2.train.checkpoint import Checkpoints
from cj2.train.fingerprint import fingerprint
from cj2.train.metrics import mfu, step_flops
from cj2.train.optim import build_optimizer, build_scheduler
from cj2.train.report import PLOT_FILE, AccuracyHistory, label_balance, print_before_after
from cj2.train.step import StepResult, eval_step, train_step
from cj2.utils.atomic import atomic_write_text


@dataclass
class TrainOutcome:
    model: object  # the megatron DDP-wrapped model (``.module`` is the GPTModel)
    summary: dict


def run(cfg: DictConfig) -> dict:
    return train(cfg).summary


def rank_console(rank: int):
    from rich.console import Console

    return Console(quiet=rank != 0, highlight=False, soft_wrap=True)


def setup_parallel(cfg):
    from megatron.core import parallel_state

    # Megatron logs its whole optimizer config and parameter list at INFO; keep the console readable.
    logging.getLogger("megatron").setLevel(logging.WARNING)
    from megatron.core.tensor_parallel.random import model_parallel_cuda_manual_seed

    require_gpus(cfg.cluster.gpus_per_node)
    if cfg.parallel.tp > 1:
        # Tensor/sequence-parallel communication must be queued before the compute it overlaps
        # (Megatron's requirement); set before the CUDA context exists. A no-op on CPU.
        os.environ.setdefault("CUDA_DEVICE_MAX_CONNECTIONS", "1")
    env = init_distributed(cfg.parallel.collective_timeout_s, cfg.cluster.socket_ifname)
    if env.rank == 0:
        from cj2.cluster import peers
        from cj2.tracking.run_record import note_attempt

        world = peers.world()
        note_attempt(cfg.run_dir, hosts=list(dict.fromkeys(w["host"] for w in world)), ranks=world)  # hosts in rank order
    cpu_shims.apply()
    if parallel_state.model_parallel_is_initialized():
        parallel_state.destroy_model_parallel()
    parallel_state.initialize_model_parallel(
        tensor_model_parallel_size=cfg.parallel.tp, pipeline_model_parallel_size=cfg.parallel.pp
    )
    model_parallel_cuda_manual_seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    return env


def prebuilt_data(cfg) -> PackedDataset:
    """The packed training split of a complete, matching data build; training never builds data.

    Building is its own stage (``launch/build_data.py``, a CPU job): built inside training, rank
    0 would tokenize for hours while the other ranks time out in an NCCL barrier.
    """
    from cj2.data.job import completed_build, config_hash

    out_dir = Path(cfg.data.output_dir)
    wanted = config_hash(cfg)
    if completed_build(out_dir, wanted) is None:
        found = out_dir / "build.json"
        state = f"{found} is for another data config" if found.exists() else f"{out_dir} holds no complete build"
        raise MissingDataError(
            f"training needs a prebuilt mixture of this data config (hash {wanted}) but {state}. "
            f"Build it first with the same options: python launch/build_data.py {_data_overrides(cfg)}"
        )
    return packed_split(cfg, out_dir / "train")


def packed_split(cfg, split_dir: Path) -> PackedDataset:
    """A packed split, with its frozen-bottom hidden states when the model has frozen layers."""
    if not cfg.model.frozen_layers:
        return PackedDataset(split_dir)
    from cj2.models.frozen_bottom import require_cache

    return PackedDataset(split_dir, hidden_dir=require_cache(split_dir, cfg.model.hf_path, cfg.model.frozen_layers))


class MissingDataError(FileNotFoundError):
    """Training started without a complete data build of its config."""


def _data_overrides(cfg) -> str:
    from hydra.core.hydra_config import HydraConfig

    try:
        overrides = list(HydraConfig.get().overrides.task)
    except ValueError:  # not under a Hydra app (tests, the Python API)
        return "<the same data=/model= options>"
    kept = [o for o in overrides if o.split("=")[0].lstrip("+~").split(".")[0] in ("exp", "data", "model", "sample")]
    return " ".join(kept) or "(the defaults)"


def training_dtype(cfg, console) -> torch.dtype:
    if cfg.train.precision == "bf16" and not torch.cuda.is_available():
        console.print("[yellow]train.precision=bf16 needs a GPU; training in fp32 on CPU[/]")
        return torch.float32
    return torch.bfloat16 if cfg.train.precision == "bf16" else torch.float32


def build_training_model(cfg, params_dtype):
    from megatron.core.distributed import DistributedDataParallel, DistributedDataParallelConfig, finalize_model_grads

    from cj2.models import build_model, load_hf_weights

    model = build_model(cfg.model, cfg.parallel, params_dtype=params_dtype, initialize=cfg.model.hf_path is None)
    if cfg.model.hf_path:
        load_hf_weights(model, cfg.model.hf_path, cfg.model)
    ddp_config = DistributedDataParallelConfig(
        grad_reduce_in_fp32=True,
        use_distributed_optimizer=cfg.parallel.use_distributed_optimizer,
        # A NaN/Inf gradient stops the run at the step that made it, naming the rank, instead
        # of silently poisoning the weights and every later checkpoint.
        check_for_nan_in_grad=True,
    )
    ddp = DistributedDataParallel(config=model.config, ddp_config=ddp_config, module=model)
    model.config.finalize_model_grads_func = finalize_model_grads
    model.config.no_sync_func = ddp.no_sync
    return ddp


def record_attention_backend(cfg, gpt_model, rank: int, console) -> str:
    """Put the attention backend that runs in run.json; warn loudly when a GPU run got the slow
    local path because ``auto`` found no Transformer Engine (cj2.config.validate.warnings_of)."""
    from cj2.tracking.run_record import note_attempt

    backend = gpt_model.cj2_attention_backend
    if rank == 0:
        note_attempt(cfg.run_dir, attention_backend=backend)
    if torch.cuda.is_available() and backend != "te" and cfg.model.attention == "auto":
        console.print(f"[bold red]WARNING: model.attention=auto runs {backend} on this GPU: Transformer Engine is not installed, "
                      "so every layer runs the local spec (~0.75-0.85x the TE path). Use an NGC PyTorch container or set model.attention explicitly.[/]")
    return backend


def _my_micro_batches(dataset, rows: list[int], cfg) -> list[dict]:
    """This data-parallel rank's share of the global batch, split into micro-batches."""
    from megatron.core import parallel_state

    dp_rank, dp_size = parallel_state.get_data_parallel_rank(), parallel_state.get_data_parallel_world_size()
    share = len(rows) // dp_size
    mine = rows[dp_rank * share : (dp_rank + 1) * share]
    mbs = cfg.parallel.micro_batch_size
    return [collate(dataset, mine[i : i + mbs], cfg.loss.average) for i in range(0, len(mine), mbs)]


def _validation(cfg, model, valid: PackedDataset) -> dict:
    """Loss parts and teacher-forced verdict accuracy over the held-out split (whole micro-batches)."""
    rows = _validation_rows(cfg, valid)
    r = eval_step(model, _my_micro_batches(valid, rows, cfg), denominators(valid, rows, cfg.loss.average), cfg.loss)
    return {"val/loss": r.loss, "val/sft": r.sft, "val/pg": r.pg, "val/verdict_accuracy": r.verdict_accuracy}


def _validation_rows(cfg, valid: PackedDataset) -> list[int]:
    from megatron.core import parallel_state

    chunk = cfg.parallel.micro_batch_size * parallel_state.get_data_parallel_world_size()
    return list(range(len(valid) - len(valid) % chunk))


def _log_line(step: int, total: int, r: StepResult, tokens_per_s: float, mfu_value) -> str:
    acc = "n/a" if math.isnan(r.verdict_accuracy) else f"{r.verdict_accuracy:.2f}"
    util = f" mfu {mfu_value:.1%}" if mfu_value is not None else ""
    return f"step {step}/{total} loss {r.loss:.4f} (sft {r.sft:.4f} pg {r.pg:.4f}) verdict acc {acc} lr {r.lr:.2e} grad {r.grad_norm:.3f} {tokens_per_s:,.0f} tok/s{util}"


def train(cfg: DictConfig) -> TrainOutcome:
    # --- distributed setup -------------------------------------------------------------
    env = setup_parallel(cfg)
    console = rank_console(env.rank)
    run_dir = Path(cfg.run_dir)
    world = dist.get_world_size()

    # --- data: packed rows, a seeded order that resumes exactly --------------------------
    dataset = prebuilt_data(cfg)
    valid_dir = Path(cfg.data.output_dir) / "valid"
    valid = packed_split(cfg, valid_dir) if cfg.train.eval_interval and (valid_dir / "index.json").exists() else None
    if cfg.train.eval_interval and (valid is None or len(valid) < cfg.parallel.micro_batch_size * cfg.parallel.dp):
        console.print(
            "[yellow]train.eval_interval is set but the data has no validation split of a micro-batch per data-parallel rank; no validation[/]"
        )
        valid = None
    stream = PackedStream(len(dataset), global_batch_rows(cfg), cfg.data.seed)  # rows, or parallel.global_batch_samples over the build's samples per row
    total_steps = cfg.train.max_steps or cfg.train.epochs * stream.steps_per_epoch()

    # --- model, optimizer, schedule ----------------------------------------------------
    params_dtype = training_dtype(cfg, console)
    model = build_training_model(cfg, params_dtype)
    record_attention_backend(cfg, model.module, env.rank, console)
    optimizer = build_optimizer(model, cfg.train, cfg.parallel, params_dtype)
    scheduler = build_scheduler(optimizer, cfg.train, total_steps)

    # --- resume from the newest whole checkpoint ---------------------------------------
    checkpoints = Checkpoints(run_dir / "checkpoints", cfg.train.keep_checkpoints)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state = checkpoints.load_latest(model.module, optimizer)
    for w in caught:  # shown in the run's log as well as raised as a warning
        console.print(f"[yellow]warning: {w.message}[/]")
        warnings.warn(w.message, stacklevel=1)
    step, tokens, train_seconds = 0, 0, 0.0
    if state:
        step, tokens, train_seconds = state["step"], state["tokens"], state["train_seconds"]
        stream.load_state_dict(state["data"])
        scheduler.load_state_dict(state["scheduler"])
        console.print(f"resumed from step {step} (data row {stream.consumed_rows})")
    tracker = Tracker.start(cfg, env.rank)

    def save(at_step: int) -> None:
        trainer_state = {
            "step": at_step,
            "tokens": tokens,
            "train_seconds": train_seconds,
            "data": stream.state_dict(),
            "scheduler": scheduler.state_dict(),
        }
        checkpoints.save(at_step, model.module, optimizer, trainer_state)

    # --- the loop ----------------------------------------------------------------------
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    result, validation = None, None
    history = AccuracyHistory.resume(run_dir, step, write=env.rank == 0)
    progress = Progress(
        TextColumn("train"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console, transient=True
    )

    def validate(at_step: int) -> dict:
        values = _validation(cfg, model, valid)
        progress.console.print(
            f"validation at step {at_step}: loss {values['val/loss']:.4f} verdict acc {values['val/verdict_accuracy']:.2f}"
        )
        tracker.log({k: v for k, v in values.items() if not math.isnan(v)}, step=at_step)
        history.add_valid(at_step, values["val/verdict_accuracy"])
        return values

    with progress:
        bar = progress.add_task("train", total=total_steps, completed=step)
        if valid is not None and step == 0:
            validate(0)  # the untrained judge: the "before" of the before/after table
        while step < total_steps:
            started = time.perf_counter()
            rows = stream.next_rows()
            den = denominators(dataset, rows, cfg.loss.average)
            result = train_step(
                model, optimizer, scheduler, _my_micro_batches(dataset, rows, cfg), den, cfg.loss
            )
            elapsed = time.perf_counter() - started
            step, tokens, train_seconds = step + 1, tokens + den.real_tokens, train_seconds + elapsed
            tokens_per_s = den.real_tokens / elapsed
            mfu_value = (
                mfu(step_flops(cfg.model, den.real_tokens, den.loss_tokens + int(den.pg), den.attention_pairs), elapsed, world, cfg.train.peak_tflops)
                if torch.cuda.is_available()
                else None
            )
            progress.advance(bar)
            if step % cfg.train.log_interval == 0 or step == total_steps:
                progress.console.print(_log_line(step, total_steps, result, tokens_per_s, mfu_value))
                history.add_train(step, result.verdict_accuracy)
                metrics = {
                    "loss": result.loss,
                    "loss/sft": result.sft,
                    "loss/pg": result.pg,
                    "verdict_accuracy": result.verdict_accuracy,
                    "lr": result.lr,
                    "grad_norm": result.grad_norm,
                    "tokens_per_s": tokens_per_s,
                    "tokens": tokens,
                }
                tracker.log(
                    {
                        k: v
                        for k, v in {**metrics, "mfu": mfu_value}.items()
                        if v is not None and not (isinstance(v, float) and math.isnan(v))
                    },
                    step=step,
                )
            if valid is not None and (step % cfg.train.eval_interval == 0 or step == total_steps):
                validation = validate(step)
            # All ranks agree (one all-reduce) so they save and stop at the same step.
            preempted = step < total_steps and preemption.requested_by_any()
            if preempted or step % cfg.train.save_interval == 0 or step == total_steps:
                save(step)
            if preempted:
                # SLURM's warning signal: the checkpoint of this step is saved; the job
                # requeues itself and the next attempt resumes right here (cj2.cluster.preemption).
                console.print(f"[yellow]preempted: checkpoint saved at step {step}; the requeued job resumes from it[/]")
                tracker.finish()
                return TrainOutcome(model, {"steps": step, "preempted": True, "wandb_run_id": tracker.id})

    # --- outputs: summary.json, the HF judge, the accuracy history and plot ------------
    summary = {
        "steps": step,
        "tokens": tokens,
        "train_seconds": round(train_seconds, 3),
        "final": None
        if result is None
        else {
            "loss": result.loss,
            "sft": result.sft,
            "pg": result.pg,
            "verdict_accuracy": None if math.isnan(result.verdict_accuracy) else result.verdict_accuracy,
            "lr": result.lr,
        },
        "validation": validation,
        "heldout_verdict_accuracy": history.before_after(),
        "loss": cfg.loss.name,
        "wandb_run_id": tracker.id,
        "fingerprint": fingerprint(cfg),  # a pipeline rerun skips this run while its config is unchanged
    }
    if cfg.train.export_hf:
        from cj2.models import export_hf

        export_hf(model.module, run_dir / "hf", cfg.model, cfg.model.tokenizer)
        summary["hf_export"] = str(run_dir / "hf")
    if env.rank == 0:
        atomic_write_text(run_dir / "summary.json", json.dumps(summary, indent=2))
        _print_summary(console, summary)
        plot = history.plot(run_dir / PLOT_FILE, f"{cfg.run_name}: verdict accuracy ({cfg.loss.name} loss)")
        if summary["heldout_verdict_accuracy"]:
            print_before_after(console, summary["heldout_verdict_accuracy"], *label_balance(valid, _validation_rows(cfg, valid)))
        if plot:
            console.print(f"verdict accuracy over steps: {plot} (history: {history.path})")
    tracker.summary({k: v for k, v in summary.items() if k != "final"})
    tracker.finish()
    dist.barrier()
    return TrainOutcome(model, summary)


def _print_summary(console, summary: dict) -> None:
    from rich.table import Table

    table = Table(title="training summary", show_header=False)
    for key in ("steps", "tokens", "train_seconds", "loss", "wandb_run_id", "hf_export"):
        if key in summary:
            table.add_row(key, str(summary[key]))
    for key, value in (summary["final"] or {}).items():
        table.add_row(f"final {key}", f"{value:.4f}" if isinstance(value, float) else str(value))
    console.print(table)
