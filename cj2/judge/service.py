"""A judge as an object: requests in, answers out, over an in-process model or a chat server.

:class:`JudgeService` is what the HTTP service (``cj2.judge.app``) runs: jobs of concurrent
requests are batched for an in-process model (:class:`cj2.judge.batcher.Batcher`) or sent
concurrently to a server, at most ``max_pending`` jobs are admitted at once (more is answered
"busy", not queued without bound), and a prompt longer than the judge can read is refused before
any work. :class:`LocalJudge` is the same without a server or an event loop, for code that calls
a judge directly (the TRL judge class, the verl reward function).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from cj2.judge.core import Options, RequestError, answer_all, parse_items, plan
from cj2.judge.jobs import Job


def build_backend(kind: str, model: str, *, base_url: str | None = None, device: str = "auto", dtype: str | None = None, max_tokens: int = 512, concurrency: int = 16):
    if kind == "hf":
        from cj2.judge.hf_backend import HFBackend

        return HFBackend(model, device=device, dtype=dtype, max_tokens=max_tokens)
    if kind == "openai":
        from cj2.judge.openai_backend import OpenAIBackend

        if not base_url:
            raise ValueError("backend=openai needs base_url=http://host:port/v1")
        return OpenAIBackend(base_url, model, max_tokens=max_tokens, concurrency=concurrency)
    raise ValueError(f"unknown judge backend {kind!r}; known: hf, openai")


def prompt_limit(backend, max_prompt_tokens: int) -> int | None:
    """The longest prompt (tokens) the judge takes, leaving room for its answer; None: not counted here."""
    if not hasattr(backend, "count_prompt_tokens"):
        return None  # a server counts its own tokens and refuses what it cannot read
    context = backend.context_length
    return min(max_prompt_tokens, context - backend.max_tokens) if context else max_prompt_tokens


def check_prompt_lengths(backend, planned: list[list[Job]], limit: int | None, field: str = "requests") -> None:
    if limit is None:
        return
    for i, jobs in enumerate(planned):
        n = backend.count_prompt_tokens(jobs[0].messages)  # both orders hold the same text
        if n > limit:
            raise RequestError(f"{field}[{i}]: the rendered prompt is {n} tokens; this judge takes at most {limit} (max_prompt_tokens, and its context minus max_tokens)", status=413)


class Admission:
    """At most ``capacity`` jobs admitted at once; a request that would exceed it is refused (503)."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.pending = 0

    @contextlib.contextmanager
    def admit(self, n: int):
        if n > self.capacity:
            raise RequestError(f"the request needs {n} judgments; this service admits at most {self.capacity} at once (max_pending)", status=413)
        if self.pending + n > self.capacity:
            raise RequestError(f"busy: {self.pending} judgments in progress, {n} more would exceed max_pending={self.capacity}; retry later", status=503)
        self.pending += n
        try:
            yield
        finally:
            self.pending -= n


class JudgeService:
    def __init__(self, backend, *, template: str, defaults: Options, max_batch: int = 8, batch_wait_s: float = 0.005, max_pending: int = 256, max_prompt_tokens: int = 8192, max_timeout_s: float | None = None):
        self.backend = backend
        self.template = template
        self.defaults = defaults
        self.max_timeout_s = max_timeout_s
        self.admission = Admission(max_pending)
        self.limit = prompt_limit(backend, max_prompt_tokens)
        self.batcher = None
        if backend.kind == "hf":  # one model, one batch at a time; a server batches concurrent requests itself
            from cj2.judge.batcher import Batcher

            self.batcher = Batcher(backend.judge_batch, max_batch, batch_wait_s)

    def options(self, body: dict[str, Any]) -> Options:
        options = Options.read(body, self.defaults, self.max_timeout_s)
        if options.constrained and self.backend.kind != "hf":
            raise RequestError("constrained decoding needs the judge in process (backend=hf); this service forwards to a server")
        return options

    async def judge(self, items: Any, options: Options, field: str = "requests") -> list[dict[str, Any]]:
        requests = parse_items(items, self.template, field)
        planned = plan(requests, options)
        check_prompt_lengths(self.backend, planned, self.limit, field)
        jobs = [job for request_jobs in planned for job in request_jobs]
        with self.admission.admit(len(jobs)):
            judgments = await (self.batcher.run(jobs) if self.batcher else self.backend.run(jobs))
        return answer_all(requests, options, planned, judgments)

    async def health(self) -> tuple[bool, str]:
        if self.backend.kind == "hf":
            return self.backend.model is not None, "model loaded in process"
        return await asyncio.to_thread(self.backend.healthy)

    def close(self) -> None:
        if self.batcher is not None:
            self.batcher.close()
        self.backend.close()


class LocalJudge:
    """A judge called directly: ``judge(items, **options) -> answers``, like :class:`cj2.judge.client.JudgeClient`."""

    def __init__(self, backend, template: str = "cj2_cot", defaults: Options | None = None, max_batch: int = 8):
        self.backend = backend
        self.template = template
        self.defaults = defaults or Options()
        self.max_batch = max_batch

    @classmethod
    def from_model(cls, model: str, *, device: str = "auto", dtype: str | None = None, max_tokens: int = 512, **kwargs) -> LocalJudge:
        return cls(build_backend("hf", model, device=device, dtype=dtype, max_tokens=max_tokens), **kwargs)

    def judge(self, items: list[dict[str, Any]], **options: Any) -> list[dict[str, Any]]:
        chosen = Options.read(options, self.defaults)
        requests = parse_items(items, self.template)
        planned = plan(requests, chosen)
        jobs = [job for request_jobs in planned for job in request_jobs]
        judgments = []
        for start in range(0, len(jobs), self.max_batch):
            judgments += self.backend.judge_batch(jobs[start : start + self.max_batch])
        return answer_all(requests, chosen, planned, judgments)
