"""The JudgerBenchV2 score of one scenario and of the benchmark (method.md section 4), pure.

Per scenario, over the pairs whose verdict parsed:
  acc            = 100 * correct / parsed
  s2[m]          = pairs where the judge prefers model m over the base model
  r1, r2         = ranks of s1 (ground truth) and s2, sorting by (-score, model name)
  normalized_diff = (100/|M|) * sum_m ( |r1[m]-r2[m]| / (|M|-1) + |s1[m]-s2[m]| / max_m' |s1-s2| )
  final          = (acc - normalized_diff + 100) / 2
The benchmark score is the plain mean of the ten scenario finals (as OpenCompass's summary group).

Edge cases, where the published evaluator would divide by zero or silently shrink M (see
docs/evaluation.md for the reasoning):
- M is every model of the scenario's ground-truth table; a model with no judged win has s2 = 0
  and is ranked like the others (the published code drops it from M instead).
- max score difference 0 (s2 equals s1 everywhere): the score term is 0 for every model.
- |M| = 1: the rank term is 0 (one model has rank 1 in both rankings).
- nothing parsed: acc = 0 and every s2 is 0; the scenario is flagged in ``notes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

BASE = "base"  # the judged or gold side is the base model
MODEL = "model"  # ... the compared model


@dataclass(frozen=True)
class PairOutcome:
    """One judged record: which model faced the base model, who truly won, whom the judge chose.

    ``judged`` is ``MODEL`` or ``BASE``; ``None`` when the verdict did not parse (or the record
    has no prediction); any other string when it parsed to a letter naming neither response
    (the published regex accepts any capital letter: such a verdict counts as parsed and wrong).
    """

    model: str
    gold: str
    judged: str | None


@dataclass
class ScenarioScore:
    scenario: str
    total: int
    parsed: int
    unparsed: int
    correct: int
    accuracy: float
    judged_wins: dict[str, int]
    ground_truth_wins: dict[str, int]
    judged_rank: dict[str, int]
    ground_truth_rank: dict[str, int]
    rank_diff: int
    score_diff: int
    max_score_diff: int
    normalized_diff: float
    final: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def rank_by_score(scores: Mapping[str, int]) -> dict[str, int]:
    """Rank 1 = most wins; equal scores are ordered by model name, so ranks are 1..n, unique."""
    ordered = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    return {name: position + 1 for position, (name, _) in enumerate(ordered)}


def final_score(accuracy: float, normalized_diff: float) -> float:
    return (accuracy - normalized_diff + 100.0) / 2.0


def normalized_diff(ground_truth_wins: Mapping[str, int], judged_wins: Mapping[str, int]) -> float:
    """(100/|M|) * sum over M of the rank term plus the score term; M = the ground-truth models."""
    models = list(ground_truth_wins)
    if not models:
        raise ValueError("the ground-truth table has no models")
    r1 = rank_by_score(ground_truth_wins)
    r2 = rank_by_score({m: judged_wins.get(m, 0) for m in models})
    max_rank_diff = len(models) - 1
    score_diffs = {m: abs(ground_truth_wins[m] - judged_wins.get(m, 0)) for m in models}
    max_score_diff = max(score_diffs.values())
    total = 0.0
    for m in models:
        if max_rank_diff:
            total += abs(r1[m] - r2[m]) / max_rank_diff
        if max_score_diff:
            total += score_diffs[m] / max_score_diff
    return 100.0 * total / len(models)


def score_scenario(scenario: str, outcomes: Sequence[PairOutcome], ground_truth_wins: Mapping[str, int]) -> ScenarioScore:
    models = list(ground_truth_wins)
    unknown = sorted({o.model for o in outcomes} - set(models))
    if unknown:
        raise ValueError(f"{scenario}: model(s) {', '.join(unknown)} are not in the ground-truth table (known: {', '.join(models)})")
    parsed = [o for o in outcomes if o.judged is not None]
    correct = sum(o.judged == o.gold for o in parsed)
    judged_wins = {m: 0 for m in models}
    for o in parsed:
        if o.judged == MODEL:
            judged_wins[o.model] += 1
    notes = []
    if not parsed:
        notes.append("no verdict parsed: accuracy 0, every judged win count 0")
    without_wins = sorted(m for m in models if judged_wins[m] == 0)
    if parsed and without_wins:
        notes.append(f"no judged wins (s2 = 0, still ranked): {', '.join(without_wins)}")
    without_records = sorted(set(models) - {o.model for o in outcomes})
    if without_records:
        notes.append(f"no records at all for: {', '.join(without_records)}")
    r1 = rank_by_score(dict(ground_truth_wins))
    r2 = rank_by_score(judged_wins)
    score_diffs = {m: abs(ground_truth_wins[m] - judged_wins[m]) for m in models}
    max_score_diff = max(score_diffs.values())
    if max_score_diff == 0:
        notes.append("judged wins equal the ground truth for every model: score term 0")
    accuracy = 100.0 * correct / len(parsed) if parsed else 0.0
    nd = normalized_diff(ground_truth_wins, judged_wins)
    return ScenarioScore(
        scenario=scenario,
        total=len(outcomes),
        parsed=len(parsed),
        unparsed=len(outcomes) - len(parsed),
        correct=correct,
        accuracy=accuracy,
        judged_wins=judged_wins,
        ground_truth_wins=dict(ground_truth_wins),
        judged_rank=r2,
        ground_truth_rank=r1,
        rank_diff=sum(abs(r1[m] - r2[m]) for m in models),
        score_diff=sum(score_diffs.values()),
        max_score_diff=max_score_diff,
        normalized_diff=nd,
        final=final_score(accuracy, nd),
        notes=notes,
    )


def summarize(scores: Sequence[ScenarioScore]) -> dict:
    """The benchmark row: means over scenarios of accuracy, normalized diff and final."""
    if not scores:
        raise ValueError("no scenario scores to summarize")
    n = len(scores)
    return {
        "scenarios": n,
        "accuracy": sum(s.accuracy for s in scores) / n,
        "normalized_diff": sum(s.normalized_diff for s in scores) / n,
        "final": sum(s.final for s in scores) / n,
        "rank_diff": sum(s.rank_diff for s in scores) / n,
        "score_diff": sum(s.score_diff for s in scores) / n,
        "total": sum(s.total for s in scores),
        "parsed": sum(s.parsed for s in scores),
        "unparsed": sum(s.unparsed for s in scores),
    }
