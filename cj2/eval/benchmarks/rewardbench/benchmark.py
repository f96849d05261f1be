"""RewardBench (allenai/reward-bench, filtered split): chosen vs rejected, section-weighted.

Rows of ``eval.data_file`` (.json list or .jsonl, e.g. the HF dataset exported with
``to_json``): ``prompt``, ``chosen``, ``rejected``, ``subset`` (and ``id``). The chosen response is
shown as Model A (``eval.chosen_position=A``, as OpenCompass does) or B. Subsets outside the four
sections are reported but not scored.
"""

from __future__ import annotations

from collections import Counter

from cj2.eval.benchmarks.rewardbench.metric import OFFICIAL_COUNTS, SECTIONS, rewardbench_score
from cj2.eval.core.files import EvalInputError, field_of, read_records
from cj2.eval.core.pairwise_metric import pairwise_report
from cj2.eval.core.result import EvalResult
from cj2.eval.judging.pairwise import PairItem, PairwiseBenchmark, pairwise_result, protocol_notes, read_judgments
from cj2.eval.judging.verdict_source import ParseFn

KNOWN_SUBSETS = {s for subsets in SECTIONS.values() for s in subsets}


def chosen_side(record, eval_cfg, path, row) -> str:
    """Where the chosen response is shown: a row's own ``winner`` (OpenCompass's judgeeval files), else eval.chosen_position."""
    if "winner" not in record:
        return eval_cfg.chosen_position
    if record["winner"] not in ("A", "B"):
        raise EvalInputError(path, f"expected 'A' or 'B', got {record['winner']!r}", row=row, field="winner")
    return record["winner"]


def load_items(eval_cfg) -> list[PairItem]:
    path = eval_cfg.data_file
    if not path:
        raise EvalInputError("eval.data_file", "not set: point it at RewardBench's filtered split as .json/.jsonl")
    if eval_cfg.chosen_position not in ("A", "B"):
        raise EvalInputError("eval.chosen_position", f"expected A or B, got {eval_cfg.chosen_position!r}")
    items = []
    for row, record in read_records(path)[: eval_cfg.limit]:
        chosen, rejected = field_of(record, "chosen", path, row), field_of(record, "rejected", path, row)
        a, b, gold = (chosen, rejected, "A") if chosen_side(record, eval_cfg, path, row) == "A" else (rejected, chosen, "B")
        items.append(PairItem(str(record.get("id", row)), field_of(record, "prompt", path, row), a, b, gold, field_of(record, "subset", path, row)))
    return items


def evaluate(eval_cfg, predictions_path: str, parse: ParseFn) -> EvalResult:
    if eval_cfg.rewardbench_weights not in ("official", "observed"):
        raise EvalInputError("eval.rewardbench_weights", f"expected official or observed, got {eval_cfg.rewardbench_weights!r}")
    items = load_items(eval_cfg)
    judgments, missing = read_judgments(items, eval_cfg, predictions_path, parse)
    report = pairwise_report(judgments)
    subset_accuracy = {g: c["accuracy"] for g, c in report.get("groups", {}).items()}
    weights = OFFICIAL_COUNTS if eval_cfg.rewardbench_weights == "official" else Counter(item.group for item in items)
    scores = rewardbench_score({s: a for s, a in subset_accuracy.items() if s in KNOWN_SUBSETS}, weights)
    unknown = sorted(set(subset_accuracy) - KNOWN_SUBSETS)
    notes = [f"subsets outside the four sections, not scored: {', '.join(unknown)}"] if unknown else []
    absent = [s for s in SECTIONS if s not in scores["sections"]]
    if absent:
        notes.append(f"section(s) without data, left out of the mean: {', '.join(absent)}")
    fallback, fallback_notes = protocol_notes(eval_cfg, predictions_path)
    notes += fallback_notes
    rows = [{"section": name, "accuracy": value} for name, value in scores["sections"].items()]
    rows.append({"section": "score", "accuracy": scores["score"]})
    return pairwise_result(
        "rewardbench", judgments, missing, report,
        headline_name="score",
        headline=scores["score"],
        metrics={"benchmark": "rewardbench", "weights": eval_cfg.rewardbench_weights, **scores, "subsets": subset_accuracy, "missing": missing, **fallback, **report},
        rows=rows,
        group_scores=dict(scores["sections"]),
        notes=notes,
    )


class RewardBench(PairwiseBenchmark):
    name = "rewardbench"
    load_items = staticmethod(load_items)
    score = staticmethod(evaluate)

    def headline_numbers(self, metrics: dict) -> dict[str, float]:
        return {"score": metrics["score"], **metrics["sections"]}


REWARDBENCH = RewardBench()
