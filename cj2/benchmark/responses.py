"""The answers being judged: the base model and every policy answer each selected query, once."""

from __future__ import annotations

from collections.abc import Sequence

from cj2.benchmark.select import LabelledQuery


def response_requests(selected: Sequence[LabelledQuery]) -> list[dict]:
    """One request per selected query, the query as the only user turn (as a benchmark user asks it)."""
    return [{"key": {"query_row": item.query.row, "scenario": item.scenario}, "messages": [{"role": "user", "content": item.query.text}]} for item in selected]
