"""What a benchmark is to cj2: one object that lists the prompts to run and scores saved judge outputs.

``launch/eval.py`` asks a :class:`Benchmark` (found by name in :mod:`cj2.eval.registry`) for

- :meth:`~Benchmark.requests`: one ``{"key": {...}, "messages": [...]}`` per judgment to run; the
  key fields are written to every prediction line, so :meth:`~Benchmark.score` can match them;
- :meth:`~Benchmark.score`: an :class:`~cj2.eval.core.result.EvalResult` from a predictions file
  (raw judge outputs) and a parse function (``eval.parser``);
- :meth:`~Benchmark.protocol`: which prompt and verdict format the numbers come from (the report says);
- :meth:`~Benchmark.headline_numbers`: the comparable numbers of a saved output (``compare``, study tables).

Pairwise sets build on :class:`cj2.eval.judging.pairwise.PairwiseBenchmark`, which needs only
``load_items``; a benchmark with its own record format and metric implements the four methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: core imports nothing of judging
    from cj2.eval.core.result import EvalResult
    from cj2.eval.judging.verdict_source import ParseFn


class Benchmark:
    name: str = ""
    # False: the benchmark's prompt is published text and ``eval.style_suffix`` may not change it.
    takes_style: bool = True

    def requests(self, eval_cfg) -> list[dict]:
        raise NotImplementedError(f"{type(self).__name__} lists no requests")

    def score(self, eval_cfg, predictions_path: str, parse: ParseFn) -> EvalResult:
        raise NotImplementedError(f"{type(self).__name__} has no score")

    def protocol(self, eval_cfg) -> tuple[str, str | None]:
        """``(prompt, verdict format)`` the numbers come from; by default the configured ones."""
        return eval_cfg.template, eval_cfg.verdict_format

    def headline_numbers(self, metrics: dict) -> dict[str, float]:
        """The comparable numbers of one saved output (``eval_*.json``): the headline first, then its parts.

        By default a pairwise output: accuracy, per-group accuracy and swap consistency.
        """
        if "accuracy" not in metrics:
            raise ValueError(f"not a cj2 evaluation output (benchmark={metrics.get('benchmark')!r})")
        out = {"accuracy": metrics["accuracy"], **{name: g["accuracy"] for name, g in metrics.get("groups", {}).items()}}
        if "swap" in metrics:
            out["swap consistency"] = metrics["swap"]["consistency"]
        return out
