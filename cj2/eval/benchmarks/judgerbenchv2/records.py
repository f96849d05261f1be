"""JudgerBenchV2: the documented record format, the published A/B positions, and scoring.

``DIR/{scenario}.json`` holds a JSON list of records::

    {"prompt": str,
     "gold": {"category": str, "lan": "cn" | "en", "r1_gt": <winning model name>},
     "base_model_response": {"model_name": str, "response": str},
     "models_response": {"model_name": str, "response": str}}

Record ``i`` is shown to the judge with the base model as Model A when the published position
list (:mod:`cj2.eval.benchmarks.judgerbenchv2.positions`) has 0 at ``i``, as Model B when it has 1. A saved prediction
is matched to its record by ``(scenario, index)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cj2.eval.benchmarks.judgerbenchv2.metric import BASE, MODEL, PairOutcome, ScenarioScore, score_scenario, summarize
from cj2.eval.benchmarks.judgerbenchv2.positions import BASE_IS_A, judgerbench_positions
from cj2.eval.benchmarks.judgerbenchv2.table import CATEGORY_TO_SCENARIO, GROUND_TRUTH_WINS, SCENARIOS
from cj2.eval.core.files import EvalInputError, field_of, read_json_list
from cj2.eval.core.predictions import Prediction
from cj2.eval.judging.verdict_source import ParseFn, judged_label

VERDICT_FORMAT = {"en": "judgerbench_en", "cn": "judgerbench_cn"}


@dataclass(frozen=True)
class JudgerBenchRecord:
    scenario: str
    index: int
    prompt: str
    category: str
    lan: str
    winner: str  # gold.r1_gt
    base_model: str
    base_response: str
    model: str
    model_response: str
    base_is_a: bool

    @property
    def model_a(self) -> str:
        return self.base_model if self.base_is_a else self.model

    @property
    def response_a(self) -> str:
        return self.base_response if self.base_is_a else self.model_response

    @property
    def response_b(self) -> str:
        return self.model_response if self.base_is_a else self.base_response

    @property
    def gold_label(self) -> str:
        """"A" or "B": the side holding the ground-truth winner in the published position."""
        return "A" if self.winner == self.model_a else "B"


def load_scenario(path: str | Path, scenario: str) -> list[JudgerBenchRecord]:
    rows = read_json_list(path)
    try:
        positions = judgerbench_positions(len(rows))
    except ValueError as e:
        raise EvalInputError(path, str(e)) from None
    records = []
    base_names = set()
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise EvalInputError(path, f"expected an object, got {type(row).__name__}", row=i)
        category = field_of(row, "gold.category", path, i)
        if CATEGORY_TO_SCENARIO.get(category, category) != scenario:
            raise EvalInputError(path, f"category {category!r} does not belong to scenario {scenario!r}", row=i, field="gold.category")
        lan = field_of(row, "gold.lan", path, i)
        if lan not in VERDICT_FORMAT:
            raise EvalInputError(path, f"expected 'cn' or 'en', got {lan!r}", row=i, field="gold.lan")
        base = field_of(row, "base_model_response.model_name", path, i)
        model = field_of(row, "models_response.model_name", path, i)
        winner = field_of(row, "gold.r1_gt", path, i)
        if winner not in (base, model):
            raise EvalInputError(path, f"{winner!r} is neither the base model {base!r} nor the compared model {model!r}", row=i, field="gold.r1_gt")
        if model == base:
            raise EvalInputError(path, f"the compared model is the base model {base!r}", row=i, field="models_response.model_name")
        base_names.add(base)
        if len(base_names) > 1:
            raise EvalInputError(path, f"base models differ within the scenario: {sorted(base_names)}", row=i, field="base_model_response.model_name")
        records.append(
            JudgerBenchRecord(
                scenario=scenario,
                index=i,
                prompt=field_of(row, "prompt", path, i),
                category=category,
                lan=lan,
                winner=winner,
                base_model=base,
                base_response=field_of(row, "base_model_response.response", path, i),
                model=model,
                model_response=field_of(row, "models_response.response", path, i),
                base_is_a=positions[i] == BASE_IS_A,
            )
        )
    return records


# Written by launch/build_bench.py beside its scenario files (cj2.benchmark.records).
BUILT_BENCHMARK_FILE = "benchmark.json"  # {"scenarios": [...], "base_model": ..., ...}
BUILT_GROUND_TRUTH_FILE = "ground_truth.json"  # {scenario: {model: wins}} from the Mixture-of-Judges labels


def benchmark_scenarios(data_dir: str | Path) -> tuple[str, ...]:
    """The scenarios a built benchmark lists in ``benchmark.json``; the published ten otherwise."""
    path = Path(data_dir) / BUILT_BENCHMARK_FILE
    if not path.is_file():
        return SCENARIOS
    try:
        scenarios = json.loads(path.read_text(encoding="utf-8")).get("scenarios")
    except (json.JSONDecodeError, AttributeError):
        raise EvalInputError(path, "expected a JSON object with a 'scenarios' list") from None
    if not isinstance(scenarios, list) or not scenarios or not all(isinstance(s, str) and s for s in scenarios):
        raise EvalInputError(path, f"expected a non-empty list of scenario names, got {scenarios!r}", field="scenarios")
    return tuple(scenarios)


def load_benchmark(data_dir: str | Path, scenarios: Sequence[str] = SCENARIOS) -> dict[str, list[JudgerBenchRecord]]:
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise EvalInputError(data_dir, "JudgerBenchV2 data directory not found")
    missing = [s for s in scenarios if not (data_dir / f"{s}.json").is_file()]
    if missing:
        raise EvalInputError(data_dir, f"missing scenario file(s): {', '.join(s + '.json' for s in missing)}")
    return {s: load_scenario(data_dir / f"{s}.json", s) for s in scenarios}


def load_ground_truth(path: str | Path | None) -> dict[str, dict[str, int]]:
    """The published table, or a JSON file {scenario: {model: wins}} given by eval.ground_truth."""
    if path is None:
        return GROUND_TRUTH_WINS
    path = Path(path)
    if not path.is_file():
        raise EvalInputError(path, "ground-truth table not found")
    table = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(table, dict):
        raise EvalInputError(path, "expected an object {scenario: {model: wins}}")
    for scenario, wins in table.items():
        if not isinstance(wins, dict) or not wins:
            raise EvalInputError(path, "expected a non-empty object {model: wins}", field=scenario)
        for model, count in wins.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise EvalInputError(path, f"expected a non-negative integer, got {count!r}", field=f"{scenario}.{model}")
    return table


def resolve_ground_truth(path: str | Path | None, data_dir: str | Path | None) -> tuple[dict[str, dict[str, int]], Path | None]:
    """``eval.ground_truth`` when set; else the table a build wrote into ``data_dir``; else the published one.

    The second value is the data dir's table when that one was taken (the report says so), else None.
    """
    if path is None and data_dir is not None:
        built = Path(data_dir) / BUILT_GROUND_TRUTH_FILE
        if built.is_file():
            return load_ground_truth(built), built
    return load_ground_truth(path), None


def judged_side(record: JudgerBenchRecord, label: str | None) -> str | None:
    """Map a parsed letter to MODEL / BASE; another letter stays as it is (parsed, names neither)."""
    if label is None:
        return None
    if label not in ("A", "B"):
        return label
    picked_a = label == "A"
    return BASE if picked_a == record.base_is_a else MODEL


@dataclass(frozen=True)
class JudgedRecord:
    record: JudgerBenchRecord
    label: str | None  # the parsed letter, None if unparsed or missing
    missing: bool  # no prediction line for this record


def judge_records(records: Sequence[JudgerBenchRecord], predictions: Mapping[tuple, Prediction], parse: ParseFn, swapped: bool = False) -> list[JudgedRecord]:
    out = []
    for r in records:
        prediction = predictions.get((r.scenario, r.index, swapped))
        text = prediction.text if prediction is not None else None
        out.append(JudgedRecord(r, judged_label(parse, VERDICT_FORMAT[r.lan], text), prediction is None))
    return out


def outcomes(judged: Sequence[JudgedRecord]) -> list[PairOutcome]:
    return [PairOutcome(j.record.model, BASE if j.record.winner == j.record.base_model else MODEL, judged_side(j.record, j.label)) for j in judged]


def check_prediction_keys(benchmark: Mapping[str, Sequence[JudgerBenchRecord]], predictions: Mapping[tuple, Prediction], path: str | Path) -> None:
    """Every prediction must name a record that exists: a typo must not vanish as 'missing'."""
    for (scenario, index, _), p in predictions.items():
        if scenario not in benchmark:
            raise EvalInputError(path, f"unknown scenario {scenario!r} (known: {', '.join(benchmark)})", row=p.line, field="scenario", unit="line")
        if index >= len(benchmark[scenario]):
            raise EvalInputError(path, f"index {index} is past the last record of {scenario}.json ({len(benchmark[scenario]) - 1})", row=p.line, field="index", unit="line")


def by_language(judged: Mapping[str, Sequence[JudgedRecord]]) -> dict[str, dict]:
    """Accuracy per record language (``gold.lan``): per scenario over its records of that language whose
    verdict parsed (0 when none did), then the mean over the scenarios that have such records, as the benchmark's own
    accuracy is the mean over scenarios. Half of JudgerBenchV2 is Chinese: a judge trained on English
    data shows it here. The rank and score terms need a ground truth per language, which is not published."""
    out = {}
    for lan in sorted({j.record.lan for records in judged.values() for j in records}):
        per_scenario, total, parsed = [], 0, 0
        for records in judged.values():
            mine = [o for j, o in zip(records, outcomes(records), strict=True) if j.record.lan == lan]
            read = [o for o in mine if o.judged is not None]
            total, parsed = total + len(mine), parsed + len(read)
            if mine:  # nothing parsed: 0, as in a scenario's own accuracy
                per_scenario.append(100.0 * sum(o.judged == o.gold for o in read) / len(read) if read else 0.0)
        out[lan] = {"accuracy": sum(per_scenario) / len(per_scenario) if per_scenario else 0.0, "total": total, "parsed": parsed, "unparsed": total - parsed}
    return out


@dataclass
class JudgerBenchResult:
    scenarios: list[ScenarioScore]
    summary: dict
    missing: dict[str, int]  # records without a prediction, per scenario
    judged: dict[str, list[JudgedRecord]]

    def to_dict(self) -> dict:
        per_scenario = {}
        for s in self.scenarios:
            row = s.to_dict()
            row["missing"] = self.missing[s.scenario]
            per_scenario[s.scenario] = row
        return {"benchmark": "judgerbenchv2", "overall": self.summary, "scenarios": per_scenario, "by_language": by_language(self.judged)}


def flipped(benchmark: Mapping[str, Sequence[JudgerBenchRecord]]) -> dict[str, list[JudgerBenchRecord]]:
    """The same records with A and B exchanged: the order a swap-consistency run judges second."""
    return {s: [replace(r, base_is_a=not r.base_is_a) for r in records] for s, records in benchmark.items()}


def score_benchmark(
    benchmark: Mapping[str, Sequence[JudgerBenchRecord]],
    predictions: Mapping[tuple, Prediction],
    ground_truth: Mapping[str, Mapping[str, int]],
    parse: ParseFn,
    swapped: bool = False,
) -> JudgerBenchResult:
    """Scores from the predictions of one order: the published one, or (``swapped``) the flipped one."""
    scores, missing, judged_by_scenario = [], {}, {}
    for scenario, records in benchmark.items():
        if scenario not in ground_truth:
            raise ValueError(f"the ground-truth table has no column for scenario {scenario!r}")
        judged = judge_records(records, predictions, parse, swapped)
        judged_by_scenario[scenario] = judged
        missing[scenario] = sum(j.missing for j in judged)
        scores.append(score_scenario(scenario, outcomes(judged), ground_truth[scenario]))
    summary = summarize(scores)
    summary["missing"] = sum(missing.values())
    return JudgerBenchResult(scores, summary, missing, judged_by_scenario)
