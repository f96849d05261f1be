"""Judge requests in, answers out: each request's jobs (one order or both), then one answer per request.

A request is what ``launch/judge.py`` reads (:func:`cj2.judge.job.parse_request`: ``question``,
``responses``, optional ``id``, ``mode``, ``template``), so a request line works the same in a
file and over HTTP. Options apply to a whole call:

- ``both_orders``: a pairwise request is also judged with the responses exchanged. Its answer
  holds both orders (``orders.AB``, ``orders.BA``, verdicts and probabilities mapped back to the
  request's order), ``consistent`` (both parsed and agree), and the combined verdict: the
  agreed label, or ``tie`` when the orders disagree (the judge prefers a position, not a
  response). The combined probabilities are the mean of the two orders'.
- ``ties``: false asks for A or B only. Constrained decoding and the probabilities leave the
  tie label out; a stated or combined tie is broken by the probabilities (the likelier side),
  else the answer has no verdict (``status`` unparsed, with the reason).
- ``constrained``: the judge writes only its verdict (one of the format's verdict texts), as a
  verdict-only template is answered (``cj2_short``); for judges served in process.
- ``timeout_s``: a judgment not finished by then is an error of that request (not of the others).

An answer's ``status`` is ``ok``, ``unparsed`` (no verdict: ``reason`` says why) or ``error``
(the backend failed on it: ``error`` says how); ``critique`` is the judge's whole text.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from cj2.eval.core.files import EvalInputError
from cj2.eval.core.pairwise_metric import TIE, unswap
from cj2.eval.judging.prompts import render
from cj2.judge.job import JudgeRequest, parse_request
from cj2.judge.jobs import Job, Judgment
from cj2.verdicts import get_format, parse

ORDERS = ("AB", "BA")


class RequestError(ValueError):
    """A request the judge cannot take; ``status`` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Options:
    both_orders: bool = False
    ties: bool = True
    constrained: bool = False
    timeout_s: float | None = None

    @classmethod
    def read(cls, body: dict[str, Any], defaults: Options, max_timeout_s: float | None = None) -> Options:
        """The options a request body sets (``both_orders``, ``ties``, ``constrained``, ``timeout_s``), the rest from ``defaults``."""
        values = {}
        for name in ("both_orders", "ties", "constrained"):
            value = body.get(name, getattr(defaults, name))
            if not isinstance(value, bool):
                raise RequestError(f"field {name!r}: expected true or false, got {value!r}")
            values[name] = value
        timeout = body.get("timeout_s", defaults.timeout_s)
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < math.inf):
            raise RequestError(f"field 'timeout_s': expected a positive number of seconds, got {timeout!r}")
        if timeout is not None and max_timeout_s is not None:
            timeout = min(float(timeout), max_timeout_s)
        return cls(**values, timeout_s=timeout)


def parse_items(items: Any, default_template: str, field: str = "requests") -> list[JudgeRequest]:
    """Requests from a list of request objects; a bad one raises :class:`RequestError` naming it and its field."""
    if not isinstance(items, list) or not items:
        raise RequestError(f"field {field!r}: expected a non-empty list of requests")
    requests = []
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise RequestError(f"{where}: expected a JSON object, got {type(item).__name__}")
        try:
            requests.append(parse_request({"id": str(i), **item}, "pointwise", default_template, where, None))
        except EvalInputError as e:
            raise RequestError(str(e)) from None
    return requests


def allowed_labels(verdict_format: str | None, ties: bool) -> tuple[str, ...] | None:
    if verdict_format is None:
        return None
    labels = get_format(verdict_format).labels
    return labels if ties else tuple(label for label in labels if label != TIE)


def plan(requests: list[JudgeRequest], options: Options) -> list[list[Job]]:
    """Each request's jobs: its order, then (``both_orders``, pairwise) the responses exchanged."""
    deadline = time.monotonic() + options.timeout_s if options.timeout_s is not None else None
    planned = []
    for request in requests:
        fmt = request.template.verdict_format
        orders = [request.responses, request.responses[::-1]] if options.both_orders and request.mode == "pairwise" else [request.responses]
        constrained = options.constrained and fmt is not None
        planned.append([Job(render(request.template, request.question, responses), fmt, allowed_labels(fmt, options.ties), constrained, deadline) for responses in orders])
    return planned


def _read(request: JudgeRequest, judgment: Judgment, swapped: bool) -> dict[str, Any]:
    """One order's judgment, in the request's order."""
    if judgment.error is not None:
        return {"status": "error", "error": judgment.error}
    read: dict[str, Any] = {"critique": judgment.text}
    fmt = request.template.verdict_format
    if fmt is None:
        return {"status": "ok", **read}
    verdict = parse(fmt, judgment.text)
    label = verdict.label if verdict.ok else None
    probabilities = judgment.probabilities
    if swapped:
        label = unswap(label)
        probabilities = {unswap(k): p for k, p in probabilities.items()} if probabilities is not None else None
    read.update(status="ok" if verdict.ok else "unparsed", verdict=label, parsed=bool(verdict.ok), reason=verdict.reason,
                probabilities=probabilities, probability_note=judgment.probability_note)
    if judgment.mass is not None:
        read["verdict_mass"] = judgment.mass
    return read


def _combined(first: dict, second: dict) -> dict[str, Any]:
    """Both orders of a pairwise request as one answer."""
    failed = [(order, read) for order, read in zip(ORDERS, (first, second), strict=True) if read["status"] != "ok"]
    combined: dict[str, Any] = {"critique": first.get("critique"), "orders": dict(zip(ORDERS, (first, second), strict=True))}
    combined["consistent"] = not failed and first["verdict"] == second["verdict"]
    if first.get("probabilities") is not None and second.get("probabilities") is not None:
        combined["probabilities"] = {k: (first["probabilities"][k] + second["probabilities"][k]) / 2 for k in first["probabilities"]}
        combined["probability_note"] = ""
    else:
        combined["probabilities"] = None
        combined["probability_note"] = "; ".join(f"order {o}: {r.get('probability_note') or r.get('error') or 'none'}" for o, r in zip(ORDERS, (first, second), strict=True) if r.get("probabilities") is None)
    errors = [f"order {order}: {read['error']}" for order, read in failed if read["status"] == "error"]
    if errors:
        return {**combined, "status": "error", "error": "; ".join(errors)}
    if failed:
        order, read = failed[0]
        return {**combined, "status": "unparsed", "verdict": None, "parsed": False, "reason": f"order {order}: {read['reason']}"}
    verdict = first["verdict"] if combined["consistent"] else TIE
    return {**combined, "status": "ok", "verdict": verdict, "parsed": True, "reason": ""}


def _without_tie(answer: dict[str, Any]) -> dict[str, Any]:
    """ties=false: a tie becomes the likelier side, or no verdict when there are no probabilities."""
    if answer.get("verdict") != TIE:
        return answer
    probabilities = answer.get("probabilities")
    if probabilities is None:
        return {**answer, "status": "unparsed", "verdict": None, "parsed": False, "reason": "a tie, and ties=false: no probabilities to break it"}
    return {**answer, "verdict": "A" if probabilities["A"] >= probabilities["B"] else "B", "tie_broken": True}


def _with_score(answer: dict[str, Any], verdict_format: str) -> dict[str, Any]:
    """A numeric pointwise verdict as a number, and its expectation under the probabilities."""
    if not all(_is_number(label) for label in get_format(verdict_format).labels):
        return answer
    score = float(answer["verdict"]) if answer.get("verdict") is not None else None
    probabilities = answer.get("probabilities")
    expected = sum(float(label) * p for label, p in probabilities.items()) if probabilities else None
    return {**answer, "score": score, "expected_score": expected}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assemble(request: JudgeRequest, options: Options, judgments: list[Judgment]) -> dict[str, Any]:
    """The answer to one request from its jobs' judgments (as :func:`plan` ordered them)."""
    reads = [_read(request, judgment, swapped) for judgment, swapped in zip(judgments, (False, True)[: len(judgments)], strict=True)]
    body = _combined(*reads) if len(reads) == 2 else reads[0]
    answer = {"id": request.id, "mode": request.mode, "template": request.template.name, **body}
    fmt = request.template.verdict_format
    if fmt is not None and request.mode == "pairwise" and not options.ties:
        answer = _without_tie(answer)
    if fmt is not None and request.mode == "pointwise":
        answer = _with_score(answer, fmt)
    return answer


def answer_all(requests: list[JudgeRequest], options: Options, planned: list[list[Job]], judgments: list[Judgment]) -> list[dict[str, Any]]:
    """Every request's answer from the flat list of judgments of ``planned``'s jobs, in order."""
    answers, start = [], 0
    for request, jobs in zip(requests, planned, strict=True):
        answers.append(assemble(request, options, judgments[start : start + len(jobs)]))
        start += len(jobs)
    return answers
