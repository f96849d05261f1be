"""What every pairwise benchmark shares: items, the prompts to run, verdicts per order, and the base object.

An item's A/B order as loaded is its ``original`` order; with ``eval.swap=true`` every item is
also judged with the responses exchanged (prediction lines with ``"swapped": true``), and the
verdict is mapped back to the original order before scoring. Prediction lines are matched to
items by ``index`` (the item's position in the loaded list).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cj2.eval.core.benchmark import Benchmark
from cj2.eval.core.files import EvalInputError
from cj2.eval.core.pairwise_metric import PairJudgment, pairwise_report, unswap
from cj2.eval.core.predictions import Prediction, read_predictions
from cj2.eval.core.result import EvalResult
from cj2.eval.judging.official_parsers import OPENCOMPASS_CHOICE, choice_marker_absent
from cj2.eval.judging.opencompass_prompts import choice_messages
from cj2.eval.judging.prompts import get_template, render
from cj2.eval.judging.styles import PLACEMENTS, styled_messages, styled_question
from cj2.eval.judging.verdict_source import ParseFn, judged_label


@dataclass(frozen=True)
class PairItem:
    id: str
    question: str
    response_a: str
    response_b: str
    gold: str  # "A" | "B" | "tie"
    group: str = ""  # subset / scenario / source family, for breakdowns
    bon_group: str = ""  # best-of-N group: the pairs of one question, 1 better vs k worse responses
    question_id: str = ""  # the question the pair comes from when several pairs share one ("": its own)
    # A reference judgment whose verdict is the gold label, per order (teacher-forced scoring,
    # cj2.eval.judging.teacher_forced); "": the verdict format's verdict-only answer.
    reference: str = ""
    reference_swapped: str = ""


def verdict_format_of(eval_cfg) -> str:
    """eval.verdict_format when set, else the verdict format eval.template asks for."""
    if eval_cfg.verdict_format:
        return eval_cfg.verdict_format
    if eval_cfg.template == OPENCOMPASS_CHOICE:
        return OPENCOMPASS_CHOICE
    try:
        return get_template(eval_cfg.template).verdict_format
    except ValueError as e:
        raise EvalInputError("eval.template", str(e)) from None


def prompt_renderer(eval_cfg):
    """(question, [response A, response B]) -> chat messages for eval.template."""
    if eval_cfg.template == OPENCOMPASS_CHOICE:
        return lambda question, responses: choice_messages(question, *responses)
    try:
        template = get_template(eval_cfg.template)
    except ValueError as e:
        raise EvalInputError("eval.template", str(e)) from None
    return lambda question, responses: render(template, question, responses)


def orders(eval_cfg) -> tuple[bool, ...]:
    """The presentation orders judged: the original one, and the swapped one with ``eval.swap``."""
    return (False, True) if eval_cfg.swap else (False,)


def shown_messages(item: PairItem, swapped: bool, messages, eval_cfg) -> list[dict]:
    """The prompt of one item in one order (``messages``: :func:`prompt_renderer`'s function), with
    the style requirement (``eval.style_suffix``) where ``eval.style_placement`` puts it."""
    responses = [item.response_b, item.response_a] if swapped else [item.response_a, item.response_b]
    in_question = eval_cfg.style_placement == "question"
    prompt = messages(styled_question(item.question, eval_cfg.style_suffix if in_question else None), responses)
    return prompt if in_question else styled_messages(prompt, eval_cfg.style_suffix)


def pair_requests(items: Sequence[PairItem], eval_cfg) -> list[dict]:
    if eval_cfg.style_placement not in PLACEMENTS:
        raise EvalInputError("eval.style_placement", f"{eval_cfg.style_placement!r} is not one of {', '.join(PLACEMENTS)}")
    messages = prompt_renderer(eval_cfg)
    return [{"key": {"index": index, "swapped": swapped}, "messages": shown_messages(item, swapped, messages, eval_cfg)}
            for index, item in enumerate(items) for swapped in orders(eval_cfg)]


def judge_items(items: Sequence[PairItem], predictions: Mapping[tuple, Prediction], parse: ParseFn, verdict_format: str, swap: bool) -> tuple[list[PairJudgment], int]:
    """One judgment per item and order; an absent prediction is an unparsed verdict (counted)."""
    swap = swap or any(key[-1] for key in predictions)
    judgments, missing = [], 0
    for index, item in enumerate(items):
        for swapped in (False, True) if swap else (False,):
            prediction = predictions.get((index, swapped))
            missing += prediction is None
            label = judged_label(parse, verdict_format, prediction.text if prediction else None)
            verdict = unswap(label) if swapped else label
            judgments.append(PairJudgment(item=item.id, gold=item.gold, verdict=verdict, swapped=swapped, group=item.group))
    return judgments, missing


def check_indices(items: Sequence[PairItem], predictions: Mapping[tuple, Prediction], path: str) -> None:
    for (index, _), p in predictions.items():
        if index >= len(items):
            raise EvalInputError(path, f"index {index} is past the last item ({len(items) - 1})", row=p.line, field="index", unit="line")


def read_judgments(items: Sequence[PairItem], eval_cfg, predictions_path: str, parse: ParseFn) -> tuple[list[PairJudgment], int]:
    predictions = read_predictions(predictions_path, with_scenario=False)
    check_indices(items, predictions, predictions_path)
    return judge_items(items, predictions, parse, verdict_format_of(eval_cfg), eval_cfg.swap)


def protocol_notes(eval_cfg, predictions_path: str) -> tuple[dict, list[str]]:
    """How many verdicts came from the published Choice rule's first-character fallback (official parser)."""
    if verdict_format_of(eval_cfg) != OPENCOMPASS_CHOICE or eval_cfg.parser != "official":
        return {}, []
    texts = [p.text for p in read_predictions(predictions_path, with_scenario=False).values()]
    fallback = sum(choice_marker_absent(t) for t in texts)
    notes = [f"{fallback} output(s) without a '\"Choice\": \"Model ' marker: OpenCompass's rule reads their first character as the choice (eval.parser=official)"] if fallback else []
    return {"choice_marker_absent": fallback}, notes


def accuracy_rows(report: dict, label: str = "group") -> list[dict]:
    """One row per group plus an "all" row: accuracy, and per order when both were judged."""
    def row(name: str, counts: dict) -> dict:
        return {label: name, "items": counts["judged"], "accuracy": counts["accuracy"], "unparsed": counts["unparsed"]}

    rows = [row(name, counts) for name, counts in report.get("groups", {}).items()]
    total = row("all", report["original"])
    if "swapped" in report:
        total["accuracy_swapped"] = report["swapped"]["accuracy"]
        total["consistency"] = report["swap"]["consistency"]
    return rows + [total]


def pairwise_result(benchmark: str, judgments: list[PairJudgment], missing: int, report: dict, **shown) -> EvalResult:
    """An :class:`EvalResult` whose counts (judged, unparsed, missing) come from the pairwise report;
    ``shown``: the headline, metrics, table rows, group scores and notes."""
    return EvalResult(benchmark=benchmark, judgments=judgments, unparsed=report["overall"]["unparsed"], missing=missing, total=report["overall"]["judged"], **shown)


def evaluate_pairwise(benchmark: str, items: Sequence[PairItem], eval_cfg, predictions_path: str, parse: ParseFn) -> EvalResult:
    """Plain pairwise accuracy (original order) with per-group rows, swap consistency and bias."""
    judgments, missing = read_judgments(items, eval_cfg, predictions_path, parse)
    report = pairwise_report(judgments)
    original = report["original"]
    notes = [f"{original['skipped_ties']} item(s) with a tie label are not scored"] if original["skipped_ties"] else []
    fallback, fallback_notes = protocol_notes(eval_cfg, predictions_path)
    return pairwise_result(
        benchmark, judgments, missing, report,
        headline_name="accuracy",
        headline=original["accuracy"],
        metrics={"benchmark": benchmark, "accuracy": original["accuracy"], "missing": missing, **fallback, **report},
        rows=accuracy_rows(report),
        group_scores={g: c["accuracy"] for g, c in report.get("groups", {}).items()} or {"all": original["accuracy"]},
        notes=notes + fallback_notes,
    )


class PairwiseBenchmark(Benchmark):
    """A benchmark of A/B pairs: a subclass says how its items load (``load_items``); the prompts
    (``eval.template``, ``eval.swap``, ``eval.style_suffix``) and plain accuracy are shared. Override
    ``score`` (and ``headline_numbers``) for a metric of your own."""

    def load_items(self, eval_cfg) -> list[PairItem]:
        raise NotImplementedError(f"{type(self).__name__} loads no items")

    def requests(self, eval_cfg) -> list[dict]:
        return pair_requests(self.load_items(eval_cfg), eval_cfg)

    def score(self, eval_cfg, predictions_path: str, parse: ParseFn) -> EvalResult:
        return evaluate_pairwise(self.name, self.load_items(eval_cfg), eval_cfg, predictions_path, parse)

    def protocol(self, eval_cfg) -> tuple[str, str]:
        return eval_cfg.template, verdict_format_of(eval_cfg)
