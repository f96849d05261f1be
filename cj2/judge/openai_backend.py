"""A judge behind any OpenAI-compatible chat server (vLLM, SGLang, ``transformers serve``).

Each job is one chat completion (greedy), at most ``concurrency`` in flight; the server batches
them. A failure is the job's own error, never retried here: the caller's timeout is short and a
reward loop would rather see the error than wait (connection refused while the server is down,
its HTTP status, or the job's deadline). The next job tries again, so judging resumes as soon as
the server is back. Such servers give text, not logits: answers have no probabilities.
"""

from __future__ import annotations

import asyncio
import os
import time

from cj2.judge.jobs import TIMED_OUT, Job, Judgment

NO_LOGITS = "the judge is behind an OpenAI-compatible server: no logits"


class OpenAIBackend:
    kind = "openai"

    def __init__(self, base_url: str, model: str, max_tokens: int = 512, concurrency: int = 16, api_key: str | None = None):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.max_tokens = max_tokens
        self.concurrency = concurrency
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"  # local servers want no key, the client wants one
        self._connection = None  # (client, semaphore), made in the service's event loop on first use

    def _client(self):
        import openai

        if self._connection is None:
            self._connection = (openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, max_retries=0), asyncio.Semaphore(self.concurrency))
        return self._connection

    async def run(self, jobs: list[Job]) -> list[Judgment]:
        return list(await asyncio.gather(*(self._one(job) for job in jobs)))

    async def _one(self, job: Job) -> Judgment:
        import openai

        client, slots = self._client()
        try:
            async with slots:
                remaining = job.deadline - time.monotonic() if job.deadline is not None else None
                if remaining is not None and remaining <= 0:
                    return Judgment(error=TIMED_OUT)
                call = client.chat.completions.create(model=self.model, messages=job.messages, max_tokens=self.max_tokens, temperature=0.0)
                response = await asyncio.wait_for(call, remaining)
        except TimeoutError:
            return Judgment(error=TIMED_OUT)
        except openai.APIConnectionError as error:
            return Judgment(error=f"the judge server {self.base_url} is unreachable ({error.__class__.__name__}: {error})")
        except openai.APIStatusError as error:
            return Judgment(error=f"the judge server {self.base_url} answered HTTP {error.status_code}: {error.message}")
        if not response.choices:
            return Judgment(error=f"the judge server {self.base_url} returned no choices")
        return Judgment(text=response.choices[0].message.content or "", probability_note=NO_LOGITS)

    def healthy(self, timeout_s: float = 3.0) -> tuple[bool, str]:
        """Whether the server answers its model list now (the service's /health asks)."""
        import httpx

        try:
            response = httpx.get(f"{self.base_url}/models", timeout=timeout_s, headers={"Authorization": f"Bearer {self.api_key}"})
        except httpx.HTTPError as error:
            return False, f"{self.base_url} unreachable: {error.__class__.__name__}"
        return response.status_code == 200, f"{self.base_url}/models answered HTTP {response.status_code}"

    def close(self) -> None:
        self._connection = None
