"""JudgeBench (ScalerLab/JudgeBench): pairwise accuracy against ``label`` "A>B" / "B>A".

Rows of ``eval.data_file`` (JSONL): ``question``, ``response_A``, ``response_B``, ``label``,
``pair_id``, ``source``. Responses are shown in the file's order; accuracy is broken down by
``source`` (mmlu-pro-*, livebench-*, livecodebench).
"""

from __future__ import annotations

from cj2.eval.core.files import EvalInputError, field_of, read_records
from cj2.eval.judging.pairwise import PairItem, PairwiseBenchmark

LABELS = {"A>B": "A", "B>A": "B"}


def load_items(eval_cfg) -> list[PairItem]:
    path = eval_cfg.data_file
    if not path:
        raise EvalInputError("eval.data_file", "not set: point it at a JudgeBench .jsonl file")
    items = []
    for row, record in read_records(path)[: eval_cfg.limit]:
        label = field_of(record, "label", path, row)
        if label not in LABELS:
            raise EvalInputError(path, f"expected one of {', '.join(LABELS)}, got {label!r}", row=row, field="label")
        items.append(
            PairItem(
                id=str(record.get("pair_id", row)),
                question=field_of(record, "question", path, row),
                response_a=field_of(record, "response_A", path, row),
                response_b=field_of(record, "response_B", path, row),
                gold=LABELS[label],
                group=str(record.get("source", "")).split("-")[0],
            )
        )
    return items


class JudgeBench(PairwiseBenchmark):
    name = "judgebench"
    load_items = staticmethod(load_items)


JUDGEBENCH = JudgeBench()
