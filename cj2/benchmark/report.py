"""The build's summary: ``report.json`` (every number), ``report.md`` (the same, readable) and plots
(scenario sizes, difficulty mix, judge agreement), each written atomically into ``{output_dir}/report/``."""

from __future__ import annotations

import json
from pathlib import Path

from cj2.utils.atomic import atomic_path, atomic_write_text

REPORT_DIR = "report"


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def markdown(report: dict) -> str:
    rows = report["rows"]
    lines = [
        "# Benchmark build",
        "",
        f"Queries: {rows['in']} rows in = {rows['kept']} kept + {rows['quarantined']} quarantined. "
        f"Base model `{report['base_model']}`; policies {', '.join(f'`{p}`' for p in report['policies'])}; "
        f"judges {', '.join(f'`{j}`' for j in report['judges'])}; tie rule `{report['tie_rule']}`"
        + (f" (arbiter `{report['arbiter']}`)" if report["arbiter"] else "")
        + ".",
        "",
        "## Scenarios",
        "",
        "| scenario | pool | selected | easy | medium | hard | unknown | en | cn | pairs | kept | by arbiter | dropped | policy wins | Fleiss kappa | mean pairwise agreement |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in report["scenarios"].items():
        d, lan, a = s["difficulty"], s["language"], s["agreement"]
        lines.append(
            f"| {name} | {s['pool']} | {s['selected']} | {d.get('easy', 0)} | {d.get('medium', 0)} | {d.get('hard', 0)} | {d.get('unknown', 0)} "
            f"| {lan.get('en', 0)} | {lan.get('cn', 0)} | {s['pairs']} | {s['kept']} | {s['by_arbiter']} | {s['dropped']} | {s['policy_wins']} "
            f"| {_fmt(a['fleiss_kappa'])} ({a['kappa_pairs']} pairs) | {_fmt(s['mean_pairwise_agreement'])} |"
        )
    lines += ["", "Pairs dropped per policy (each leaves that policy's denominator): "
              + (", ".join(f"`{m}` {n}" for m, n in report["dropped_by_model"].items()) or "-") + "."]
    lines += ["", "## Clusters", "", "| cluster | scenario | queries | top terms |", "|---|---|---|---|"]
    for c in report["clusters"]:
        lines.append(f"| {c['cluster']} | {c['scenario']} | {c['size']} | {', '.join(c['top_terms'])} |")
    lines += ["", "## Judges", "", "| judge | votes | unparsed | position consistency (all scenarios) |", "|---|---|---|---|"]
    for judge, j in report["judge_votes"].items():
        lines.append(f"| {judge} | {j['votes']} | {j['unparsed']} | {_fmt(j['position_consistency'])} |")
    lines += ["", "## Model calls", "", "| stage | calls | made this run | resumed | calls/s this run |", "|---|---|---|---|---|"]
    for stage, c in report["calls"].items():
        lines.append(f"| {stage} | {c['calls']} | {c['made_this_run']} | {c['resumed']} | {_fmt(c['calls_per_s'])} |")
    if report["notes"]:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in report["notes"]]
    return "\n".join(lines) + "\n"


def _save(fig, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")


def write_plots(report: dict, directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["scenarios"])
    scen = report["scenarios"]
    paths = []
    x = range(len(names))

    fig, ax = plt.subplots(figsize=(max(6, len(names) * 0.9), 4))
    width = 0.27
    for offset, key in ((-width, "pool"), (0, "selected"), (width, "kept")):
        ax.bar([i + offset for i in x], [scen[n][key] for n in names], width, label=key if key != "kept" else "labelled pairs kept")
    ax.set_xticks(list(x), names, rotation=30, ha="right")
    ax.set_ylabel("count")
    ax.set_title("Scenario sizes")
    ax.legend()
    paths.append(directory / "scenario_sizes.png")
    _save(fig, paths[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6, len(names) * 0.9), 4))
    bottom = [0] * len(names)
    for level in ("easy", "medium", "hard", "unknown"):
        heights = [scen[n]["difficulty"].get(level, 0) for n in names]
        ax.bar(list(x), heights, bottom=bottom, label=level)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_xticks(list(x), names, rotation=30, ha="right")
    ax.set_ylabel("selected queries")
    ax.set_title("Difficulty mix")
    ax.legend()
    paths.append(directory / "difficulty_mix.png")
    _save(fig, paths[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6, len(names) * 0.9), 4))
    kappa = [scen[n]["agreement"]["fleiss_kappa"] for n in names]
    mean_agreement = [scen[n]["mean_pairwise_agreement"] for n in names]
    ax.bar([i - 0.2 for i in x], [k if k is not None else 0 for k in kappa], 0.4, label="Fleiss' kappa")
    ax.bar([i + 0.2 for i in x], [a if a is not None else 0 for a in mean_agreement], 0.4, label="mean pairwise agreement")
    ax.set_xticks(list(x), names, rotation=30, ha="right")
    ax.set_ylim(min(0, *[k for k in kappa if k is not None], 0) - 0.05, 1.05)
    ax.set_title("Judge agreement per scenario (undefined shown as 0)")
    ax.legend()
    paths.append(directory / "judge_agreement.png")
    _save(fig, paths[-1])
    plt.close(fig)
    return paths


def write_report(output_dir: Path, report: dict, plots: bool) -> Path:
    directory = output_dir / REPORT_DIR
    atomic_write_text(directory / "report.json", json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(directory / "report.md", markdown(report))
    if plots:
        write_plots(report, directory)
    return directory
