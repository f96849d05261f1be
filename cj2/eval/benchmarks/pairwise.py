"""Pairwise sets with human labels (PandaLM, LLMBar, ...) through a field mapping in the config.

``eval.fields`` maps the record fields to source columns: ``question``, ``response_a``,
``response_b``, ``label`` (and optionally ``id``, ``group``: a breakdown such as the scenario;
``bon_group``: the best-of-N group of the pair, 1 better vs k worse responses of one question;
``question_id``: the question several pairs share; ``reference`` / ``reference_swapped``: a reference
judgment per order for teacher-forced scoring). A comma-separated ``question``
joins several columns with a blank line (PandaLM: ``instruction,input``; empty parts are left
out). A comma-separated ``label`` takes the majority of several annotators after mapping each
with ``eval.label_map``; no strict majority is a tie. Tie-labelled items are not scored.
"""

from __future__ import annotations

from collections import Counter

from cj2.eval.core.files import EvalInputError, read_records
from cj2.eval.core.pairwise_metric import tie_report
from cj2.eval.judging.pairwise import PairItem, PairwiseBenchmark, evaluate_pairwise
from cj2.eval.judging.verdict_source import ParseFn

REQUIRED = ("question", "response_a", "response_b", "label")
# Optional columns read as text into the PairItem field of the same name ("" when not mapped).
OPTIONAL_TEXT = ("group", "bon_group", "question_id", "reference", "reference_swapped")


def _column(record, column: str, path, row):
    if not isinstance(record, dict) or column not in record:
        raise EvalInputError(path, "missing", row=row, field=column)
    return record[column]


def _text(record, columns: str, path, row) -> str:
    parts = []
    for column in columns.split(","):
        value = _column(record, column.strip(), path, row)
        # Real files hold scalar answers too (PandaLM row 157 answers a yes/no task with a bare true).
        if isinstance(value, (bool, int, float)):
            value = str(value)
        if not isinstance(value, str):
            raise EvalInputError(path, f"expected text, got {type(value).__name__}", row=row, field=column.strip())
        if value.strip():
            parts.append(value)
    return "\n\n".join(parts)


def majority_label(votes: list[str]) -> str:
    counts = Counter(votes).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return "tie"
    return counts[0][0]


def _label(record, columns: str, label_map, path, row) -> str:
    votes = []
    for column in columns.split(","):
        raw = str(_column(record, column.strip(), path, row))
        label = label_map.get(raw, raw)
        if label not in ("A", "B", "tie"):
            raise EvalInputError(path, f"label {raw!r} maps to no A / B / tie (set eval.label_map)", row=row, field=column.strip())
        votes.append(label)
    return majority_label(votes)


def load_items(eval_cfg) -> list[PairItem]:
    path, fields = eval_cfg.data_file, dict(eval_cfg.fields)
    if not path:
        raise EvalInputError("eval.data_file", f"not set: point it at the {eval_cfg.name} file")
    absent = [f for f in REQUIRED if f not in fields]
    if absent:
        raise EvalInputError("eval.fields", f"no source column for {', '.join(absent)} (e.g. eval.fields.question=instruction)")
    unknown = sorted(set(fields) - {*REQUIRED, "id", *OPTIONAL_TEXT})
    if unknown:
        raise EvalInputError("eval.fields", f"unknown record field(s) {', '.join(unknown)}; known: {', '.join((*REQUIRED, 'id', *OPTIONAL_TEXT))}")
    # Keys as text: Hydra gives integer keys for label_map={0: A}, the data's labels are matched as text.
    label_map = {str(k): v for k, v in dict(eval_cfg.label_map).items()}
    items = []
    for row, record in read_records(path)[: eval_cfg.limit]:
        items.append(
            PairItem(
                id=str(record.get(fields["id"], row)) if "id" in fields else str(row),
                question=_text(record, fields["question"], path, row),
                response_a=_text(record, fields["response_a"], path, row),
                response_b=_text(record, fields["response_b"], path, row),
                gold=_label(record, fields["label"], label_map, path, row),
                **_optional_texts(record, fields, path, row),
            )
        )
    return items


def _optional_texts(record, fields: dict, path, row) -> dict[str, str]:
    """The optional columns: a group, best-of-N group or question id may be absent or null on a row
    (the pair is in none); a reference judgment, once mapped, is required on every row."""
    out = {}
    for name in OPTIONAL_TEXT:
        if name not in fields:
            continue
        if name in ("reference", "reference_swapped"):
            out[name] = _text(record, fields[name], path, row)
            if not out[name].strip():
                raise EvalInputError(path, "empty reference judgment (every item of a set with references needs one)", row=row, field=fields[name])
        elif isinstance(record, dict) and record.get(fields[name]) is not None:
            out[name] = _text(record, fields[name], path, row)
    return out


TIES = ("skip", "score")


def evaluate(eval_cfg, predictions_path: str, parse: ParseFn):
    if eval_cfg.ties not in TIES:
        raise EvalInputError("eval.ties", f"expected one of {', '.join(TIES)}, got {eval_cfg.ties!r}")
    result = evaluate_pairwise(eval_cfg.name, load_items(eval_cfg), eval_cfg, predictions_path, parse)
    judgments = result.judgments
    groups = sorted({j.group for j in judgments if j.group})
    ties = {"overall": tie_report(judgments), "groups": {g: tie_report([j for j in judgments if j.group == g]) for g in groups}}
    result.metrics["ties"] = ties
    if eval_cfg.ties == "score":
        overall = ties["overall"]
        headline = "agreement" if "agreement" in overall else "accuracy_with_ties"
        result.headline_name, result.headline = headline, overall[headline]
        result.metrics["accuracy"] = overall["accuracy_with_ties"]
        result.rows = [{"group": name, **report} for name, report in [*ties["groups"].items(), ("all", overall)]]
        result.group_scores = {g: r[headline] for g, r in ties["groups"].items()} or {"all": overall[headline]}
        result.notes = [n for n in result.notes if "tie label" not in n]
        result.notes.append(f"ties scored (eval.ties=score): {overall['tie_items']} tie-labelled item(s); a tie is right only when the judge says tie")
    return result


class ConfiguredPairwise(PairwiseBenchmark):
    """Every set described by a config alone; its results carry ``eval.name`` (pandalm, llmbar ...)."""

    name = "pairwise"
    load_items = staticmethod(load_items)
    score = staticmethod(evaluate)


PAIRWISE = ConfiguredPairwise()
