"""The built benchmark on disk, in the format cj2's JudgerBenchV2 evaluator reads.

``{output_dir}/{scenario}.json``: a JSON list; per scenario the records are grouped by policy (in
``bench.policies`` order), each policy's queries in pool order, so record ``i`` takes entry ``i`` of
the published A/B position list as the published files do::

    {"prompt": str,
     "gold": {"category": str, "lan": "en" | "cn", "r1_gt": <the MoJ winner's name>},
     "base_model_response": {"model_name": <base>, "response": str},
     "models_response": {"model_name": <policy>, "response": str}}

``ground_truth.json``: ``{scenario: {policy: wins}}``, the pairs the MoJ label gives to the policy
(the published table's shape); ``benchmark.json``: scenarios (in order), base model, policies,
judges and counts. ``launch/eval.py eval=judgerbenchv2 eval.data_dir=DIR`` reads all three.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from cj2.benchmark.moj import Label, Pair
from cj2.eval.benchmarks.judgerbenchv2.metric import MODEL
from cj2.eval.benchmarks.judgerbenchv2.records import BUILT_BENCHMARK_FILE, BUILT_GROUND_TRUTH_FILE
from cj2.eval.benchmarks.judgerbenchv2.table import CATEGORY_TO_SCENARIO
from cj2.utils.atomic import atomic_write_text

SCENARIO_TO_CATEGORY = {scenario: category for category, scenario in CATEGORY_TO_SCENARIO.items()}


def category_of(scenario: str) -> str:
    """gold.category: the published spelling for the published scenarios ("Reason & Analysis"), else the name."""
    return SCENARIO_TO_CATEGORY.get(scenario, scenario)


def record(pair: Pair, label: Label) -> dict:
    winner = pair.model if label.winner == MODEL else pair.base_model
    return {
        "prompt": pair.prompt,
        "gold": {"category": pair.category, "lan": pair.lan, "r1_gt": winner},
        "base_model_response": {"model_name": pair.base_model, "response": pair.base_response},
        "models_response": {"model_name": pair.model, "response": pair.model_response},
    }


def scenario_records(pairs: Sequence[Pair], labels: Sequence[Label], scenario: str, policies: Sequence[str]) -> list[dict]:
    """The kept (labelled) pairs of one scenario, grouped by policy in config order, queries in pool order."""
    kept = [(p, lab) for p, lab in zip(pairs, labels, strict=True) if p.scenario == scenario and lab.winner is not None]
    kept.sort(key=lambda pl: (policies.index(pl[0].model), pl[0].query_row))
    return [record(p, lab) for p, lab in kept]


def win_table(pairs: Sequence[Pair], labels: Sequence[Label], scenarios: Sequence[str], policies: Sequence[str]) -> dict[str, dict[str, int]]:
    """{scenario: {policy: pairs the MoJ label gives the policy}}; every policy listed, 0 included."""
    table = {s: dict.fromkeys(policies, 0) for s in scenarios}
    for pair, label in zip(pairs, labels, strict=True):
        if label.winner == MODEL and pair.scenario in table:
            table[pair.scenario][pair.model] += 1
    return table


def write_benchmark(output_dir: Path, records_by_scenario: dict[str, list[dict]], table: dict[str, dict[str, int]], manifest: dict) -> None:
    """Scenario files and the win table first, ``benchmark.json`` last: its presence means complete."""
    for scenario, rows in records_by_scenario.items():
        atomic_write_text(output_dir / f"{scenario}.json", json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    atomic_write_text(output_dir / BUILT_GROUND_TRUTH_FILE, json.dumps(table, ensure_ascii=False, indent=2) + "\n")
    atomic_write_text(output_dir / BUILT_BENCHMARK_FILE, json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
