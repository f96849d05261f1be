"""Build statistics: per component rows in / kept / rejected by reason / tokens, as JSON, a
printed table, and a plot of the token-length distribution."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from cj2.data.packed.quarantine import ComponentStats
from cj2.utils.atomic import atomic_path, atomic_write_text


def _plot_lengths(path: Path, components: dict[str, ComponentStats], seq_length: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    bins = min(64, max(seq_length // 16, 8))
    for name, stats in components.items():
        if stats.lengths:
            values, weights = zip(*sorted(stats.lengths.items()), strict=True)
            ax.hist(values, bins=bins, range=(0, seq_length), weights=weights, histtype="step", label=name)
    ax.axvline(seq_length, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("tokens per sample (prompt + judgment)")
    ax.set_ylabel("samples")
    ax.set_title("Sample length distribution")
    if any(stats.lengths for stats in components.values()):
        ax.legend(fontsize="small")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)


def _percentile(lengths: Counter, q: float) -> int:
    total, seen = sum(lengths.values()), 0
    for value in sorted(lengths):
        seen += lengths[value]
        if seen >= q * total:
            return value
    return 0


def _shares(counts: Counter) -> dict[str, dict[str, float]]:
    total = sum(counts.values())
    return {key: {"count": n, "share": round(n / total, 4)} for key, n in sorted(counts.items())} if total else {}


def write_stats(out_dir: Path, cfg, components: dict[str, ComponentStats], splits: dict[str, int], packed: dict, encoder: str) -> dict:
    """stats.json and lengths.png in ``out_dir``; returns the statistics."""
    per_component = {}
    for name, stats in components.items():
        entry = stats.as_dict()
        if stats.lengths:
            entry["length_p50"], entry["length_p99"], entry["length_max"] = _percentile(stats.lengths, 0.5), _percentile(stats.lengths, 0.99), max(stats.lengths)
        per_component[name] = entry
    kept = sum(s.kept for s in components.values())
    stats = {
        "mixture": cfg.data.name,
        "components": per_component,
        "rows_in": sum(s.rows_in for s in components.values()),
        "kept": kept,
        "rejected": sum(sum(s.rejected.values()) for s in components.values()),
        # Kept samples per verdict format (the output format a judge learns to write; "none": critiques
        # and G-SFT) and kept rows per language, each with its share: what JudgerBenchV2 asks for
        # ("winner": judgerbench_en / judgerbench_cn; about half of it Chinese).
        "formats": _shares(sum((s.formats for s in components.values()), Counter())),
        "languages": _shares(sum((s.languages for s in components.values()), Counter())),
        "eval_overlap": dict(sorted(sum((s.overlaps for s in components.values()), Counter()).items())),
        "splits": splits,
        "packed": packed,
        "encoder": encoder,  # tiktoken or tokenizers: which one produced the (same) ids, cj2.data.packed.encoder
    }
    atomic_write_text(out_dir / "stats.json", json.dumps(stats, indent=2))
    _plot_lengths(out_dir / "lengths.png", components, cfg.data.seq_length)
    return stats


def print_summary(stats: dict, out_dir: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"mixture {stats['mixture']}: {stats['splits']['train']} train / {stats['splits']['valid']} valid samples")
    for column in ("component", "rows in", "kept", "rejected (by reason)", "selected", "tokens", "verdict A share"):
        table.add_column(column, justify="left" if column.startswith(("component", "rejected")) else "right")
    for name, c in stats["components"].items():
        reasons = ", ".join(f"{r} {n}" for r, n in c["rejected"].items()) or "-"
        share = "-" if c.get("a_share") is None else f"{c['a_share']:.1%}"
        table.add_row(name, str(c["rows_in"]), str(c["kept"]), reasons, str(c["selected"]), f"{c['tokens']:,}", share)
    console = Console()
    console.print(table)
    for title, key in (("output formats (kept samples)", "formats"), ("languages (kept rows)", "languages")):
        console.print(f"{title}: " + (", ".join(f"{name} {v['share']:.1%}" for name, v in stats.get(key, {}).items()) or "-"))
    if stats.get("eval_overlap"):
        console.print("eval_overlap by source: " + ", ".join(f"{source} {n}" for source, n in stats["eval_overlap"].items()))
    console.print(f"written to {out_dir} (stats.json, lengths.png, quarantine.jsonl, train/ and valid/ packed shards)")
