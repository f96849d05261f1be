"""Critique-guided revision (CompassJudger-2, Table 5): does a judge's critique make a policy's answer better?

``python launch/revise.py eval.data_file=tasks.jsonl eval.policy_base_url=URL eval.policy_model=NAME
eval.engine=openai eval.base_url=URL eval.model=JUDGE`` runs four stages over every task:

1. **answer**: the policy answers the question (skipped for tasks that carry a ``response``);
2. **critique**: the judge critiques the answer with the ``cj2_critique`` prompt (the critique
   mode of ``launch/judge.py``);
3. **revise**: the policy sees its answer and the critique and writes a revised answer;
4. **score** before and after: against the gold ``answer`` where the task has one (GSM8K-style
   numeric answers: the number after ``####`` or else the last number in the text), otherwise by the
   judge's 1-10 rating (``mtbench_single``).

Each stage's outputs are stored as they complete (cj2.eval.judging.stored_judging, under
``{run_dir}/revision/``), so a killed run resumes. Writes ``{run_dir}/revision.json`` (or
``eval.output``) with accuracy / mean rating before and after, a ``.md`` table, and
``revision_items.jsonl`` with every answer, critique and revision.

Task lines (JSONL, ``eval.data_file``): ``question`` (required), ``answer`` (gold, optional; GSM8K's
``... #### 72`` works as is), ``response`` (an existing answer to revise, optional), ``id``.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

from omegaconf import open_dict, read_write

from cj2.eval.core.files import EvalInputError, iter_jsonl, stop_on_input_error
from cj2.eval.judging.prompts import get_template, render

CRITIQUE_TEMPLATE = "cj2_critique"
RATING_TEMPLATE = "mtbench_single"
REVISE_INSTRUCTION = "Here is a critique of your answer:\n\n{critique}\n\nRevise your answer using the critique where it is right. Write the complete revised answer."
NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


@dataclass(frozen=True)
class Task:
    id: str
    question: str
    gold: str | None
    response: str | None


def read_tasks(path: str | None, limit: int | None) -> list[Task]:
    if not path:
        raise EvalInputError("eval.data_file", "not set: point it at a JSONL file of tasks (question, optional answer, response, id)")
    tasks = []
    for line, obj in iter_jsonl(path, objects=True):
        for name in ("question", "answer", "response"):
            value = obj.get(name)
            if (name == "question" or value is not None) and not (isinstance(value, str | int | float) and not isinstance(value, bool) and str(value).strip()):
                raise EvalInputError(path, f"expected a non-empty string, got {value!r}", row=line, field=name, unit="line")
        gold = obj.get("answer")
        if gold is not None and numeric_answer(str(gold)) is None:
            raise EvalInputError(path, f"no number in the gold answer {str(gold)[-60:]!r}", row=line, field="answer", unit="line")
        tasks.append(Task(str(obj.get("id", line)), str(obj["question"]), None if gold is None else str(gold), obj.get("response")))
    return tasks[:limit]


def numeric_answer(text: str) -> float | None:
    """GSM8K's answer: the first number after the last ``####``, else the last number in the text."""
    if "####" in text:
        numbers = NUMBER.findall(text.rsplit("####", 1)[1])
        if numbers:
            return float(numbers[0].replace(",", ""))
    numbers = NUMBER.findall(text)
    return float(numbers[-1].replace(",", "")) if numbers else None


def is_correct(response: str, gold: str) -> bool:
    got = numeric_answer(response)
    return got is not None and abs(got - numeric_answer(gold)) < 1e-6


def revise_messages(task: Task, answer: str, critique: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": task.question}, {"role": "assistant", "content": answer}, {"role": "user", "content": REVISE_INSTRUCTION.format(critique=critique)}]


STAGES = ("answer", "critique", "revise", "rate")
STAGE_SEED_STRIDE = 1_000_003  # request i of stage k uses seed + k * stride + i: no two stages share a seed


def stage_cfg(eval_cfg, stage: str, policy: bool):
    """The eval config one stage runs with: its own store name and seeds, and the policy's engine for policy stages."""
    out = copy.deepcopy(eval_cfg)
    with read_write(out), open_dict(out):
        out.name = f"revision-{stage}"
        out.seed = eval_cfg.seed + STAGES.index(stage) * STAGE_SEED_STRIDE
        if policy:
            out.engine, out.model, out.base_url, out.base_url_file = eval_cfg.policy_engine, eval_cfg.policy_model, eval_cfg.policy_base_url, None
    return out


def run_stage(cfg, stage: str, messages: list[list[dict]], engine, policy: bool) -> list[str]:
    from cj2.eval.judging.stored_judging import judge_requests

    if not messages:
        return []
    requests = [{"key": {"index": i}, "messages": m} for i, m in enumerate(messages)]
    return judge_requests(requests, stage_cfg(cfg.eval, stage, policy), Path(cfg.run_dir) / "revision" / stage, engine)


def ratings(texts: list[str]) -> list[float | None]:
    from cj2.verdicts import parse

    out = []
    for text in texts:
        verdict = parse(RATING_TEMPLATE, text)
        out.append(float(verdict.label) if verdict.ok else None)
    return out


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarize(items: list[dict]) -> dict:
    """Accuracy before/after on gold tasks, mean judge rating before/after on the others."""
    gold = [i for i in items if i["gold"] is not None]
    rated = [i for i in items if i["gold"] is None]
    report: dict = {"tasks": len(items)}
    if gold:
        before, after = sum(i["correct_before"] for i in gold), sum(i["correct_after"] for i in gold)
        report["gold"] = {
            "tasks": len(gold), "accuracy_before": 100 * before / len(gold), "accuracy_after": 100 * after / len(gold),
            "fixed": sum(not i["correct_before"] and i["correct_after"] for i in gold), "broken": sum(i["correct_before"] and not i["correct_after"] for i in gold),
        }  # fmt: skip
    if rated:
        both = [i for i in rated if i["rating_before"] is not None and i["rating_after"] is not None]
        report["judged"] = {
            "tasks": len(rated), "rated_both": len(both),
            "unparsed_before": sum(i["rating_before"] is None for i in rated), "unparsed_after": sum(i["rating_after"] is None for i in rated),
            "mean_rating_before": mean([i["rating_before"] for i in both]), "mean_rating_after": mean([i["rating_after"] for i in both]),
            "improved": sum(i["rating_after"] > i["rating_before"] for i in both), "worsened": sum(i["rating_after"] < i["rating_before"] for i in both),
        }  # fmt: skip
    return report


def run_revision(cfg, policy=None, judge=None) -> tuple[dict, list[dict]]:
    """All four stages; ``policy`` and ``judge`` are engine factories (built lazily from the config by default)."""
    from cj2.eval.judging.stored_judging import LazyJudge

    e = cfg.eval
    if not e.policy_model:
        raise EvalInputError("eval.policy_model", "not set: the policy model that answers and revises (served name for policy_engine=openai)")
    if e.policy_engine == "openai" and not e.policy_base_url:
        raise EvalInputError("eval.policy_base_url", "not set: the policy's OpenAI-compatible server, e.g. http://host:8000/v1")
    if not e.model:
        raise EvalInputError("eval.model", "not set: the judge that writes critiques (and ratings where a task has no gold answer)")
    tasks = read_tasks(e.data_file, e.limit)
    owned = []
    if policy is None:
        policy = LazyJudge(stage_cfg(e, "answer", policy=True))
        owned.append(policy)
    if judge is None:
        judge = LazyJudge(e)
        owned.append(judge)
    try:
        fresh = [t for t in tasks if t.response is None]
        generated = iter(run_stage(cfg, "answer", [[{"role": "user", "content": t.question}] for t in fresh], policy, policy=True))
        answers = [t.response if t.response is not None else next(generated) for t in tasks]
        critique = get_template(CRITIQUE_TEMPLATE)
        critiques = run_stage(cfg, "critique", [render(critique, t.question, [a]) for t, a in zip(tasks, answers, strict=True)], judge, policy=False)
        revised = run_stage(cfg, "revise", [revise_messages(t, a, c) for t, a, c in zip(tasks, answers, critiques, strict=True)], policy, policy=True)
        rate = [i for i, t in enumerate(tasks) if t.gold is None]
        rating = get_template(RATING_TEMPLATE)
        rated = run_stage(cfg, "rate", [render(rating, tasks[i].question, [texts[i]]) for texts in (answers, revised) for i in rate], judge, policy=False)
    finally:
        for factory in owned:
            factory.close()
    before, after = ratings(rated[: len(rate)]), ratings(rated[len(rate) :])
    rating_of = {i: (b, a) for i, b, a in zip(rate, before, after, strict=True)}
    items = []
    for i, (t, a, c, r) in enumerate(zip(tasks, answers, critiques, revised, strict=True)):
        item = {"id": t.id, "question": t.question, "gold": t.gold, "answer": a, "critique": c, "revised": r}
        if t.gold is not None:
            item.update(correct_before=is_correct(a, t.gold), correct_after=is_correct(r, t.gold))
        else:
            item.update(rating_before=rating_of[i][0], rating_after=rating_of[i][1])
        items.append(item)
    report = {"policy": e.policy_model, "judge": e.model, "critique_template": CRITIQUE_TEMPLATE, "rating_template": RATING_TEMPLATE, **summarize(items)}
    return report, items


def markdown(report: dict) -> str:
    from cj2.eval.reporting.report import markdown_table

    rows = []
    if "gold" in report:
        g = report["gold"]
        rows.append({"scored by": "gold answer", "tasks": g["tasks"], "measure": "accuracy %", "before": g["accuracy_before"], "after": g["accuracy_after"], "better": g["fixed"], "worse": g["broken"]})
    if "judged" in report:
        j = report["judged"]
        rows.append({"scored by": f"judge ({report['rating_template']})", "tasks": j["tasks"], "measure": "mean rating 1-10", "before": j["mean_rating_before"], "after": j["mean_rating_after"], "better": j["improved"], "worse": j["worsened"]})
    head = f"# Critique-guided revision\n\npolicy {report['policy']}, judge {report['judge']} (critiques: {report['critique_template']})\n\n"
    return head + markdown_table(rows)


def run(cfg) -> dict:
    """``launch/revise.py`` lands here."""
    from cj2.utils.atomic import atomic_write_text

    with stop_on_input_error("revise"):
        report, items = run_revision(cfg)
    output = Path(cfg.eval.output or Path(cfg.run_dir) / "revision.json")
    atomic_write_text(output, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(output.with_name(f"{output.stem}_items.jsonl"), "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items))
    atomic_write_text(Path(cfg.eval.report_dir or output.parent) / f"{output.stem}.md", markdown(report))
    print(markdown(report))
    print(f"revision report written to {output}")
    return report
