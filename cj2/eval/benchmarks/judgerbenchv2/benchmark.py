"""JudgerBenchV2 as a cj2 benchmark: re-score saved outputs, or list the prompts to run."""

from __future__ import annotations

from cj2.eval.benchmarks.judgerbenchv2.prompt import judge_prompt
from cj2.eval.benchmarks.judgerbenchv2.records import (
    JudgerBenchResult,
    benchmark_scenarios,
    check_prediction_keys,
    flipped,
    load_benchmark,
    resolve_ground_truth,
    score_benchmark,
)
from cj2.eval.core.benchmark import Benchmark
from cj2.eval.core.pairwise_metric import PairJudgment, swap_consistency, unswap
from cj2.eval.core.predictions import read_predictions
from cj2.eval.core.result import EvalResult
from cj2.eval.judging.verdict_source import ParseFn

WITH_SCENARIO = True  # prediction lines carry "scenario"


def requests(eval_cfg) -> list[dict]:
    """One request per record in the published A/B order (and flipped, with eval.swap): key fields and chat messages."""
    benchmark = {s: records[: eval_cfg.limit] for s, records in load_benchmark(eval_cfg.data_dir, benchmark_scenarios(eval_cfg.data_dir)).items()}
    orders = [(False, benchmark)] + ([(True, flipped(benchmark))] if eval_cfg.swap else [])
    out = []
    for swapped, records_by_scenario in orders:
        for scenario, records in records_by_scenario.items():
            for r in records:
                out.append({"key": {"scenario": scenario, "index": r.index, "swapped": swapped}, "messages": [{"role": "user", "content": judge_prompt(r)}]})
    return out


def as_judgments(result: JudgerBenchResult, swapped: bool = False) -> list[PairJudgment]:
    """Verdicts in the published order's coordinates (a flipped-order verdict is mapped back)."""
    return [
        PairJudgment(
            item=f"{scenario}/{j.record.index}",
            gold=unswap(j.record.gold_label) if swapped else j.record.gold_label,
            verdict=unswap(j.label) if swapped else j.label,
            swapped=swapped,
            group=scenario,
        )
        for scenario, judged in result.judged.items()
        for j in judged
    ]


def swap_report(result: JudgerBenchResult, swapped_result: JudgerBenchResult) -> dict:
    """Both orders' headline numbers and how often the judge keeps its choice when A and B trade places."""
    consistency = swap_consistency(as_judgments(result) + as_judgments(swapped_result, swapped=True))
    return {
        "accuracy": result.summary["accuracy"],
        "accuracy_swapped": swapped_result.summary["accuracy"],
        "final": result.summary["final"],
        "final_swapped": swapped_result.summary["final"],
        **consistency,
    }


def evaluate(eval_cfg, predictions_path: str, parse: ParseFn) -> EvalResult:
    # A benchmark built by launch/build_bench.py names its own scenarios and brings its own win table.
    benchmark = load_benchmark(eval_cfg.data_dir, benchmark_scenarios(eval_cfg.data_dir))
    predictions = read_predictions(predictions_path, with_scenario=WITH_SCENARIO)
    check_prediction_keys(benchmark, predictions, predictions_path)
    ground_truth, built_table = resolve_ground_truth(eval_cfg.ground_truth, eval_cfg.data_dir)
    result = score_benchmark(benchmark, predictions, ground_truth, parse)
    swapped_result = None
    if eval_cfg.swap or any(key[-1] for key in predictions):
        swapped_result = score_benchmark(flipped(benchmark), predictions, ground_truth, parse, swapped=True)
    rows = [
        {
            "scenario": s.scenario,
            "accuracy": s.accuracy,
            "rank_diff": s.rank_diff,
            "score_diff": s.score_diff,
            "normalized_diff": s.normalized_diff,
            "final": s.final,
            "parsed": s.parsed,
            "unparsed": s.unparsed,
            "missing": result.missing[s.scenario],
        }
        for s in result.scenarios
    ]
    overall = result.summary
    rows.append({"scenario": "mean", **{k: overall[k] for k in ("accuracy", "rank_diff", "score_diff", "normalized_diff", "final", "parsed", "unparsed", "missing")}})
    notes = [f"{s.scenario}: {note}" for s in result.scenarios for note in s.notes]
    metrics = result.to_dict()
    notes.insert(0, "accuracy by language: " + ", ".join(f"{lan} {v['accuracy']:.2f} ({v['parsed']} of {v['total']} parsed)" for lan, v in metrics["by_language"].items()))
    if built_table is not None:  # only then: the published path's outputs stay as they were
        notes.insert(0, f"ground truth: {built_table} (the win table built with this benchmark), not the published table")
        metrics["ground_truth"] = str(built_table)
    judgments = as_judgments(result)
    if swapped_result is not None:
        metrics["swap"] = swap_report(result, swapped_result)
        judgments += as_judgments(swapped_result, swapped=True)
        swap = metrics["swap"]
        notes.append(f"swapped order: accuracy {swap['accuracy_swapped']:.2f}, final {swap['final_swapped']:.2f}; swap consistency {swap['consistency']:.2f}% over {swap['items_in_both_orders']} records")
    return EvalResult(
        benchmark="judgerbenchv2",
        headline_name="final",
        headline=overall["final"],
        metrics=metrics,
        rows=rows,
        group_scores={s.scenario: s.final for s in result.scenarios},
        judgments=judgments,
        unparsed=overall["unparsed"],
        missing=overall["missing"],
        total=overall["total"],
        notes=notes,
    )


class JudgerBenchV2(Benchmark):
    name = "judgerbenchv2"
    takes_style = False  # the published prompt, character for character
    requests = staticmethod(requests)
    score = staticmethod(evaluate)

    def protocol(self, eval_cfg) -> tuple[str, str]:
        return "judgerbenchv2", "judgerbench_en/judgerbench_cn"

    def headline_numbers(self, metrics: dict) -> dict[str, float]:
        out = {"final": metrics["overall"]["final"], "accuracy": metrics["overall"]["accuracy"], "normalized_diff": metrics["overall"]["normalized_diff"]}
        out.update({f"accuracy {lan}": v["accuracy"] for lan, v in metrics.get("by_language", {}).items()})
        out.update({f"{name} final": s["final"] for name, s in metrics["scenarios"].items()})
        return out


JUDGERBENCHV2 = JudgerBenchV2()
