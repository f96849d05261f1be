"""Pictures of an evaluation: per-scenario bars, verdict confusion, position bias (Agg backend)."""

from __future__ import annotations

from pathlib import Path

from cj2.eval.core.pairwise_metric import UNPARSED, position_bias, verdict_confusion
from cj2.eval.core.result import EvalResult
from cj2.utils.atomic import atomic_path


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> Path:
    """Write ``fig`` as PNG atomically (a reader never sees half a picture), then close it."""
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    finally:
        pyplot().close(fig)
    return path


def group_bars(result: EvalResult, path: Path) -> Path:
    plt = pyplot()
    names = list(result.group_scores)
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(names)), 4))
    ax.bar(names, [result.group_scores[n] for n in names], color="tab:blue")
    ax.axhline(result.headline, color="tab:red", linestyle="--", label=f"{result.headline_name} {result.headline:.2f}")
    ax.set_ylabel(result.headline_name)
    ax.set_title(f"{result.benchmark}: per group")
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    return save_figure(fig, path)


def confusion_plot(result: EvalResult, path: Path) -> Path:
    plt = pyplot()
    table = verdict_confusion(result.judgments)
    golds = sorted(table)
    verdicts: list[str] = sorted({v for row in table.values() for v in row if v != UNPARSED}) + [UNPARSED]
    counts = [[table[g].get(v, 0) for v in verdicts] for g in golds]
    fig, ax = plt.subplots(figsize=(1.2 * len(verdicts) + 2, 1.0 * len(golds) + 1.5))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(verdicts)), labels=verdicts)
    ax.set_yticks(range(len(golds)), labels=golds)
    ax.set_xlabel("judge verdict (as presented)")
    ax.set_ylabel("gold (as presented)")
    for i, row in enumerate(counts):
        for j, value in enumerate(row):
            ax.text(j, i, str(value), ha="center", va="center")
    ax.set_title(f"{result.benchmark}: verdict confusion")
    return save_figure(fig, path)


def position_bias_plot(result: EvalResult, path: Path) -> Path:
    plt = pyplot()
    bias = position_bias(result.judgments)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.5))
    left.bar(["judge says A", "A is better"], [bias["verdict_a_rate"], bias["gold_a_rate"]], color=["tab:orange", "tab:gray"])
    left.set_ylim(0, 100)
    left.set_ylabel("% of items")
    right.bar(["gold A", "gold B"], [bias["accuracy_gold_a"], bias["accuracy_gold_b"]], color="tab:green")
    right.set_ylim(0, 100)
    right.set_ylabel("accuracy %")
    fig.suptitle(f"{result.benchmark}: position bias")
    return save_figure(fig, path)


def write_plots(result: EvalResult, out_dir: Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    paths = {"groups": group_bars(result, out_dir / f"{result.benchmark}_groups.png")}
    if result.judgments:
        paths["confusion"] = confusion_plot(result, out_dir / f"{result.benchmark}_confusion.png")
        paths["position_bias"] = position_bias_plot(result, out_dir / f"{result.benchmark}_position_bias.png")
    return paths
