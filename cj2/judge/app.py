"""The judge service over HTTP (FastAPI): ``POST /v1/judge``, ``POST /get_reward``, ``GET /health``.

``POST /v1/judge`` takes ``{"requests": [...], "both_orders": .., "ties": .., "constrained": ..,
"timeout_s": ..}`` (requests as ``launch/judge.py`` reads them, options per :mod:`cj2.judge.core`)
and answers ``{"results": [...]}``, one answer per request, in order. A backend failure on one
request is that answer's ``error`` (status 200): the service and the other answers go on.

``POST /get_reward`` is OpenRLHF's remote reward model (:mod:`cj2.judge.openrlhf`): a trainer
points ``--reward.remote_url`` at it. A judgment that failed has no reward to give, so the
whole call answers 502 and OpenRLHF retries it.

Bad input gets a 4xx with ``{"error": "<what is wrong, naming the field>"}``: 400 for a body
that is not a JSON object, 413 for a body, a request count or a prompt over the limits, 422 for
a field that is wrong (unknown template, wrong number of responses, unknown option), 503 when
the service already holds ``max_pending`` judgments (retry later).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from cj2.eval.judging.prompts import DEFAULT_FOR_MODE, get_template
from cj2.judge import openrlhf
from cj2.judge.core import Options, RequestError
from cj2.judge.rewards import reward
from cj2.judge.service import JudgeService

JUDGE_FIELDS = {"requests", "both_orders", "ties", "constrained", "timeout_s"}


async def read_body(request: Request, max_bytes: int) -> dict[str, Any]:
    """The request's JSON object, read at most ``max_bytes`` far."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise RequestError(f"the body is {declared} bytes; at most {max_bytes} (max_body_bytes)", status=413)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise RequestError(f"the body is over {max_bytes} bytes (max_body_bytes)", status=413)
    try:
        value = json.loads(bytes(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RequestError(f"the body is not valid JSON ({e})", status=400) from None
    if not isinstance(value, dict):
        raise RequestError(f"the body must be a JSON object, got {type(value).__name__}", status=400)
    return value


def reward_template(cfg) -> str:
    if cfg.reward.template:
        return cfg.reward.template
    return cfg.template if get_template(cfg.template).mode == cfg.reward.mode else DEFAULT_FOR_MODE[cfg.reward.mode]


def create_app(service: JudgeService, cfg) -> FastAPI:
    app = FastAPI(title="cj2 judge", docs_url=None, redoc_url=None)

    @app.exception_handler(RequestError)
    async def refused(_request: Request, error: RequestError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=error.status)

    @app.get("/health")
    async def health() -> JSONResponse:
        ok, detail = await service.health()
        status = {"status": "ok" if ok else "unavailable", "backend": service.backend.kind, "model": cfg.judge,
                  "pending": service.admission.pending, "detail": detail}
        return JSONResponse(status, status_code=200 if ok else 503)

    @app.post("/v1/judge")
    async def judge(request: Request) -> dict[str, Any]:
        body = await read_body(request, cfg.max_body_bytes)
        unknown = sorted(set(body) - JUDGE_FIELDS)
        if unknown:
            raise RequestError(f"unknown field(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(JUDGE_FIELDS))}")
        items = body.get("requests")
        if isinstance(items, list) and len(items) > cfg.max_items:
            raise RequestError(f"{len(items)} requests in one call; at most {cfg.max_items} (max_items)", status=413)
        return {"results": await service.judge(items, service.options(body))}

    template = reward_template(cfg)
    reward_options = Options(both_orders=cfg.reward.both_orders and cfg.reward.mode == "pairwise", constrained=cfg.reward.constrained, timeout_s=cfg.request_timeout_s)

    @app.post("/get_reward")
    async def get_reward(request: Request) -> JSONResponse:
        body = await read_body(request, cfg.max_body_bytes)
        items = openrlhf.judge_requests(body, cfg.reward.mode, template, list(cfg.reward.end_markers))
        if len(items) > cfg.max_items:
            raise RequestError(f"{len(items)} queries in one call; at most {cfg.max_items} (max_items)", status=413)
        answers = await service.judge(items, reward_options, field="query")
        rewards = [reward(answer, cfg.reward.unparsed) for answer in answers]
        failed = [f"query[{i}]: {answer['error']}" for i, (answer, value) in enumerate(zip(answers, rewards, strict=True)) if value is None]
        if failed:
            return JSONResponse({"error": "; ".join(failed)}, status_code=502)
        return JSONResponse(openrlhf.reward_response(rewards, answers))

    return app
