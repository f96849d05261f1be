"""The ``openai`` engine: any OpenAI-compatible chat server (vLLM, SGLang, ``transformers serve``).

One request per prompt asks for all ``n`` candidates, so a server with real ``n`` support (vLLM,
SGLang) prefills the prompt once. Some servers return fewer choices than asked (``transformers
serve`` ignores ``n``); the engine then tops the prompt up with further requests, each with its
own seed, and remembers how many choices the server gives per request so later prompts fan out at
once. Candidate ``j`` of a prompt is sampled with ``seed + j`` when the server gives one choice per
request, so fan-out and top-up ask for the same seeds.

Requests run concurrently up to ``concurrency``; connection errors, timeouts, 429 and 5xx are
retried with exponential backoff and jitter. A 400 or 413 (a prompt longer than the server's
context, ...) refuses that prompt only: the batch's other prompts are answered and the engine raises
:class:`~cj2.sample.engines.base.PromptsRefused` carrying them. Anything else fails the batch at once.
"""

from __future__ import annotations

import asyncio
import random
from typing import NamedTuple

from cj2.sample.engines.base import Messages, PromptsRefused, Seed, Usage, check_sampling_args, seeds_for


class SamplingRequestFailed(RuntimeError):
    pass


# Statuses that refuse one prompt as invalid (bad request, payload too large): no retry mends them.
REFUSED_PROMPT = (400, 413)


class _Refused(NamedTuple):
    message: str


class OpenAIEngine:
    def __init__(self, base_url: str, model: str | None = None, concurrency: int = 16, request_timeout_s: float = 600.0, max_retries: int = 5, api_key: str | None = None, backoff_s: float = 1.0, max_backoff_s: float = 60.0):
        import os

        self.base_url = base_url
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"  # local servers want no key, the client wants one
        self.concurrency = concurrency
        self.request_timeout_s = request_timeout_s
        self.max_retries = max_retries
        self.backoff_s, self.max_backoff_s = backoff_s, max_backoff_s
        self._models = None if model else self._served_models()
        self.model = model or self._models[0].id
        self.choices_per_request: int | None = None  # unknown until a response has fewer choices than asked
        self.retries = 0
        self.usage = Usage()

    def _served_models(self) -> list:
        import openai

        with openai.OpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.request_timeout_s) as client:
            models = list(client.models.list())
        if not models:
            raise SamplingRequestFailed(f"{self.base_url} serves no model; set sample.model")
        return models

    @property
    def context_length(self) -> int | None:
        """The served model's context in tokens where the server says it (vLLM: ``max_model_len`` in
        /v1/models), else None."""
        if self._models is None:
            self._models = self._served_models()
        entry = next((m for m in self._models if m.id == self.model), None)
        value = (entry.model_extra or {}).get("max_model_len") if entry is not None else None
        return int(value) if isinstance(value, int) else None

    def generate(self, prompts: list[Messages], n: int, temperature: float, top_p: float, max_tokens: int, seed: Seed) -> list[list[str]]:
        check_sampling_args(n, temperature, top_p, max_tokens)
        return asyncio.run(self._generate_all(prompts, n, temperature, top_p, max_tokens, seeds_for(prompts, seed)))

    async def _generate_all(self, prompts, n, temperature, top_p, max_tokens, seeds) -> list[list[str]]:
        import openai

        # The client's own retries are off: retrying here keeps one backoff policy and counts retries.
        async with openai.AsyncOpenAI(base_url=self.base_url, api_key=self.api_key, timeout=self.request_timeout_s, max_retries=0) as client:
            slots = asyncio.Semaphore(self.concurrency)
            sample = dict(temperature=temperature, top_p=top_p, max_tokens=max_tokens)
            answers = await asyncio.gather(*[self._answered(client, slots, p, n, s, sample) for p, s in zip(prompts, seeds, strict=True)])
        refused = {i: a.message for i, a in enumerate(answers) if isinstance(a, _Refused)}
        if refused:
            raise PromptsRefused([None if isinstance(a, _Refused) else a for a in answers], refused)
        return list(answers)

    async def _answered(self, client, slots, messages: Messages, n: int, seed: int, sample: dict) -> list[str] | _Refused:
        import openai

        try:
            return await self._candidates(client, slots, messages, n, seed, sample)
        except openai.APIStatusError as error:
            if error.status_code in REFUSED_PROMPT:
                return _Refused(f"HTTP {error.status_code}: {error.message}")
            raise

    async def _candidates(self, client, slots, messages: Messages, n: int, seed: int, sample: dict) -> list[str]:
        texts: list[str] = []
        while len(texts) < n:
            missing = n - len(texts)
            per_request = min(missing, self.choices_per_request or missing)
            starts = range(len(texts), n, per_request)
            asks = [min(per_request, n - start) for start in starts]
            answers = await asyncio.gather(*[self._request(client, slots, messages, ask, seed + start, sample) for ask, start in zip(asks, starts, strict=True)])
            got = sum(len(a) for a in answers)
            if got == 0:
                raise SamplingRequestFailed(f"{self.base_url} returned no choices for a request of n={asks[0]}")
            for ask, answer in zip(asks, answers, strict=True):
                if len(answer) < ask:
                    cap = max(1, len(answer))
                    self.choices_per_request = min(cap, self.choices_per_request or cap)
                texts.extend(answer)
        return texts[:n]

    async def _request(self, client, slots, messages: Messages, n: int, seed: int, sample: dict) -> list[str]:
        attempt = 0
        while True:
            try:
                async with slots:
                    response = await client.chat.completions.create(model=self.model, messages=messages, n=n, seed=seed, **sample)
                break
            except Exception as error:  # noqa: BLE001 -- sorted into retryable or not right below
                if not is_retryable(error):
                    raise
                if attempt == self.max_retries:
                    raise SamplingRequestFailed(f"{self.base_url}: request failed after {attempt + 1} attempts: {error!r}") from error
            self.retries += 1
            await asyncio.sleep(min(self.max_backoff_s, self.backoff_s * 2**attempt) * random.uniform(0.5, 1.0))
            attempt += 1
        if response.usage is not None:
            self.usage.prompt_tokens += response.usage.prompt_tokens
            self.usage.completion_tokens += response.usage.completion_tokens
        self.usage.requests += 1
        return [choice.message.content or "" for choice in response.choices]

    def close(self) -> None:
        """Nothing held between calls: each ``generate`` opens and closes its own client."""


def is_retryable(error: Exception) -> bool:
    import openai

    if isinstance(error, openai.APIConnectionError):  # includes timeouts
        return True
    return isinstance(error, openai.APIStatusError) and (error.status_code in (408, 409, 429) or error.status_code >= 500)
