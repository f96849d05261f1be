"""The run's summary once every shard is done: acceptance per source and label, parse failures,
throughput, quarantine, a plot, and the accepted candidates as RFT training samples."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from cj2.sample.records import training_samples
from cj2.utils.atomic import atomic_path, atomic_write_text
from cj2.utils.jsonl import jsonl_records
from cj2.utils.shard_store import ShardStore, jsonl_sink


class ShardsPending(RuntimeError):
    """Some shards are not done yet (other array tasks are still sampling them)."""


def _group() -> dict[str, float]:
    return {"items": 0, "candidates": 0, "parsed": 0, "accepted": 0, "kept": 0, "zero_accepted_items": 0}


def summarize(output_dir: str, num_shards: int) -> dict[str, Any]:
    """Write summary.json, summary.png and accepted.jsonl under ``output_dir``; return the summary.

    Records are read and training samples written one at a time: a run's records never sit in memory.
    """
    stores = [ShardStore(output_dir, i, num_shards) for i in range(num_shards)]
    manifests = [store.manifest() for store in stores]
    missing = [i for i, m in enumerate(manifests) if m is None]
    if missing:
        raise ShardsPending(f"summary of {output_dir} waits for shards {missing}")
    groups: dict[str, dict[str, float]] = defaultdict(_group)
    quarantine_reasons: dict[str, int] = defaultdict(int)
    candidate_rejections: dict[str, int] = defaultdict(int)
    out = Path(output_dir)
    with jsonl_sink(out / "accepted.jsonl") as accepted:
        for store in stores:
            for record in jsonl_records(store.items_path):
                for key in (f"{record['source'] or '(none)'} / {record['label']}", "all"):
                    g = groups[key]
                    g["items"] += 1
                    g["candidates"] += len(record["candidates"])
                    g["parsed"] += record["num_parsed"]
                    g["accepted"] += record["num_accepted"]
                    g["kept"] += record["num_kept"]
                    g["zero_accepted_items"] += record["num_accepted"] == 0
                for candidate in record["candidates"]:
                    if candidate.get("rejected"):
                        candidate_rejections[candidate["rejected"]] += 1
                for sample in training_samples(record):
                    accepted.write(sample)
            for row in jsonl_records(store.quarantine_path):
                quarantine_reasons[row["kind"]] += 1
    for g in groups.values():
        g["acceptance_rate"] = g["accepted"] / g["candidates"] if g["candidates"] else 0.0
        g["parse_failure_rate"] = 1 - g["parsed"] / g["candidates"] if g["candidates"] else 0.0
        g["items_with_accepted_rate"] = 1 - g["zero_accepted_items"] / g["items"] if g["items"] else 0.0
    tokens = sum(m["completion_tokens"] for m in manifests)
    seconds = sum(m["gen_seconds"] for m in manifests)
    summary = {
        "shards": num_shards,
        "groups": dict(sorted(groups.items())),
        "quarantined": sum(m["quarantined"] for m in manifests),
        "quarantine_reasons": dict(sorted(quarantine_reasons.items())),
        # candidates not accepted, by reason: unparsed, wrong_verdict, cot_* (an incomplete CoT judgment)
        "candidate_rejections": dict(sorted(candidate_rejections.items())),
        "completion_tokens": tokens,
        "gen_seconds": seconds,
        # Summed over shards: per-task throughput; array tasks running at once add up beyond it.
        "tokens_per_s": tokens / seconds if seconds > 0 else None,
        "training_samples": accepted.lines,
    }
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2))
    plot_summary(summary, out / "summary.png")
    return summary


def plot_summary(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [k for k in summary["groups"] if k != "all"] + ["all"]
    acceptance = [summary["groups"][k]["acceptance_rate"] for k in names]
    parse_fail = [summary["groups"][k]["parse_failure_rate"] for k in names]
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(names) + 2), 4))
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], acceptance, width=0.4, label="acceptance (verdict == label)")
    ax.bar([i + 0.2 for i in x], parse_fail, width=0.4, label="parse failure")
    ax.set_xticks(list(x), names, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of candidates")
    tps = summary["tokens_per_s"]
    ax.set_title(f"rejection sampling: {summary['groups'].get('all', {}).get('items', 0)} items, {tps:.1f} tok/s" if tps else "rejection sampling")
    ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"{'source / label':<32} {'items':>7} {'cands':>7} {'accept':>7} {'parse-fail':>10} {'zero-acc':>8}"]
    for name, g in summary["groups"].items():
        lines.append(f"{name:<32} {g['items']:>7} {g['candidates']:>7} {g['acceptance_rate']:>7.1%} {g['parse_failure_rate']:>10.1%} {g['zero_accepted_items']:>8}")
    tps = summary["tokens_per_s"]
    lines.append(f"candidates not accepted: {summary['candidate_rejections'] or 0}")
    lines.append(f"quarantined rows: {summary['quarantined']} {summary['quarantine_reasons'] or ''}".rstrip())
    lines.append(f"generated tokens: {summary['completion_tokens']} in {summary['gen_seconds']:.1f} s ({tps:.1f} tok/s)" if tps else "generated tokens: 0")
    lines.append(f"training samples (kept candidates): {summary['training_samples']}")
    return "\n".join(lines)
