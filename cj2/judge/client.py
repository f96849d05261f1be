"""A client of the judge service, and the one way trainer integrations name a judge.

:class:`JudgeClient` has the same ``judge(items, **options) -> answers`` as
:class:`cj2.judge.service.LocalJudge`, so the TRL judge class and the verl reward function take
either: a URL (``http://host:8000``: the service runs elsewhere, e.g. on the judge's own GPUs)
or a model path (loaded once in this process).
"""

from __future__ import annotations

import functools
from typing import Any


class JudgeServiceError(RuntimeError):
    """The service refused or failed a call; the message holds its status and error."""


class JudgeClient:
    def __init__(self, url: str, timeout_s: float = 600.0):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def judge(self, items: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
        import httpx

        response = httpx.post(f"{self.url}/v1/judge", json={"requests": items, **options}, timeout=self.timeout_s)
        if response.status_code != 200:
            try:
                error = response.json().get("error", response.text)
            except ValueError:
                error = response.text
            raise JudgeServiceError(f"{self.url}/v1/judge answered HTTP {response.status_code}: {error}")
        return response.json()["results"]


@functools.cache
def judge_at(where: str):
    """The judge at ``where``: a :class:`JudgeClient` for an http(s) URL, else a :class:`LocalJudge`
    over the model there (loaded once per process). Callers name each request's template."""
    if where.startswith(("http://", "https://")):
        return JudgeClient(where)
    from cj2.judge.service import LocalJudge

    return LocalJudge.from_model(where)
