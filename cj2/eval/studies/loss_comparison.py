"""The loss comparison of a miniature Table 4 (issue #25): per-judge verdict metrics with 95% intervals,
each loss against ``none`` paired within seed and across seeds, and gates before any ranking.

Input, for one set: ``{(loss, seed): [VerdictLogits]}`` (every loss trained at seed ``s`` on the
same data, every judge scored on the same verdicts) and reference judges ``{name: records}``
(``base``, ``rule-teacher``). Output: a Markdown table, a plot and the numbers as JSON.

- Per judge: every verdict metric (cj2.eval.core.verdict_metric) with its 95% interval, the
  questions resampled.
- Per seed: each loss minus ``none`` at the same seed on the same verdicts: a paired question
  bootstrap interval for accuracy, margin, NLL (and best-of-N accuracy), and the exact McNemar test
  on the verdicts (it treats verdicts as independent; the bootstrap is the one to read first).
- Across seeds: the mean of the per-seed differences with a Student t interval (seeds are the replicates).
- Gates, checked before any ranking: the rule teacher scores 100%; every ``none`` judge reaches 70%;
  every trained judge has an A-rate within 45-55 and swap consistency of at least 80. A failed gate
  is printed (gate, judge, number) and the table shows numbers without any ranking.

A negative-control set (e.g. MMLU for a small model) is compared with ``control=True``: its own
table, no gates and never a ranking; it is never averaged with the main set.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cj2.config.validate import LOSSES  # Table 4's order
from cj2.eval.core.intervals import LEVEL, RESAMPLES, Interval, across_seeds
from cj2.eval.core.verdict_metric import (
    DIGITS,
    SHOWN,
    VerdictLogits,
    paired_differences,
    verdict_intervals,
    verdict_metrics,
)

BASELINE = "none"
RULE_TEACHER = "rule-teacher"
DIFFERENCES = ("accuracy", "margin", "nll", "bon_accuracy")


@dataclass(frozen=True)
class Gates:
    rule_teacher_accuracy: float = 100.0
    baseline_accuracy: float = 70.0
    a_rate: tuple[float, float] = (45.0, 55.0)
    swap_consistency: float = 80.0


@dataclass(frozen=True)
class GateFailure:
    gate: str
    judge: str
    value: float | None  # None: not measured
    required: str

    def __str__(self) -> str:
        measured = "not measured" if self.value is None else f"{self.value:.1f}"
        return f"gate '{self.gate}' failed: {self.judge} has {measured} (required: {self.required})"


def judge_name(loss: str, seed: int) -> str:
    return f"{loss}-s{seed}"


def check_gates(metrics: Mapping[str, dict], runs: Sequence[tuple[str, int]], gates: Gates = Gates()) -> list[GateFailure]:
    """Every gate failure, in a fixed order: rule teacher, baseline accuracy, then each trained judge's position measures."""
    failures = []
    teacher = metrics[RULE_TEACHER]["accuracy"] if RULE_TEACHER in metrics else None
    if teacher is None or teacher < gates.rule_teacher_accuracy:
        failures.append(GateFailure("rule teacher scores 100%", RULE_TEACHER, teacher, f"accuracy >= {gates.rule_teacher_accuracy:g}"))
    baselines = [judge_name(loss, seed) for loss, seed in runs if loss == BASELINE]
    if not baselines:
        failures.append(GateFailure(f"{BASELINE} learns the task", BASELINE, None, f"a {BASELINE} run with accuracy >= {gates.baseline_accuracy:g}"))
    for judge in baselines:
        if metrics[judge]["accuracy"] is None or metrics[judge]["accuracy"] < gates.baseline_accuracy:
            failures.append(GateFailure(f"{BASELINE} learns the task", judge, metrics[judge]["accuracy"], f"accuracy >= {gates.baseline_accuracy:g}"))
    low, high = gates.a_rate
    for loss, seed in runs:
        judge, m = judge_name(loss, seed), metrics[judge_name(loss, seed)]
        if m["a_rate"] is None or not low <= m["a_rate"] <= high:
            failures.append(GateFailure("no position preference", judge, m["a_rate"], f"a_rate within {low:g}-{high:g}"))
        if m["swap_consistency"] is None or m["swap_consistency"] < gates.swap_consistency:
            failures.append(GateFailure("swap consistency", judge, m["swap_consistency"], f"swap_consistency >= {gates.swap_consistency:g} (both orders judged)"))
    return failures


@dataclass
class LossComparison:
    set_name: str
    control: bool
    judges: dict[str, dict]  # name -> {"metrics": ..., "intervals": {metric: Interval}}, references first
    references: list[str]  # the judges not trained in the comparison (base, rule-teacher ...)
    per_seed: list[dict]  # {"loss", "seed", metric: Interval, "mcnemar": ..., "bon_mcnemar": ...}
    across: dict[str, dict]  # loss -> {"seeds": [...], metric: Interval}
    failures: list[GateFailure] = field(default_factory=list)
    # (loss, mean accuracy over its seeds), best first; None: not ranked (a gate failed, or a control set)
    ranking: list[tuple[str, float]] | None = None

    def markdown(self) -> str:
        return "\n".join(_markdown(self)) + "\n"

    def to_json(self) -> dict:
        def plain(value):
            if isinstance(value, Interval):
                return value.as_dict()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        return {"set": self.set_name, "control": self.control, "judges": plain(self.judges), "references": self.references, "per_seed": plain(self.per_seed),
                "across_seeds": plain(self.across), "gate_failures": [{**vars(f), "text": str(f)} for f in self.failures], "ranking": self.ranking}


def _loss_order(loss: str) -> tuple:
    return (LOSSES.index(loss) if loss in LOSSES else len(LOSSES), loss)


def compare_losses(set_name: str, runs: Mapping[tuple[str, int], Sequence[VerdictLogits]], references: Mapping[str, Sequence[VerdictLogits]] | None = None,
                   control: bool = False, gates: Gates = Gates(), resamples: int = RESAMPLES, seed: int = 0, level: float = LEVEL) -> LossComparison:
    """The comparison of one set (module docstring); ``runs`` keyed by (loss, seed)."""
    keys = sorted(runs, key=lambda k: (_loss_order(k[0]), k[1]))
    named = {**{name: list(r) for name, r in (references or {}).items()}, **{judge_name(*k): list(runs[k]) for k in keys}}
    judges = {name: {"metrics": verdict_metrics(records), "intervals": verdict_intervals(records, resamples, seed, level)} for name, records in named.items()}
    per_seed = []
    for loss, s in keys:
        if loss != BASELINE and (BASELINE, s) in runs:
            per_seed.append({"loss": loss, "seed": s, **paired_differences(runs[(loss, s)], runs[(BASELINE, s)], resamples, seed, level)})
    across = {}
    for loss in dict.fromkeys(k[0] for k in keys if k[0] != BASELINE):
        rows = [row for row in per_seed if row["loss"] == loss]
        if rows:
            across[loss] = {"seeds": [row["seed"] for row in rows],
                            **{m: across_seeds([row[m].estimate for row in rows], level) for m in DIFFERENCES if all(m in row for row in rows)}}
    failures = [] if control else check_gates({n: j["metrics"] for n, j in judges.items()}, keys, gates)
    ranking = None
    if not control and not failures:
        means = {}
        for loss in dict.fromkeys(k[0] for k in keys):
            values = [judges[judge_name(*k)]["metrics"]["accuracy"] for k in keys if k[0] == loss]
            means[loss] = sum(values) / len(values)
        ranking = sorted(means.items(), key=lambda item: -item[1])
    return LossComparison(set_name, control, judges, list(references or {}), per_seed, across, failures, ranking)


def _cell(judge: dict, metric: str) -> str:
    interval = judge["intervals"].get(metric)
    if interval is None:
        return "-"
    return interval.text(DIGITS.get(metric, 1))


def _diff(row: dict, metric: str) -> str:
    return row[metric].text(DIGITS.get(metric, 1), signed=True) if metric in row else "-"


def _markdown(c: LossComparison) -> list[str]:
    some = next(iter(c.judges.values()), None)
    verdicts = some["metrics"]["records"] if some else 0
    kind = "negative control (reported on its own: no gates, never ranked or averaged in)" if c.control else "held-out set"
    lines = [f"## Loss comparison: {c.set_name}, {kind}", "", f"{verdicts} verdicts per judge; 95% intervals with the questions resampled.", ""]
    if not c.control:
        if c.failures:
            lines += ["**Gates failed: no ranking.**", ""] + [f"- {f}" for f in c.failures] + [""]
        else:
            lines += ["Gates passed: the rule teacher scores 100%, every `none` judge reaches 70%, every trained judge has an A-rate "
                      "within 45-55 and swap consistency >= 80.", ""]
    lines += ["### Judges", "", "| judge | verdicts | accuracy | top1 | margin | nll | brier | A-rate | swap consistency | BoN accuracy |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, j in c.judges.items():
        cells = [_cell(j, m) for m in SHOWN]
        lines.append(f"| {name} | {j['metrics']['records']} | " + " | ".join(cells) + " |")
    if c.per_seed:
        lines += ["", "### Each loss minus `none`, paired within seed", "",
                  "| loss | seed | Δ accuracy (paired bootstrap) | McNemar: loss only / none only, p | Δ margin | Δ nll | Δ BoN accuracy |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for row in c.per_seed:
            test = row["mcnemar"]
            lines.append(f"| {row['loss']} | {row['seed']} | {_diff(row, 'accuracy')} | {test['a_only']} / {test['b_only']}, p = {test['p']:.3g} | "
                         f"{_diff(row, 'margin')} | {_diff(row, 'nll')} | {_diff(row, 'bon_accuracy')} |")
    if c.across:
        lines += ["", "### Each loss minus `none` across seeds (mean of the per-seed differences, t interval)", "",
                  "| loss | seeds | Δ accuracy | Δ margin | Δ nll | Δ BoN accuracy |", "|---|---|---:|---:|---:|---:|"]
        for loss, row in c.across.items():
            lines.append(f"| {loss} | {', '.join(map(str, row['seeds']))} | {_diff(row, 'accuracy')} | {_diff(row, 'margin')} | {_diff(row, 'nll')} | {_diff(row, 'bon_accuracy')} |")
    if c.ranking:
        lines += ["", "### Ranking (mean accuracy over seeds)", ""]
        for place, (loss, accuracy) in enumerate(c.ranking, start=1):
            versus = c.across.get(loss, {}).get("accuracy")
            detail = f"; minus none {versus.text(1, signed=True)}" + (" (excludes 0)" if versus.excludes_zero() else " (includes 0)") if versus else ""
            lines.append(f"{place}. {loss}: {accuracy:.1f}{detail}")
        if not any(row.get("accuracy") and row["accuracy"].excludes_zero() for row in c.across.values()):
            lines += ["", "No loss differs from `none` in accuracy at 95% across seeds: this order is within noise."]
    return lines


def _error_bar(ax, x: float, interval: Interval, marker: str, color: str) -> None:
    ax.errorbar(x, interval.estimate, yerr=[[interval.estimate - interval.low], [interval.high - interval.estimate]], fmt=marker, capsize=3, color=color)


def plot_comparison(c: LossComparison, path: Path) -> Path:
    """Left: each judge's accuracy with its 95% interval; right: each loss minus none (per seed, and the
    across-seed mean with its t interval). The title says when a gate failed."""
    from cj2.eval.reporting.plots import pyplot, save_figure

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    names = list(c.judges)
    for x, name in enumerate(names):
        interval = c.judges[name]["intervals"].get("accuracy")
        if interval is not None:
            _error_bar(left, x, interval, "o", "tab:blue" if name in c.references else "black")
    left.axhline(50, color="grey", lw=0.8, ls="--")
    if not c.control:
        left.axhline(70, color="tab:red", lw=0.8, ls=":", label="none gate (70)")
        left.legend(fontsize=7, loc="lower right")
    left.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
    left.set_ylabel("accuracy % (95% interval)")
    left.set_ylim(0, 102)
    losses = list(c.across)
    for x, loss in enumerate(losses):
        rows = [row["accuracy"] for row in c.per_seed if row["loss"] == loss]
        for k, d in enumerate(rows):
            _error_bar(right, x - 0.3 + 0.3 * k / max(1, len(rows) - 1), d, "o", "black")
        mean = c.across[loss]["accuracy"]
        if not math.isnan(mean.low):  # an interval exists (two seeds or more)
            _error_bar(right, x + 0.2, mean, "s", "tab:blue")
    right.axhline(0, color="grey", lw=0.8)
    right.set_xticks(range(len(losses)), losses, fontsize=8)
    right.set_xlim(-0.6, len(losses) - 0.4)
    right.set_ylabel("accuracy minus none (points)")
    right.set_title("circles: each seed (paired bootstrap); square: mean over seeds (t)", fontsize=8)
    title = f"{c.set_name}" + (" (negative control)" if c.control else "")
    if c.failures:
        title += f": {len(c.failures)} gate(s) failed, no ranking"
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def write_comparison(c: LossComparison, out_dir: str | Path) -> dict[str, Path]:
    """``loss_comparison_<set>.md``, ``.json`` and ``.png`` in ``out_dir``, each written atomically."""
    from cj2.utils.atomic import atomic_write_text

    out_dir = Path(out_dir)
    paths = {kind: out_dir / f"loss_comparison_{c.set_name}.{kind}" for kind in ("md", "json", "png")}
    atomic_write_text(paths["md"], c.markdown())
    atomic_write_text(paths["json"], json.dumps(c.to_json(), indent=2) + "\n")
    plot_comparison(c, paths["png"])
    return paths
