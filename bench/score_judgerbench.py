"""How fast cj2 re-scores 10,000 JudgerBenchV2 records (10 scenarios x 1,000), stage by stage.

Wall and CPU time are both printed: scoring is single-threaded, so on a busy shared machine the
CPU time is what it would take on an idle one.

  python bench/score_judgerbench.py [--repeats 5]

Builds a synthetic data dir in the documented record format (the ten published models, the
published position list) and a predictions file with realistic judge outputs (~1 KB of
analysis each, some unparsable), then times, best of N:
  load       reading the ten scenario files and assigning positions
  parse      cj2.verdicts on every output      (baseline: one bare re.findall per output,
             the cost floor of any regex parser)
  metric     win counts, ranks, normalized diff, finals from the parsed verdicts
  end-to-end predictions file + data dir -> scores, as `launch/eval.py` does (no report)
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

from cj2.eval.benchmarks.judgerbenchv2.metric import score_scenario
from cj2.eval.benchmarks.judgerbenchv2.records import (
    VERDICT_FORMAT,
    check_prediction_keys,
    judge_records,
    load_benchmark,
    outcomes,
    score_benchmark,
)
from cj2.eval.benchmarks.judgerbenchv2.table import BASE_MODEL, CATEGORY_TO_SCENARIO, GROUND_TRUTH_WINS, SCENARIOS
from cj2.eval.core.predictions import read_predictions
from cj2.verdicts import parse

CATEGORY = {v: k for k, v in CATEGORY_TO_SCENARIO.items()}
ANALYSIS = "Model A covers the user's constraints; Model B misses one of them. " * 15


def build(root: Path, rng: random.Random) -> tuple[Path, Path]:
    data_dir = root / "data"
    data_dir.mkdir()
    lines = []
    for scenario in SCENARIOS:
        models = list(GROUND_TRUTH_WINS[scenario])
        lan = "cn" if scenario in ("LanTask", "Creation") else "en"
        records = []
        for i in range(1000):
            model = models[i // 100]
            winner = model if rng.random() < GROUND_TRUTH_WINS[scenario][model] / 100 else BASE_MODEL
            records.append(
                {
                    "prompt": f"question {i % 100}",
                    "gold": {"category": CATEGORY.get(scenario, scenario), "lan": lan, "r1_gt": winner},
                    "base_model_response": {"model_name": BASE_MODEL, "response": "base answer " * 50},
                    "models_response": {"model_name": model, "response": "model answer " * 50},
                }
            )
            key = "胜者" if lan == "cn" else "winner"
            verdict = f'{{"analysis": "{ANALYSIS}", "{key}": "{rng.choice("AB")}"}}' if rng.random() > 0.02 else ANALYSIS
            lines.append(json.dumps({"scenario": scenario, "index": i, "prediction": verdict}, ensure_ascii=False))
        (data_dir / f"{scenario}.json").write_text(json.dumps(records, ensure_ascii=False))
    predictions = root / "predictions.jsonl"
    predictions.write_text("\n".join(lines) + "\n")
    return data_dir, predictions


def best_of(repeats: int, fn):
    """(best wall seconds, best CPU seconds, result): on a shared machine CPU time is the honest one."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return (min(walls), min(cpus)), result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="JudgerBenchV2 scoring throughput")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, predictions_path = build(Path(tmp), random.Random(0))
        predictions = read_predictions(predictions_path, with_scenario=True)
        texts = [p.text for p in predictions.values()]
        t_load, benchmark = best_of(args.repeats, lambda: load_benchmark(data_dir))
        n = sum(len(r) for r in benchmark.values())
        formats = [VERDICT_FORMAT[r.lan] for records in benchmark.values() for r in records]
        t_parse, _ = best_of(args.repeats, lambda: [parse(f, t) for f, t in zip(formats, texts, strict=True)])
        bare = re.compile(r'"?(winner|胜者)"?\s*:\s*"([A-Z])"')
        t_floor, _ = best_of(args.repeats, lambda: [bare.findall(t) for t in texts])
        judged = {s: judge_records(records, predictions, parse) for s, records in benchmark.items()}
        t_metric, _ = best_of(args.repeats, lambda: [score_scenario(s, outcomes(j), GROUND_TRUTH_WINS[s]) for s, j in judged.items()])

        def end_to_end():
            bench = load_benchmark(data_dir)
            preds = read_predictions(predictions_path, with_scenario=True)
            check_prediction_keys(bench, preds, predictions_path)
            return score_benchmark(bench, preds, GROUND_TRUTH_WINS, parse)

        t_total, result = best_of(args.repeats, end_to_end)
    print(f"JudgerBenchV2 scoring, {n} records, best of {args.repeats} (python {sys.version.split()[0]})")
    print(f"  {'stage':<30} {'wall ms':>9} {'CPU ms':>9} {'records/s (CPU)':>16}")
    for name, (wall, cpu) in (("load", t_load), ("parse (cj2.verdicts)", t_parse), ("parse floor (bare re.findall)", t_floor), ("metric", t_metric), ("end-to-end", t_total)):
        print(f"  {name:<30} {wall * 1000:9.1f} {cpu * 1000:9.1f} {n / cpu:16,.0f}")
    print(f"  final {result.summary['final']:.2f}, unparsed {result.summary['unparsed']} (synthetic judge: random verdicts)")


if __name__ == "__main__":
    main()
