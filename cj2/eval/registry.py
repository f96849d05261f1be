"""Benchmarks by name: ``eval.name`` -> one :class:`~cj2.eval.core.benchmark.Benchmark` object.

Built-ins are registered by ``"module:attr"`` path, so a benchmark's module is imported only when
it is used. ``eval.name=some.module:OBJECT`` imports a benchmark of your own (as
``sample.engine=module:Class`` does for engines): no edit of cj2 is needed. Any other name with
``eval.fields`` set is a generic pairwise set read through the config's field mapping
(:mod:`cj2.eval.benchmarks.pairwise`); an unknown name is an error listing the known ones.
"""

from __future__ import annotations

import importlib

from cj2.eval.core.benchmark import Benchmark
from cj2.eval.core.files import EvalInputError

GENERIC_PAIRWISE = "cj2.eval.benchmarks.pairwise:PAIRWISE"

_REGISTERED: dict[str, str | Benchmark] = {
    "judgerbenchv2": "cj2.eval.benchmarks.judgerbenchv2.benchmark:JUDGERBENCHV2",
    "judgebench": "cj2.eval.benchmarks.judgebench:JUDGEBENCH",
    "rmb": "cj2.eval.benchmarks.rmb.benchmark:RMB",
    "rewardbench": "cj2.eval.benchmarks.rewardbench.benchmark:REWARDBENCH",
    "pairwise": GENERIC_PAIRWISE,
    "pandalm": GENERIC_PAIRWISE,
    "llmbar": GENERIC_PAIRWISE,
}


def register(name: str, benchmark: str | Benchmark) -> None:
    """Make ``eval.name=name`` find ``benchmark`` (an object, or its ``"module:attr"`` path)."""
    _REGISTERED[name] = benchmark


def known() -> list[str]:
    return list(_REGISTERED)


def _load(path: str, setting: str) -> Benchmark:
    module, _, attr = path.partition(":")
    try:
        benchmark = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise EvalInputError(setting, f"cannot load benchmark {path!r}: {e}") from None
    if not (callable(getattr(benchmark, "requests", None)) and callable(getattr(benchmark, "score", None))):
        raise EvalInputError(setting, f"{path!r} is not a benchmark (an object with requests() and score(); see cj2.eval.core.benchmark)")
    return benchmark


def get(name: str, eval_cfg=None) -> Benchmark:
    """The benchmark ``eval.name`` names; ``eval_cfg`` with ``fields`` set makes any other name a generic pairwise set."""
    if name in _REGISTERED:
        entry = _REGISTERED[name]
        if isinstance(entry, str):
            entry = _REGISTERED[name] = _load(entry, "eval.name")
        return entry
    if ":" in name:
        return _load(name, "eval.name")
    if eval_cfg is not None and eval_cfg.fields:
        return _load(GENERIC_PAIRWISE, "eval.name")
    raise EvalInputError("eval.name", f"unknown benchmark {name!r}; known: {', '.join(_REGISTERED)} (or set eval.fields for your own pairwise set, or eval.name=module:OBJECT for your own benchmark)")


def label(name: str) -> str:
    """The benchmark's name in file names: ``eval.name``, or the object's own name for a ``module:OBJECT`` path."""
    return get(name).name if ":" in name and name not in _REGISTERED else name


def for_output(metrics: dict) -> Benchmark:
    """The benchmark that wrote a saved output (``metrics["benchmark"]``); a generic pairwise set for any other name."""
    name = metrics.get("benchmark")
    return get(name) if isinstance(name, str) and name in _REGISTERED else _load(GENERIC_PAIRWISE, "benchmark")
