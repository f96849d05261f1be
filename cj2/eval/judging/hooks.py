"""Evaluation inside training: score the judge on a small validation set every K steps.

The training loop owns generation (it has the model in memory, maybe sharded); it passes a
``generate_fn`` that turns chat conversations into one greedy text each. Call::

    if cfg.train.eval_interval and step % cfg.train.eval_interval == 0:
        metrics = evaluate_pairwise(generate_fn, validation_examples, swap=True)
        tracker.log({f"val/{k}": v for k, v in metrics.items()}, step=step)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cj2.data.records import JudgeExample
from cj2.eval.core.pairwise_metric import PairJudgment, pairwise_report, unswap
from cj2.eval.judging.prompts import get_template, render
from cj2.eval.judging.verdict_source import ParseFn, default_parse, judged_label

GenerateFn = Callable[[list[list[dict]]], list[str]]


def evaluate_pairwise(
    generate_fn: GenerateFn,
    examples: Sequence[JudgeExample],
    template: str = "cj2_cot",
    swap: bool = False,
    parse: ParseFn | None = None,
) -> dict[str, float]:
    """Flat metrics of a pairwise judge on labelled examples (label "A" / "B"; "tie" is not scored).

    Keys: ``accuracy`` (unparsed counts wrong), ``accuracy_parsed``, ``unparsed`` (count),
    ``judged``, ``verdict_a_rate``; with ``swap``, ``accuracy_swapped`` and ``consistency``.
    """
    judge_template = get_template(template)
    if judge_template.mode != "pairwise":
        raise ValueError(f"template {template!r} is not a pairwise template")
    for e in examples:
        if len(e.responses) != 2:
            raise ValueError(f"example {e.id or e.question[:40]!r} has {len(e.responses)} responses; pairwise needs 2")
    parse = parse or default_parse()
    orders = (False, True) if swap else (False,)
    jobs = [(i, swapped) for i in range(len(examples)) for swapped in orders]
    messages = [render(judge_template, examples[i].question, examples[i].responses[::-1] if s else examples[i].responses) for i, s in jobs]
    texts = generate_fn(messages)
    if len(texts) != len(messages):
        raise ValueError(f"generate_fn returned {len(texts)} texts for {len(messages)} conversations")
    judgments = []
    for (i, swapped), text in zip(jobs, texts, strict=True):
        label = judged_label(parse, judge_template.verdict_format, text)
        judgments.append(PairJudgment(examples[i].id or str(i), examples[i].label, unswap(label) if swapped else label, swapped))
    report = pairwise_report(judgments)
    metrics = {
        "accuracy": report["original"]["accuracy"],
        "accuracy_parsed": report["original"]["accuracy_parsed"],
        "unparsed": float(report["overall"]["unparsed"]),
        "judged": float(report["overall"]["judged"]),
        "verdict_a_rate": report["position_bias"]["verdict_a_rate"],
    }
    if swap:
        metrics["accuracy_swapped"] = report["swapped"]["accuracy"]
        metrics["consistency"] = report["swap"]["consistency"]
    return metrics
