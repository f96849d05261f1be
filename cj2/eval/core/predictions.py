"""Saved judge outputs (JSONL): one line per judged record, the raw text the judge wrote.

JudgerBenchV2 lines: ``{"scenario": ..., "index": i, "prediction": "<raw judge output>"}``.
Other benchmarks:   ``{"index": i, "prediction": "..."}``.
Either may carry ``"swapped": true`` for the judgment of the same record with A and B
exchanged (swap-consistency runs). ``"prediction": null`` (the tool produced nothing) is kept
and counted as unparsed, never dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cj2.eval.core.files import EvalInputError, iter_jsonl
from cj2.utils.atomic import atomic_write_text

Key = tuple  # (scenario, index, swapped) or (index, swapped)


@dataclass(frozen=True)
class Prediction:
    text: str | None
    line: int


def read_predictions(path: str | Path, with_scenario: bool) -> dict[Key, Prediction]:
    """All predictions of ``path`` by key; a malformed or duplicated line is an error naming it."""
    out: dict[Key, Prediction] = {}
    for line, obj in iter_jsonl(path, objects=True):
        key: Key = ()
        if with_scenario:
            scenario = obj.get("scenario")
            if not isinstance(scenario, str):
                raise EvalInputError(path, "missing or not a string", row=line, field="scenario", unit="line")
            key = (scenario,)
        index = obj.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise EvalInputError(path, f"expected a non-negative integer, got {index!r}", row=line, field="index", unit="line")
        if "prediction" not in obj:
            raise EvalInputError(path, "missing", row=line, field="prediction", unit="line")
        text = obj["prediction"]
        if text is not None and not isinstance(text, str):
            raise EvalInputError(path, f"expected a string (or null), got {type(text).__name__}", row=line, field="prediction", unit="line")
        swapped = obj.get("swapped", False)
        if not isinstance(swapped, bool):
            raise EvalInputError(path, f"expected true/false, got {swapped!r}", row=line, field="swapped", unit="line")
        key = key + (index, swapped)
        if key in out:
            raise EvalInputError(path, f"duplicate prediction for {key[:-1]}{' (swapped)' if swapped else ''}; first seen on line {out[key].line}", row=line, unit="line")
        out[key] = Prediction(text, line)
    return out


def write_predictions(path: str | Path, rows: Iterable[dict]) -> None:
    """Write prediction lines atomically (a rerun never sees a half-written file)."""
    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
