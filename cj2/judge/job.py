"""``python launch/judge.py``: use a judge on requests from a JSONL file or stdin; JSONL out.

A request line is a :class:`cj2.data.records.JudgeExample` dict: ``question``, ``responses``
(two for a pairwise verdict, one for a pointwise score or a critique), optional ``id``,
``mode`` (pairwise | pointwise | critique) and ``template``. Without ``mode``, two responses
mean pairwise and one response means ``eval.mode`` (pointwise when that is pairwise). Without
``template``, ``eval.template`` is used when it fits the mode, else the mode's default.

An answer line holds the request ``id``, ``mode``, ``template``, the raw ``prediction`` and the
parsed ``verdict`` (``null`` with ``parsed: false`` and the parser's ``reason`` when the judge
stated none; critiques have no verdict). With ``eval.swap=true`` a pairwise request is also
judged with the responses exchanged: ``verdict_swapped`` (mapped back to the request's order)
and ``consistent`` are added.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO

from cj2.eval.core.files import EvalInputError, line_error, stop_on_input_error
from cj2.eval.core.pairwise_metric import unswap
from cj2.eval.judging.prompts import DEFAULT_FOR_MODE, JudgeTemplate, get_template, render
from cj2.eval.judging.verdict_source import ParseFn
from cj2.utils.jsonl import numbered_rows

MODES = ("pairwise", "pointwise", "critique")


@dataclass(frozen=True)
class JudgeRequest:
    id: str
    mode: str
    template: JudgeTemplate
    question: str
    responses: list[str]


def parse_request(obj, default_mode: str, default_template: str, source: str, line: int) -> JudgeRequest:
    def bad(field: str, message: str) -> EvalInputError:
        return EvalInputError(source, message, row=line, field=field, unit="line")

    if not isinstance(obj, dict):
        raise EvalInputError(source, f"expected a JSON object, got {type(obj).__name__}", row=line, unit="line")
    question = obj.get("question")
    if not isinstance(question, str):
        raise bad("question", "missing or not a string")
    responses = obj.get("responses")
    if not isinstance(responses, list) or not all(isinstance(r, str) for r in responses) or len(responses) not in (1, 2):
        raise bad("responses", "expected a list of one or two strings")
    mode = obj.get("mode") or ("pairwise" if len(responses) == 2 else (default_mode if default_mode != "pairwise" else "pointwise"))
    if mode not in MODES:
        raise bad("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    if (mode == "pairwise") != (len(responses) == 2):
        raise bad("responses", f"mode {mode} needs {2 if mode == 'pairwise' else 1} response(s), got {len(responses)}")
    name = obj.get("template") or (default_template if get_template(default_template).mode == mode else DEFAULT_FOR_MODE[mode])
    try:
        template = get_template(name)
    except ValueError as e:
        raise bad("template", str(e)) from None
    if template.mode != mode:
        raise bad("template", f"template {name!r} is for {template.mode}, not {mode}")
    return JudgeRequest(str(obj.get("id", line)), mode, template, question, responses)


def read_requests(stream: IO[str], eval_cfg, source: str) -> list[JudgeRequest]:
    return [parse_request(obj, eval_cfg.mode, eval_cfg.template, source, line) for line, obj in numbered_rows(stream, source, error=line_error)]


def _verdict(parse: ParseFn, template: JudgeTemplate, text: str) -> tuple[str | None, bool, str]:
    if template.verdict_format is None:
        return None, True, ""
    v = parse(template.verdict_format, text)
    return (v.label if v.ok else None), bool(v.ok), v.reason


def answers(requests: list[JudgeRequest], texts: list[str], swapped_texts: list[str | None] | None, parse: ParseFn) -> Iterable[dict]:
    for i, (request, text) in enumerate(zip(requests, texts, strict=True)):
        label, ok, reason = _verdict(parse, request.template, text)
        answer = {"id": request.id, "mode": request.mode, "template": request.template.name, "prediction": text}
        if request.template.verdict_format is not None:
            answer.update(verdict=label, parsed=ok, reason=reason)
        if swapped_texts is not None and swapped_texts[i] is not None:
            swapped_label, _, _ = _verdict(parse, request.template, swapped_texts[i])
            answer.update(prediction_swapped=swapped_texts[i], verdict_swapped=unswap(swapped_label), consistent=label is not None and label == unswap(swapped_label))
        yield answer


def judge(engine, requests: list[JudgeRequest], eval_cfg, parse: ParseFn) -> list[dict]:
    """Every request judged once (and pairwise ones again swapped, when eval.swap is set)."""
    from cj2.eval.judging.inference import generate_texts

    messages = [render(r.template, r.question, r.responses) for r in requests]
    texts = generate_texts(engine, messages, eval_cfg, description="judging")
    swapped_texts = None
    if eval_cfg.swap:
        pairwise = [i for i, r in enumerate(requests) if r.mode == "pairwise"]
        flipped = generate_texts(engine, [render(requests[i].template, requests[i].question, requests[i].responses[::-1]) for i in pairwise], eval_cfg, description="judging swapped")
        swapped_texts = [None] * len(requests)
        for i, text in zip(pairwise, flipped, strict=True):
            swapped_texts[i] = text
    return list(answers(requests, texts, swapped_texts, parse))


def run(cfg):
    from cj2.eval.judging.inference import build_judge
    from cj2.eval.judging.verdict_source import default_parse

    e = cfg.eval
    with stop_on_input_error("judge", FileNotFoundError):
        if not e.input:
            raise EvalInputError("eval.input", "not set: give a JSONL file of requests, or - for stdin")
        if e.input == "-":
            requests = read_requests(sys.stdin, e, "<stdin>")
        else:
            with open(e.input, encoding="utf-8") as f:
                requests = read_requests(f, e, e.input)
    engine = build_judge(e)
    try:
        results = judge(engine, requests, e, default_parse())
    finally:
        engine.close()
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results)
    if e.output:
        from cj2.utils.atomic import atomic_write_text

        atomic_write_text(e.output, text)
    else:
        sys.stdout.write(text)
    with_verdict = [r for r in results if "parsed" in r]
    unparsed = sum(not r["parsed"] for r in with_verdict)
    summary = f"judged {len(results)} request(s); verdicts parsed {len(with_verdict) - unparsed}/{len(with_verdict)}"
    if e.swap:
        pairs = [r for r in results if "consistent" in r]
        summary += f"; swap-consistent {sum(r['consistent'] for r in pairs)}/{len(pairs)}"
    print(summary + (f"; written to {e.output}" if e.output else ""), file=sys.stderr)
    return results
