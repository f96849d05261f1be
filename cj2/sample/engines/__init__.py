"""Generation engines: chat prompts in, exactly ``n`` candidate texts per prompt out.

Every engine has the same two methods::

    generate(prompts, n, temperature, top_p, max_tokens, seed) -> list[list[str]]
    close()

``prompts`` is a list of chat conversations (lists of ``{"role", "content"}`` dicts). ``seed`` is
either one int (prompt ``i`` is sampled with ``seed + i``) or one seed per prompt; the runner
passes a seed derived from each item's id so that a resumed shard samples an item exactly as an
uninterrupted run would. ``temperature == 0`` means greedy decoding. Engines also keep a running
``usage`` (prompt and completion tokens) for throughput reports.

Heavy imports (torch, transformers, openai, megatron) happen inside each engine's module, so
importing this package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from cj2.sample.engines.base import Engine, Usage, seeds_for

ENGINES = {
    "hf": "cj2.sample.engines.hf:HFEngine",
    "openai": "cj2.sample.engines.openai_server:OpenAIEngine",
    "megatron": "cj2.sample.engines.megatron_tp:MegatronEngine",
    "rule": "cj2.sample.engines.rule_teacher:RuleTeacher",
}


def is_known(kind: str) -> bool:
    """A registered engine, or ``module:Class`` naming one of the user's own (the same protocol)."""
    return kind in ENGINES or ":" in kind


def build_engine(kind: str, **options: Any) -> Engine:
    """An engine of ``kind`` (a key of ENGINES, or ``module:Class``); ``options`` go to its constructor."""
    if not is_known(kind):
        raise ValueError(f"unknown sampling engine {kind!r}; known: {', '.join(ENGINES)} (or module:Class)")
    module, name = ENGINES.get(kind, kind).split(":")
    return getattr(importlib.import_module(module), name)(**options)


__all__ = ["ENGINES", "Engine", "Usage", "build_engine", "is_known", "seeds_for"]
