"""The 32B preset's parallel layout in miniature, through the recipe's own training step.

    layout_32b_worker.py one|layout HF_DIR DATA_DIR RUN_DIR OUT_DIR   (layout: under torchrun x4)

``layout`` is ``+exp=margin_32b``'s combination at TP2 x PP2 on 4 gloo ranks: sequence parallelism,
the distributed optimizer, the untied output layer and the preset's recompute setting (all read
from the preset); ``one`` is the same model and data in one process. Both train STEPS steps of
packed THD rows with verdicts (cj2.train.step.train_step, megatron's 1F1B schedule at PP2) from the
same HF weights and write to OUT_DIR: ``steps.json`` (loss parts and grad norm per step) and, per
step, the gradients as a HF checkpoint (``grads_step<N>/``: every rank's ``main_grad`` shards merged
by cj2's own export). ``layout`` also saves a checkpoint after step SAVED_AT, then builds a fresh,
randomly initialised model and optimizer, resumes from that checkpoint (weights, optimizer state,
data position and LR schedule) and trains the steps after it again (``resumed.json``,
``grads_resumed<N>/``): the first of them tests the weights and the data position, the next one
the optimizer state and learning rate of the update in between.
"""

import json
import sys
from pathlib import Path

import torch

import cj2.train.job as job
from cj2.config import compose, finalize
from cj2.data.packed.stream import PackedDataset, PackedStream, denominators
from cj2.models import export_hf
from cj2.train.checkpoint import Checkpoints
from cj2.train.optim import build_optimizer, build_scheduler
from cj2.train.step import train_step

STEPS, SEQ, SAVED_AT = 4, 32, 2
MODEL = {"num_layers": 4, "hidden_size": 64, "ffn_hidden_size": 128, "num_attention_heads": 4, "num_query_groups": 2, "vocab_size": 256, "max_position_embeddings": 128}


def config(layout: str, hf_dir, data_dir, run_dir):
    preset = compose(["+exp=margin_32b"])
    p = preset.parallel
    assert p.tp > 1 and p.pp > 1 and p.sp and p.use_distributed_optimizer and not preset.model.tie_word_embeddings, "the 32B preset changed: revisit this miniature"
    overrides = [
        "+exp=demo",
        *(f"model.{k}={v}" for k, v in MODEL.items()),
        "model.tie_word_embeddings=false",
        f"model.hf_path={hf_dir}",
        f"parallel.recompute={p.recompute}",
        "parallel.use_distributed_optimizer=true",
        "parallel.micro_batch_size=2",
        "parallel.global_batch_size=4",  # 2 micro-batches a step: the 1F1B schedule's warm-up and cool-down
        f"data.output_dir={data_dir}",
        f"data.seq_length={SEQ}",
        "train.precision=fp32",
        f"train.max_steps={STEPS}",
        "train.lr=1e-4",  # small updates: Adam moves a near-zero gradient entry by ~lr whatever its size
        "tracking=disabled",
        f"run_dir={run_dir}",
    ]
    if layout == "layout":
        overrides += ["parallel.tp=2", "parallel.pp=2", "parallel.sp=true", "cluster.nproc=4"]
    return finalize(compose(overrides))


def export_grads(model, out_dir: Path, model_cfg) -> None:
    """The gradients of the last backward (megatron's reduced ``main_grad``), written as a HF
    checkpoint by cj2's exporter: TP shards merged, PP stages joined, HF names."""
    params = list(model.module.parameters())
    weights = [p.data for p in params]
    for p in params:
        p.data = p.main_grad.view_as(p)
    try:
        export_hf(model.module, out_dir, model_cfg)
    finally:
        for p, w in zip(params, weights, strict=True):
            p.data = w


def train(cfg, dataset, out: Path, steps, checkpoints=None, state=None, name="step"):
    """Build a model and optimizer (loading ``checkpoints``' newest when given) and train ``steps``."""
    model = job.build_training_model(cfg, torch.float32)
    optimizer = build_optimizer(model, cfg.train, cfg.parallel, torch.float32)
    scheduler = build_scheduler(optimizer, cfg.train, STEPS)
    stream = PackedStream(len(dataset), cfg.parallel.global_batch_size, cfg.data.seed)
    if state == "resume":
        loaded = checkpoints.load_latest(model.module, optimizer)
        stream.load_state_dict(loaded["data"])
        scheduler.load_state_dict(loaded["scheduler"])
    real_step, current = optimizer.step, {}

    def step_after_recording_grads():
        export_grads(model, out / f"grads_{current['name']}", cfg.model)
        return real_step()

    optimizer.step = step_after_recording_grads
    results = []
    for step in steps:
        rows = stream.next_rows()
        current["name"] = f"{name}{step}"
        r = train_step(model, optimizer, scheduler, job._my_micro_batches(dataset, rows, cfg), denominators(dataset, rows, cfg.loss.average), cfg.loss)
        results.append({"step": step, "loss": r.loss, "sft": r.sft, "pg": r.pg, "grad_norm": r.grad_norm, "rows": rows})
        if checkpoints is not None and state == "save" and step == SAVED_AT:
            checkpoints.save(step, model.module, optimizer, {"step": step, "data": stream.state_dict(), "scheduler": scheduler.state_dict()})
    return results


def main():
    layout, hf_dir, data_dir, run_dir, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
    cfg = config(layout, hf_dir, data_dir, run_dir)
    env = job.setup_parallel(cfg)
    dataset = PackedDataset(data_dir / "train")
    checkpoints = Checkpoints(Path(run_dir) / "checkpoints", keep=2) if layout == "layout" else None
    results = train(cfg, dataset, out, range(1, STEPS + 1), checkpoints, "save")
    if env.rank == 0:
        (out / "steps.json").write_text(json.dumps(results))
    if layout == "layout":
        # The same run from random weights (no HF checkpoint): only the checkpoint can make it right.
        fresh = config(layout, "null", data_dir, run_dir)
        resumed = train(fresh, dataset, out, range(SAVED_AT + 1, STEPS + 1), checkpoints, "resume", name="resumed")
        if env.rank == 0:
            (out / "resumed.json").write_text(json.dumps(resumed))


if __name__ == "__main__":
    main()
