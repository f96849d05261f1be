"""``python launch/eval.py eval=NAME``: run a judge over a benchmark (or take saved outputs), score, report.

With ``eval.predictions=FILE`` nothing runs: the saved raw judge outputs are parsed and scored.
Without it, ``eval.model`` judges every request, the raw outputs are saved as
``{run_dir}/predictions_{name}.jsonl`` (so the run can be re-scored later), then scored the same way.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from cj2.eval.files import EvalInputError
from cj2.eval.result import EvalResult

BENCHMARKS = {
    "judgerbenchv2": "cj2.eval.judgerbenchv2_eval",
    "judgebench": "cj2.eval.judgebench",
    "rmb": "cj2.eval.rmb",
    "rewardbench": "cj2.eval.rewardbench",
    "pairwise": "cj2.eval.generic_pairwise",
    "pandalm": "cj2.eval.generic_pairwise",
    "llmbar": "cj2.eval.generic_pairwise",
}


def benchmark_module(name: str):
    if name not in BENCHMARKS:
        raise EvalInputError("eval.name", f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return importlib.import_module(BENCHMARKS[name])


def run_judge_on_benchmark(cfg, bench) -> str:
    """Judge every request of the benchmark with eval.model; return the saved predictions file."""
    from cj2.eval.inference import build_judge, generate_texts
    from cj2.eval.predictions import write_predictions

    requests = bench.requests(cfg.eval)
    engine = build_judge(cfg.eval)
    try:
        texts = generate_texts(engine, [r["messages"] for r in requests], cfg.eval, description=f"judging {cfg.eval.name}")
    finally:
        engine.close()
    path = Path(cfg.run_dir) / f"predictions_{cfg.eval.name}.jsonl"
    write_predictions(path, ({**r["key"], "prediction": t} for r, t in zip(requests, texts, strict=True)))
    return str(path)


def evaluate(cfg, parse=None) -> EvalResult:
    from cj2.eval.verdict_source import default_parse

    bench = benchmark_module(cfg.eval.name)
    if not cfg.eval.predictions and not cfg.eval.model:
        raise EvalInputError("eval.predictions", "nothing to score: set eval.predictions=FILE (saved outputs) or eval.model=... (a judge to run)")
    predictions = cfg.eval.predictions or run_judge_on_benchmark(cfg, bench)
    return bench.evaluate(cfg.eval, predictions, parse or default_parse())


def write_outputs(cfg, result: EvalResult) -> Path:
    from cj2.eval.plots import write_plots
    from cj2.eval.report import markdown_report
    from cj2.utils.atomic import atomic_write_text

    output = Path(cfg.eval.output or Path(cfg.run_dir) / f"eval_{cfg.eval.name}.json")
    atomic_write_text(output, json.dumps(result.metrics, indent=2, ensure_ascii=False) + "\n")
    report_dir = Path(cfg.eval.report_dir or output.parent)
    atomic_write_text(report_dir / f"{output.stem}.md", markdown_report(result))
    if cfg.eval.plots:
        write_plots(result, report_dir)
    return output


def run(cfg):
    from cj2.eval.report import print_report
    from cj2.eval.tracking import log_result

    try:
        result = evaluate(cfg)
    except EvalInputError as e:
        print(f"cj2 eval: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    output = write_outputs(cfg, result)
    print_report(result)
    log_result(cfg, result)
    print(f"scores written to {output}")
    return result.metrics
