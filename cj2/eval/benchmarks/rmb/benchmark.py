"""RMB (Zhou-Zoey/RMB-Reward-Model-Benchmark): pairwise and Best-of-N sets, both goals.

``eval.data_file`` is one RMB JSON file, or ``eval.data_dir`` a folder searched recursively
for them (``RMB_dataset/``). Pairwise rows: ``conversation_input``, ``chosen``, ``reject``,
``pair_uid``, ``category_path``; Best-of-N rows: ``bon_best``, ``loser_list``, ``bon_uid``.
The goal (Helpfulness / Harmlessness) is the second part of ``category_path``. Each Best-of-N
row becomes one pair per loser. The better response is shown as Model A
(``eval.chosen_position=A``, as OpenCompass does) or as Model B.
"""

from __future__ import annotations

from pathlib import Path

from cj2.eval.benchmarks.rmb.metric import GOALS, rmb_scores
from cj2.eval.core.files import EvalInputError, field_of, read_json_list
from cj2.eval.core.pairwise_metric import pairwise_report
from cj2.eval.core.result import EvalResult
from cj2.eval.judging.official_parsers import OPENCOMPASS_CHOICE
from cj2.eval.judging.opencompass_prompts import opencompass_conversation
from cj2.eval.judging.pairwise import PairItem, PairwiseBenchmark, pairwise_result, protocol_notes, read_judgments
from cj2.eval.judging.verdict_source import ParseFn


def conversation_text(turns, path, row) -> str:
    if not isinstance(turns, list) or not turns:
        raise EvalInputError(path, "expected a non-empty list of turns", row=row, field="conversation_input")
    if len(turns) == 1:
        return field_of(turns[0], "content", path, row)
    return "\n\n".join(f"{field_of(t, 'role', path, row).capitalize()}: {field_of(t, 'content', path, row)}" for t in turns)


def _files(eval_cfg) -> list[Path]:
    if eval_cfg.data_file:
        return [Path(eval_cfg.data_file)]
    if eval_cfg.data_dir and Path(eval_cfg.data_dir).is_dir():
        files = sorted(Path(eval_cfg.data_dir).rglob("*.json"))
        if files:
            return files
        raise EvalInputError(eval_cfg.data_dir, "no RMB .json files found")
    raise EvalInputError("eval.data_file", "not set: point eval.data_file at an RMB file or eval.data_dir at RMB_dataset/")


def _pair(item_id, question, better, worse, chosen_position, group, bon_group="") -> PairItem:
    if chosen_position == "A":
        return PairItem(item_id, question, better, worse, "A", group, bon_group=bon_group)
    return PairItem(item_id, question, worse, better, "B", group, bon_group=bon_group)


def load_items(eval_cfg) -> list[PairItem]:
    if eval_cfg.chosen_position not in ("A", "B"):
        raise EvalInputError("eval.chosen_position", f"expected A or B, got {eval_cfg.chosen_position!r}")
    items: list[PairItem] = []
    for path in _files(eval_cfg):
        for row, record in enumerate(read_json_list(path)):
            category = field_of(record, "category_path", path, row)
            parts = category.split("/")
            if len(parts) < 2 or parts[1] not in ("Helpfulness", "Harmlessness"):
                raise EvalInputError(path, f"cannot read the goal from {category!r}", row=row, field="category_path")
            goal = parts[1]
            turns = record.get("conversation_input")
            question = conversation_text(turns, path, row)
            if eval_cfg.template == OPENCOMPASS_CHOICE:
                question = opencompass_conversation(turns)  # checked by conversation_text above
            if "bon_uid" in record:
                uid = str(record["bon_uid"])
                best = field_of(record, "bon_best.answer", path, row)
                losers = field_of(record, "loser_list", path, row, kind=list)
                for k, loser in enumerate(losers):
                    worse = field_of(loser, "answer", path, row)
                    items.append(_pair(f"bon/{uid}/{k}", question, best, worse, eval_cfg.chosen_position, goal, bon_group=uid))
            else:
                uid = str(field_of(record, "pair_uid", path, row))
                better, worse = field_of(record, "chosen.answer", path, row), field_of(record, "reject.answer", path, row)
                items.append(_pair(f"pair/{uid}", question, better, worse, eval_cfg.chosen_position, goal))
    return items[: eval_cfg.limit]


def evaluate(eval_cfg, predictions_path: str, parse: ParseFn) -> EvalResult:
    items = load_items(eval_cfg)
    judgments, missing = read_judgments(items, eval_cfg, predictions_path, parse)
    by_id = {item.id: item for item in items}
    original = [j for j in judgments if not j.swapped]
    rules = "opencompass" if eval_cfg.parser == "official" else "cj2"
    scores = rmb_scores([(j, by_id[j.item].group, by_id[j.item].bon_group) for j in original], rules)
    fallback, fallback_notes = protocol_notes(eval_cfg, predictions_path)
    report = pairwise_report(judgments)
    rows = [{"part": name, "items": part["items"], "accuracy": part["accuracy"]} for name, part in scores["parts"].items()]
    rows += [{"part": k, "items": "", "accuracy": scores[k]} for k in ("pair_average", "bon_average") if k in scores]
    rows.append({"part": "score", "items": len(original), "accuracy": scores["score"]})
    notes = [f"no {kind} items: the score is the {other} average alone" for kind, other, key in (("Best-of-N", "pairwise", "bon_average"), ("pairwise", "Best-of-N", "pair_average")) if key not in scores and scores["parts"]]
    if rules == "opencompass":
        absent = [f"{kind}_{goal}" for kind in ("pair", "bon") for goal in GOALS if f"{kind}_{goal}" not in scores["parts"]]
        notes.append("OpenCompass RMBEvaluator rules: unparsed pairs left out" + (f"; absent parts count 0 in the averages: {', '.join(absent)}" if absent else ""))
    notes += fallback_notes
    if "swap" in report:
        notes.append(f"swap consistency {report['swap']['consistency']:.2f}% over {report['swap']['items_in_both_orders']} pairs")
    return pairwise_result(
        "rmb", judgments, missing, report,
        headline_name="score",
        headline=scores["score"],
        metrics={"benchmark": "rmb", **scores, "missing": missing, **fallback, **report},
        rows=rows,
        group_scores={name: part["accuracy"] for name, part in scores["parts"].items()},
        notes=notes,
    )


class RMBBench(PairwiseBenchmark):
    name = "rmb"
    load_items = staticmethod(load_items)
    score = staticmethod(evaluate)

    def headline_numbers(self, metrics: dict) -> dict[str, float]:
        return {"score": metrics["score"], **{name: p["accuracy"] for name, p in metrics["parts"].items()}}


RMB = RMBBench()
