"""``python launch/eval.py eval=NAME``: run a judge over a benchmark (or take saved outputs), score, report.

With ``eval.predictions=FILE`` nothing runs: the saved raw judge outputs are parsed and scored.
Without it, ``eval.model`` judges every request, the raw outputs are saved as
``{run_dir}/predictions_{name}.jsonl`` (so the run can be re-scored later), then scored the same way.
"""

from __future__ import annotations

import json
from pathlib import Path

from cj2.eval.core.files import EvalInputError, stop_on_input_error
from cj2.eval.core.result import EvalResult
from cj2.eval.registry import get as get_benchmark
from cj2.eval.registry import label


def run_label(eval_cfg, scoring: bool = True) -> str:
    """The benchmark's name, with the style requirement when one is appended (its own store, predictions and scores),
    and (``scoring``) ``+verdict_logits`` under teacher-forced scoring, so that both scorings of a set can sit in one run dir."""
    from cj2.eval.judging.teacher_forced import VERDICT_LOGITS

    name = label(eval_cfg.name)
    name = f"{name}+{eval_cfg.style_suffix}" if eval_cfg.style_suffix else name
    return f"{name}+{VERDICT_LOGITS}" if scoring and eval_cfg.scoring == VERDICT_LOGITS else name


def run_judge_on_benchmark(cfg, bench, judge=None) -> str:
    """Judge every request of the benchmark with eval.model; return the saved predictions file.

    Judgments are stored as they complete (cj2.eval.judging.stored_judging): rerunning a killed
    evaluation judges only the requests it had not finished. ``judge`` (an engine factory, e.g.
    :class:`cj2.eval.judging.stored_judging.LazyJudge`) lets several runs share one model; the caller closes it.
    """
    from cj2.eval.core.predictions import write_predictions
    from cj2.eval.judging.stored_judging import LazyJudge, judge_requests, store_dir

    requests = bench.requests(cfg.eval)
    engine = judge or LazyJudge(cfg.eval)
    try:
        texts = judge_requests(requests, cfg.eval, store_dir(cfg.run_dir, run_label(cfg.eval)), engine)
    finally:
        if judge is None:
            engine.close()
    path = Path(cfg.run_dir) / f"predictions_{run_label(cfg.eval)}.jsonl"
    write_predictions(path, ({**r["key"], "prediction": t} for r, t in zip(requests, texts, strict=True)))
    return str(path)


def evaluate(cfg, parse=None, judge=None) -> EvalResult:
    from cj2.eval.judging.official_parsers import parser_for
    from cj2.eval.judging.teacher_forced import SCORINGS, VERDICT_LOGITS

    bench = get_benchmark(cfg.eval.name, cfg.eval)
    if cfg.eval.scoring not in SCORINGS:
        raise EvalInputError("eval.scoring", f"expected one of {', '.join(SCORINGS)}, got {cfg.eval.scoring!r}")
    if cfg.eval.scoring == VERDICT_LOGITS:
        return evaluate_verdict_logits(cfg, bench)
    configured_parse = parser_for(cfg.eval.parser)  # checked before a long judging run, not after
    if not cfg.eval.predictions and not cfg.eval.model:
        raise EvalInputError("eval.predictions", "nothing to score: set eval.predictions=FILE (saved outputs) or eval.model=... (a judge to run)")
    if cfg.eval.style_suffix is not None and not bench.takes_style:
        raise EvalInputError("eval.style_suffix", f"{bench.name} keeps its published prompt; style requirements apply to the pairwise benchmarks (rewardbench ...)")
    predictions = cfg.eval.predictions or run_judge_on_benchmark(cfg, bench, judge)
    result = bench.score(cfg.eval, predictions, parse or configured_parse)
    return with_protocol(result, bench, cfg.eval)


def evaluate_verdict_logits(cfg, bench) -> EvalResult:
    """Teacher-forced scoring (cj2.eval.judging.teacher_forced) of a pairwise set with ``eval.model``, or
    re-scoring of saved records (``eval.predictions`` = a ``verdict_logits_<set>.jsonl``); the records
    are written to ``{run_dir}/verdict_logits_<set>.jsonl``."""
    from cj2.eval.core.verdict_metric import read_verdict_logits, write_verdict_logits
    from cj2.eval.judging.pairwise import PairwiseBenchmark
    from cj2.eval.judging.teacher_forced import (
        VERDICT_LOGITS,
        ScoredSet,
        forced_format,
        load_model,
        score_items,
        verdict_result,
    )

    if not isinstance(bench, PairwiseBenchmark):
        raise EvalInputError("eval.scoring", f"{bench.name} is not a set of A/B pairs: teacher-forced verdict scoring needs one (pairwise sets, rmb, judgebench, rewardbench ...)")
    verdict_format = forced_format(cfg.eval)
    if cfg.eval.predictions:
        records_path = cfg.eval.predictions
        scored = ScoredSet(read_verdict_logits(records_path), [], 0, f"as saved in {records_path}")
    elif cfg.eval.model:
        model, tokenizer = load_model(cfg.eval)
        scored = score_items(bench.load_items(cfg.eval), cfg.eval, model, tokenizer)
        records_path = str(Path(cfg.run_dir) / f"verdict_logits_{run_label(cfg.eval, scoring=False)}.jsonl")
        write_verdict_logits(records_path, scored.records)
    else:
        raise EvalInputError("eval.model", "nothing to score: set eval.model=... (an HF judge) or eval.predictions=verdict_logits_<set>.jsonl (saved records)")
    result = verdict_result(label(cfg.eval.name), scored, records_path)
    result.protocol = {"prompt": cfg.eval.template, "verdict_format": verdict_format, "parser": "teacher-forced", "unparsed": result.unparsed, "scoring": VERDICT_LOGITS}
    result.metrics = {"protocol": result.protocol, **result.metrics}
    return result


def with_protocol(result: EvalResult, bench, eval_cfg) -> EvalResult:
    """Record which prompt and which parser produced the numbers, in OUT.json and the report."""
    prompt, verdict_format = bench.protocol(eval_cfg)
    result.protocol = {"prompt": prompt, "verdict_format": verdict_format, "parser": eval_cfg.parser, "unparsed": result.unparsed}
    if eval_cfg.style_suffix:
        from cj2.eval.judging.styles import style_text

        result.protocol["style_suffix"] = {"name": eval_cfg.style_suffix, "text": style_text(eval_cfg.style_suffix)}
    result.metrics = {"protocol": result.protocol, **result.metrics, "position": position_report(result.judgments)}
    return result


def position_report(judgments) -> dict:
    """Every pairwise benchmark's position-bias block: verdict-A rate against gold-A rate, accuracy by gold side, swap consistency."""
    from cj2.eval.core.pairwise_metric import position_bias, swap_consistency

    report = dict(position_bias(judgments))
    if any(j.swapped for j in judgments):
        report.update(swap_consistency(judgments))
    return report


def write_outputs(cfg, result: EvalResult) -> Path:
    from cj2.eval.reporting.plots import write_plots
    from cj2.eval.reporting.report import markdown_report
    from cj2.utils.atomic import atomic_write_text

    output = Path(cfg.eval.output or Path(cfg.run_dir) / f"eval_{run_label(cfg.eval)}.json")
    atomic_write_text(output, json.dumps(result.metrics, indent=2, ensure_ascii=False) + "\n")
    report_dir = Path(cfg.eval.report_dir or output.parent)
    atomic_write_text(report_dir / f"{output.stem}.md", markdown_report(result))
    if cfg.eval.plots:
        write_plots(result, report_dir)
    return output


def run(cfg):
    from cj2.eval.reporting.report import print_report
    from cj2.eval.reporting.tracking import log_result

    with stop_on_input_error("eval"):
        result = evaluate(cfg)
    output = write_outputs(cfg, result)
    print_report(result)
    log_result(cfg, result)
    print(f"scores written to {output}")
    return result.metrics
