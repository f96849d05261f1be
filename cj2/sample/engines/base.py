"""What every engine shares: the protocol, token usage, per-prompt seeds, argument checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

Messages = list[dict[str, str]]
Seed = int | Sequence[int]


@dataclass
class Usage:
    """Tokens an engine has read and written since it was built."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0

    def snapshot(self) -> Usage:
        return Usage(self.prompt_tokens, self.completion_tokens, self.requests)

    def minus(self, earlier: Usage) -> Usage:
        return Usage(self.prompt_tokens - earlier.prompt_tokens, self.completion_tokens - earlier.completion_tokens, self.requests - earlier.requests)


class PromptsRefused(RuntimeError):
    """The server refused some prompts of a batch as invalid requests (HTTP 400 or 413: longer than its
    context, ...), which no retry mends. ``outputs`` holds every prompt's candidates, None where refused;
    ``refused`` maps a refused prompt's index to the server's message. A caller that can drop those
    prompts (curation: the row is rejected) reads both; any other caller fails with the message."""

    def __init__(self, outputs: list[list[str] | None], refused: dict[int, str]):
        self.outputs, self.refused = outputs, refused
        index, message = next(iter(refused.items()))
        super().__init__(f"the server refused {len(refused)} of {len(outputs)} prompts (prompt {index}: {message})")


class Engine(Protocol):
    usage: Usage

    def generate(self, prompts: list[Messages], n: int, temperature: float, top_p: float, max_tokens: int, seed: Seed) -> list[list[str]]: ...

    def close(self) -> None: ...


def seeds_for(prompts: Sequence[Messages], seed: Seed) -> list[int]:
    """One seed per prompt: ``seed + i`` for an int, the given list otherwise."""
    if isinstance(seed, int):
        return [seed + i for i in range(len(prompts))]
    seeds = [int(s) for s in seed]
    if len(seeds) != len(prompts):
        raise ValueError(f"got {len(seeds)} seeds for {len(prompts)} prompts")
    return seeds


def check_sampling_args(n: int, temperature: float, top_p: float, max_tokens: int) -> None:
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
