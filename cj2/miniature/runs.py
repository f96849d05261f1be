"""One judge of the miniature: train it through the platform's loop, then score its verdict logits.

A run is ``cj2.train.job.train`` on a config that differs from the others only in its loss and
seed; the trained model (still in memory) is then scored on the held-out set by the teacher-
forced verdict metric (cj2.train.verdict_logits). ``base`` scores the starting checkpoint with
no training. Each judge's records are written atomically to ``records/<judge>.jsonl`` and a
finished judge is never run again; the run's checkpoints are removed once its records exist.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from cj2.config.compose import CONF_DIR
from cj2.miniature.task import Pair

BASE = "base"


def judge_name(loss: str, seed: int | None) -> str:
    return BASE if loss == BASE else f"{loss}-seed{seed}"


def eval_sets(cfg) -> list[str]:
    """The sets every judge is scored on: the held-out pairs, and the negative control when asked for."""
    return ["heldout", *(["control"] if cfg.mini.control_questions else [])]


def records_path(out: Path, judge: str, eval_set: str = "heldout") -> Path:
    return out / "records" / eval_set / f"{judge}.jsonl"


def run_config(cfg: DictConfig, loss: str, seed: int) -> DictConfig:
    """The training config of one (loss, seed): the loss preset's values, the seed's data build."""
    from cj2.config.schema import Cj2Config

    out = Path(cfg.mini.output_dir)
    run = OmegaConf.merge(OmegaConf.structured(Cj2Config), OmegaConf.to_container(cfg, resolve=True))
    if loss != BASE:
        run.loss = OmegaConf.merge(OmegaConf.structured(Cj2Config).loss, OmegaConf.load(CONF_DIR / "loss" / f"{loss}.yaml"))
    run.seed = seed
    run.data.seed = seed
    run.data.output_dir = str(out / f"data-seed{seed}")
    run.data.components.judgments.path = str(out / "samples" / f"train-seed{seed}.jsonl")
    run.run_dir = str(out / "runs" / judge_name(loss, seed))
    run.run_name = f"mini_table4-{judge_name(loss, seed)}"
    return run


def to_records(logits: list[dict], pairs: list[Pair]) -> list:
    """The verdict metric's records: one per held-out sample, in the held-out order."""
    from cj2.eval.core.verdict_metric import VerdictLogits

    if [r["index"] for r in logits] != list(range(len(pairs))):
        raise ValueError(f"{len(logits)} verdicts for {len(pairs)} held-out pairs: a sample lost its verdict")
    return [VerdictLogits.from_logits(pair.item, pair.gold, pair.swapped, r["z_label"], r["z_opposite"], r["logsumexp"], r["argmax_id"],
                                      r["label_id"], r["opposite_id"], group=pair.group, question=pair.question_id, subset=pair.family)
            for r, pair in zip(logits, pairs, strict=True)]


def read_pairs(path: Path) -> list[Pair]:
    return [Pair(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]


def run_judge(cfg_container: dict, loss: str, seed: int | None) -> dict:
    """Train (unless ``base``) and score one judge; returns its timing. Runs in a worker process."""
    import torch

    from cj2.data.packed.stream import PackedDataset
    from cj2.eval.core.verdict_metric import write_verdict_logits
    from cj2.train.job import build_training_model, packed_split, setup_parallel, train, training_dtype
    from cj2.train.verdict_logits import verdict_logits

    cfg = OmegaConf.create(cfg_container)
    out = Path(cfg.mini.output_dir)
    if cfg.mini.threads_per_worker:
        torch.set_num_threads(cfg.mini.threads_per_worker)
    run = run_config(cfg, loss, seed if seed is not None else cfg.mini.seeds[0])
    started = time.perf_counter()
    if loss == BASE:  # the starting checkpoint, scored as it is
        setup_parallel(run)
        model = build_training_model(run, training_dtype(run, _Quiet()))
        trained_s = 0.0
    else:
        shutil.rmtree(run.run_dir, ignore_errors=True)  # a run killed midway starts again: minutes, not hours
        model = train(run).model
        trained_s = time.perf_counter() - started
    for name in eval_sets(cfg):
        data = packed_split(run, out / name / "packed") if run.model.frozen_layers else PackedDataset(out / name / "packed")
        logits = verdict_logits(model, data, rows_per_batch=cfg.parallel.micro_batch_size)
        write_verdict_logits(records_path(out, judge_name(loss, seed), name), to_records(logits, read_pairs(out / name / "pairs.jsonl")))
    shutil.rmtree(Path(run.run_dir) / "checkpoints", ignore_errors=True)  # GBs a run; the records are the result
    del model
    timing = {"judge": judge_name(loss, seed), "train_s": round(trained_s, 1), "score_s": round(time.perf_counter() - started - trained_s, 1), "pid": os.getpid()}
    if cfg.mini.generation_items and loss != BASE:
        started = time.perf_counter()
        generation_accuracy(cfg, Path(run.run_dir) / "hf", judge_name(loss, seed))
        timing["generation_s"] = round(time.perf_counter() - started, 1)
    return timing


def generation_path(out: Path, judge: str) -> Path:
    return out / "records" / f"{judge}.generation.json"


def generation_accuracy(cfg, model_dir, judge: str, batch: int = 64) -> dict:
    """Greedy judgments of the first ``mini.generation_items`` held-out pairs by the exported judge:
    the verdict it writes after its own analysis (an unparsed verdict is wrong). Beside the verdict
    metric, which reads the verdict token after the reference analysis."""
    from cj2.data.templates import get_template
    from cj2.judge.hf_backend import HFBackend
    from cj2.judge.jobs import Job
    from cj2.utils.atomic import atomic_write_text
    from cj2.verdicts import parse

    out = Path(cfg.mini.output_dir)
    pairs = read_pairs(out / "heldout" / "pairs.jsonl")[: cfg.mini.generation_items]
    template = get_template(cfg.mini.template)
    backend = HFBackend(str(model_dir), max_tokens=cfg.mini.generation_max_tokens)
    try:
        texts = []
        for first in range(0, len(pairs), batch):
            jobs = [Job(template.messages(p.example()), template.verdict_format, labels=("A", "B")) for p in pairs[first : first + batch]]
            texts += [j.text or "" for j in backend.judge_batch(jobs)]
    finally:
        backend.close()
    verdicts = [parse(template.verdict_format, t) for t in texts]
    result = {"items": len(pairs), "parsed": sum(v.ok for v in verdicts),
              "correct": sum(v.ok and v.label == p.gold for v, p in zip(verdicts, pairs, strict=True))}
    result["accuracy"] = 100.0 * result["correct"] / max(result["items"], 1)
    atomic_write_text(generation_path(out, judge), json.dumps(result, indent=2))
    return result


class _Quiet:
    def print(self, *args, **kwargs) -> None:
        pass
