"""What every benchmark hands to the report: the numbers to save, a table, and plot inputs."""

from __future__ import annotations

from dataclasses import dataclass, field

from cj2.eval.core.pairwise_metric import PairJudgment


@dataclass
class EvalResult:
    benchmark: str
    headline_name: str  # e.g. "final", "accuracy", "score"
    headline: float
    metrics: dict  # the JSON written to eval.output
    rows: list[dict[str, object]]  # one table row per scenario / subset / section, first key = name
    group_scores: dict[str, float]  # bars: per scenario / subset score
    judgments: list[PairJudgment] = field(default_factory=list)  # confusion and position-bias plots
    unparsed: int = 0
    missing: int = 0
    total: int = 0
    notes: list[str] = field(default_factory=list)
    # prompt, verdict format, parser (official | lenient) and unparsed count; set by cj2.eval.job
    protocol: dict[str, object] = field(default_factory=dict)
