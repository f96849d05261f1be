"""``python launch/mini_table4.py +exp=mini_table4``: the paper's loss ablation (Table 4) in miniature.

Stages, each resumable (a rerun skips what is complete):

1. pairs: questions -> training pairs per seed, held-out pairs (both orders, best-of-4 groups),
   the rule teacher's answer key, and the training samples the teacher writes for every pair;
2. data: one platform build per seed (``cj2.data.job``; the losses of a seed share it) and the
   held-out set packed with each sample's index kept (``cj2.data.packed``);
3. frozen bottom (``model.frozen_layers`` > 0): the bottom's hidden states of every packed row;
4. judges: ``base`` and every (loss, seed), trained through ``cj2.train.job.train`` and scored by
   their verdict logits, ``mini.workers`` at a time;
5. table: every judge's verdict metrics with intervals, the paired loss comparisons and the gates
   (cj2.eval.studies.loss_comparison), in ``<output_dir>/loss_comparison_<set>.md|.json|.png``
   (and ``generation.md`` when ``mini.generation_items``); stage times in ``summary.json``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from cj2.miniature import runs
from cj2.miniature.task import Pair, answer_key, heldout_pairs, samples, training_pairs
from cj2.utils.atomic import atomic_write_text

RULE_TEACHER = "rule-teacher"


def _jsonl(rows) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def questions(cfg) -> tuple[list, list, list]:
    """(held-out, training pool, negative control) questions of ``cfg.mini``."""
    from cj2.data.curation.verifiable_pairs import arithmetic_questions, read_gsm8k, read_mmlu, split_questions

    mini = cfg.mini
    control = []
    if mini.control_questions:
        control = split_questions(list(read_mmlu(Path(mini.control_dir))), mini.control_questions, 0)[0]
    if mini.family == "arith":
        heldout, pool = split_questions(arithmetic_questions(mini.heldout_questions + mini.train_pool, seed=0), mini.heldout_questions, mini.train_pool)
        return heldout, pool, control
    if mini.family == "gsm8k" and not mini.train_file:
        # One file (GSM8K test) split by question hash: the held-out questions never depend on the seed.
        everything = list(read_gsm8k(Path(mini.heldout_file)))
        heldout, pool = split_questions(everything, mini.heldout_questions, len({q.question for q in everything}) - mini.heldout_questions)
        return heldout, pool, control
    if mini.family == "gsm8k":
        heldout = list(read_gsm8k(Path(mini.heldout_file)))
        heldout = heldout[: mini.heldout_questions] if mini.heldout_questions else heldout
        seen = {q.question for q in heldout}
        pool = [q for q in read_gsm8k(Path(mini.train_file)) if q.question not in seen]
        return heldout, pool, control
    raise ValueError(f"mini.family={mini.family!r} is not one of arith, gsm8k")


def prepare_pairs(cfg, out: Path) -> None:
    """Stage 1; the files it writes are the input of every later stage."""
    from cj2.sample.engines.rule_teacher import RuleTeacher

    done = out / "samples" / "done.json"
    if done.is_file():
        return
    heldout_q, pool, control = questions(cfg)
    atomic_write_text(out / "pairs" / "answer_key.jsonl", _jsonl(answer_key([*heldout_q, *pool, *control])))
    teacher = RuleTeacher(str(out / "pairs" / "answer_key.jsonl"))
    sets = {"heldout": heldout_pairs(heldout_q, cfg.mini.bon_questions)}
    if control:
        sets["control"] = heldout_pairs(control, 0)
    for name, pairs in sets.items():
        atomic_write_text(out / name / "pairs.jsonl", _jsonl(p.to_dict() for p in pairs))
        atomic_write_text(out / "samples" / f"{name}.jsonl", _jsonl(s.to_dict() for s in samples(pairs, cfg.mini.template, teacher)))
    for seed in cfg.mini.seeds:
        train = training_pairs(pool, cfg.mini.train_pairs, seed)
        atomic_write_text(out / "pairs" / f"train-seed{seed}.jsonl", _jsonl(p.to_dict() for p in train))
        atomic_write_text(out / "samples" / f"train-seed{seed}.jsonl", _jsonl(s.to_dict() for s in samples(train, cfg.mini.template, teacher)))
    counts = {name: len(pairs) for name, pairs in sets.items()} | {"train_per_seed": cfg.mini.train_pairs, "training_pool": len(pool)}
    atomic_write_text(done, json.dumps(counts, indent=2))


def pack_eval_set(cfg, out: Path, name: str) -> Path:
    """A held-out (or control) set packed in its pairs' order: sample i is pair i."""
    from cj2.data.packed.packing import write_tokenized
    from cj2.data.packed.tokenize import tokenize_sample
    from cj2.data.packed.tokenizer import load_tokenizer
    from cj2.data.records import TrainingSample

    packed = out / name / "packed"
    if (packed / "index.json").is_file():
        return packed
    tokenizer = load_tokenizer(cfg.model.tokenizer)
    tokenized = []
    for line in (out / "samples" / f"{name}.jsonl").read_text().splitlines():
        sample = TrainingSample.from_dict(json.loads(line))
        tokens, problem = tokenize_sample(sample, tokenizer)
        if problem is not None or tokens.verdict_index < 0:
            raise ValueError(f"{name} sample {sample.id}: its verdict token cannot be located ({problem})")
        tokenized.append(tokens)
    write_tokenized(tokenized, packed, cfg.data.seq_length, tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0, packing=cfg.data.packing)
    return packed


def judges_to_run(cfg) -> list[tuple[str, int | None]]:
    return [(runs.BASE, None)] + [(loss, seed) for seed in cfg.mini.seeds for loss in cfg.mini.losses]


def _done(out: Path, cfg, loss: str, seed: int | None) -> bool:
    judge = runs.judge_name(loss, seed)
    scored = all(runs.records_path(out, judge, name).is_file() for name in runs.eval_sets(cfg))
    generated = not cfg.mini.generation_items or loss == runs.BASE or runs.generation_path(out, judge).is_file()
    return scored and generated


def run_judges(cfg, out: Path, log: Callable[[str], None]) -> list[dict]:
    """Stage 4: every judge not yet scored, ``mini.workers`` processes at a time."""
    todo = [(loss, seed) for loss, seed in judges_to_run(cfg) if not _done(out, cfg, loss, seed)]
    container = OmegaConf.to_container(cfg, resolve=True)
    log(f"{len(todo)} judge(s) to train and score ({len(judges_to_run(cfg)) - len(todo)} already done)")
    if cfg.mini.workers <= 1:
        timings = []
        for loss, seed in todo:
            timings.append(runs.run_judge(container, loss, seed))
            log(f"  {timings[-1]}")
        return timings
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    timings = []
    # spawn: every worker imports torch and megatron itself (a forked CUDA or gloo state is unusable).
    with ProcessPoolExecutor(max_workers=cfg.mini.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(runs.run_judge, container, loss, seed) for loss, seed in todo]
        for future in as_completed(futures):
            timings.append(future.result())
            log(f"  {timings[-1]}")
    return timings


def rule_teacher_records(out: Path, cfg, name: str) -> None:
    """The rule teacher judged on a set's pairs (both orders), as verdict records: a check that the
    pairs, the prompt layout and the scoring agree (on the held-out set it must score 100)."""
    from cj2.data.templates import get_template
    from cj2.eval.core.verdict_metric import VerdictLogits, write_verdict_logits
    from cj2.sample.engines.rule_teacher import RuleTeacher
    from cj2.verdicts import parse

    path = runs.records_path(out, RULE_TEACHER, name)
    if path.is_file():
        return
    teacher = RuleTeacher(str(out / "pairs" / "answer_key.jsonl"))
    template = get_template(cfg.mini.template)
    records = []
    for pair in runs.read_pairs(out / name / "pairs.jsonl"):
        verdict = parse(template.verdict_format, teacher.judge(template.messages(pair.example())))
        chosen = verdict.label if verdict.ok and verdict.label in ("A", "B") else None
        # A rule decides outright: logit 1 for the side it names, 0 for the other (no verdict: a tie, counted wrong).
        z = {side: float(side == chosen) for side in "AB"}
        records.append(VerdictLogits(pair.item, pair.gold, pair.swapped, z, math.log(sum(math.exp(v) for v in z.values())), chosen,
                                     group=pair.group, question=pair.question_id, subset=pair.family))
    write_verdict_logits(path, records)


@contextmanager
def _stage(name: str, timings: dict, log):
    started = time.perf_counter()
    log(f"[{name}]")
    yield
    timings[name] = round(time.perf_counter() - started, 1)
    log(f"[{name}] {timings[name]} s")


def run(cfg: DictConfig) -> dict:
    from cj2.data.job import build_mixture
    from cj2.models.frozen_bottom import write_cache

    out = Path(cfg.mini.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    def log(message: str) -> None:
        print(message, flush=True)

    with _stage("pairs", timings, log):
        prepare_pairs(cfg, out)
    with _stage("data", timings, log):
        for seed in cfg.mini.seeds:
            build_mixture(runs.run_config(cfg, cfg.mini.losses[0], seed), show_progress=False)
        for name in runs.eval_sets(cfg):
            pack_eval_set(cfg, out, name)
    if cfg.model.frozen_layers:
        with _stage("frozen bottom", timings, log):
            for packed in [out / f"data-seed{seed}" / "train" for seed in cfg.mini.seeds] + [out / name / "packed" for name in runs.eval_sets(cfg)]:
                write_cache(cfg.model.hf_path, cfg.model.frozen_layers, packed)
    with _stage("judges", timings, log):
        per_judge = run_judges(cfg, out, log)
    with _stage("table", timings, log):
        for name in runs.eval_sets(cfg):
            rule_teacher_records(out, cfg, name)
        table = write_table(cfg, out)
    summary = {"timings_s": timings, "judges": per_judge, "table": table, "output_dir": str(out)}
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    log(f"miniature Table 4: {table['heldout']['md']} (total {sum(timings.values()):.0f} s)")
    return summary


def write_table(cfg, out: Path) -> dict:
    """Stage 5 (cj2.eval.studies.loss_comparison): per set, the table, the plot and (held-out only)
    the gates; the negative control is compared apart and never ranked."""
    from cj2.eval.core.verdict_metric import read_verdict_logits
    from cj2.eval.studies.loss_comparison import compare_losses, write_comparison

    written = {}
    for name in runs.eval_sets(cfg):
        trained = {(loss, seed): read_verdict_logits(runs.records_path(out, runs.judge_name(loss, seed), name)) for loss, seed in judges_to_run(cfg) if loss != runs.BASE}
        references = {judge: read_verdict_logits(runs.records_path(out, judge, name)) for judge in (RULE_TEACHER, runs.BASE)}
        comparison = compare_losses(name, trained, references, control=name == "control")
        written[name] = {kind: str(path) for kind, path in write_comparison(comparison, out).items()}
        written[name]["gate_failures"] = [str(f) for f in comparison.failures]
    if cfg.mini.generation_items:
        generated = {runs.judge_name(loss, seed): json.loads(runs.generation_path(out, runs.judge_name(loss, seed)).read_text())
                     for loss, seed in judges_to_run(cfg) if loss != runs.BASE}
        lines = [f"# Generation accuracy: the judge's own analysis, then its verdict (first {cfg.mini.generation_items} held-out pairs)", "",
                 "| judge | parsed | correct | accuracy (unparsed = wrong) |", "|---|---|---|---|"]
        lines += [f"| {judge} | {g['parsed']}/{g['items']} | {g['correct']} | {g['accuracy']:.1f} |" for judge, g in generated.items()]
        atomic_write_text(out / "generation.md", "\n".join(lines) + "\n")
        written["generation"] = str(out / "generation.md")
    return written


__all__ = ["Pair", "run"]
