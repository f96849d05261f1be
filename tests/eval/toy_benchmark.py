"""A benchmark that lives outside cj2: ``eval.name=tests.eval.toy_benchmark:TOY``.

It is what a user writes for a set of their own (docs/architecture.md, "where does a benchmark
go"): rows of ``eval.data_file`` (JSONL) ``{"question", "answer_a", "answer_b", "better", "kind"}``
with ``better`` one of A, B, tie; the judge answers MT-Bench style (``[[A]]``, ``[[B]]``, ``[[C]]`` = tie);
the score is ``agreement``, the share of rows whose verdict equals ``better`` (a verdict that does not
parse counts wrong), overall and per ``kind``.
"""

from __future__ import annotations

from cj2.eval.core.benchmark import Benchmark
from cj2.eval.core.files import EvalInputError, field_of, read_records
from cj2.eval.core.pairwise_metric import PairJudgment
from cj2.eval.core.predictions import read_predictions
from cj2.eval.core.result import EvalResult
from cj2.eval.judging.verdict_source import judged_label

VERDICT_FORMAT = "mtbench_pair"
PROMPT = "Which answer is better? Reply [[A]], [[B]] or [[C]] for a tie.\n\nQuestion: {question}\n\nA: {answer_a}\n\nB: {answer_b}"


def load_rows(eval_cfg) -> list[dict]:
    if not eval_cfg.data_file:
        raise EvalInputError("eval.data_file", "not set: point it at the toy rows")
    return [{name: field_of(record, name, eval_cfg.data_file, row) for name in ("question", "answer_a", "answer_b", "better", "kind")}
            for row, record in read_records(eval_cfg.data_file)]


def agreement(judgments: list[PairJudgment]) -> float:
    return 100.0 * sum(j.verdict == j.gold for j in judgments) / len(judgments) if judgments else 0.0


class Toy(Benchmark):
    name = "toy"

    def requests(self, eval_cfg) -> list[dict]:
        return [{"key": {"index": i}, "messages": [{"role": "user", "content": PROMPT.format(**row)}]} for i, row in enumerate(load_rows(eval_cfg))]

    def score(self, eval_cfg, predictions_path: str, parse) -> EvalResult:
        rows = load_rows(eval_cfg)
        predictions = read_predictions(predictions_path, with_scenario=False)
        judgments = []
        for i, row in enumerate(rows):
            prediction = predictions.get((i, False))
            judgments.append(PairJudgment(str(i), row["better"], judged_label(parse, VERDICT_FORMAT, prediction.text if prediction else None), group=row["kind"]))
        kinds = {kind: agreement([j for j in judgments if j.group == kind]) for kind in sorted({j.group for j in judgments})}
        overall = agreement(judgments)
        unparsed = sum(j.verdict is None for j in judgments)
        return EvalResult(
            benchmark=self.name,
            headline_name="agreement",
            headline=overall,
            metrics={"benchmark": self.name, "agreement": overall, "kinds": kinds},
            rows=[*({"kind": k, "agreement": v} for k, v in kinds.items()), {"kind": "all", "agreement": overall}],
            group_scores=kinds,
            judgments=judgments,
            unparsed=unparsed,
            total=len(judgments),
        )

    def protocol(self, eval_cfg) -> tuple[str, str]:
        return "toy", VERDICT_FORMAT


TOY = Toy()
