"""Evaluate the judges of a loss ablation (and their base model) on several sets; tabulate them.

The judges are the exported ``hf/`` checkpoints of a ``--multirun ... loss=...,... seed=...``
sweep, plus the base model; each is judged on every set of ``sets`` with the preset's eval
settings (template, parser, ``eval.swap``, ``eval.max_tokens``), one model load per judge. The
outputs are ordinary ``launch/eval.py`` outputs (``<out>/<judge>/eval_<set>.json`` with its
Markdown report and stored judgments, so a killed run resumes), and the table is built from
their headline numbers (``cj2.eval.reporting.compare.headline_numbers``):

    python -m cj2.eval.studies.ablation run  +exp=mini_ablation --sweep outputs/mini_ablation/sweep --out outputs/mini_ablation/eval
    python -m cj2.eval.studies.ablation table --out outputs/mini_ablation/eval

``--sets NAME=LIMIT,...`` picks the sets and how many items of each are judged (0: all);
``mini_heldout`` reads the preset's ``eval.data_file``, the others ``$CJ2_DATA`` (the files the
conf/eval presets describe). ``--seeds`` lists the seeds whose judges run each set:
``--sets-all-seeds`` names the sets every seed runs, the other sets run for the first seed only
(generation on CPU is the cost that decides what fits).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

from cj2.config.validate import LOSSES  # Table 4's order

# Out-of-family sets: conf/eval/<name>.yaml and the file under $CJ2_DATA it reads (../shared/data layout).
DATA_FILES = {"pandalm": "pandalm/testset-v1.json", "llmbar": "llmbar/natural.json", "judgebench": "judgebench/judgebench_gpt-4o.jsonl"}


def sweep_point(sweep: Path, loss: str, seed: int) -> Path:
    """The run dir of one sweep point (Hydra's override_dirname of ``+exp=... loss=L seed=S``)."""
    matches = sorted(p for p in sweep.glob("*") if p.is_dir() and f"loss={loss}" in p.name.split(",") and f"seed={seed}" in p.name.split(","))
    if len(matches) != 1:
        raise FileNotFoundError(f"{sweep}: expected one run dir for loss={loss} seed={seed}, found {[m.name for m in matches]}")
    return matches[0]


def judges(sweep: Path, base_model: str, seeds: Sequence[int], losses: Sequence[str] = LOSSES, only: Sequence[str] | None = None) -> dict[str, str]:
    """``{judge name: HF dir}``: ``base``, then ``<loss>-s<seed>`` for every trained point (``only``: these names)."""
    out = {"base": base_model} if not only or "base" in only else {}
    for seed in seeds:
        for loss in losses:
            if only and f"{loss}-s{seed}" not in only:
                continue
            hf = sweep_point(sweep, loss, seed) / "hf"
            if not (hf / "config.json").is_file():
                raise FileNotFoundError(f"{hf}: no exported judge (did the training of loss={loss} seed={seed} finish?)")
            out[f"{loss}-s{seed}"] = str(hf)
    return out


def parse_sets(text: str) -> dict[str, int]:
    sets = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, limit = part.partition("=")
        sets[name] = int(limit or 0)
    return sets


def eval_overrides(name: str, limit: int, model: str, run_dir: Path, data_dir: str) -> list[str]:
    from cj2.cluster.sweep_pipeline import quoted  # sweep dirs hold '=' and ','
    over = [f"eval={name}", f"eval.model={quoted(model)}", f"run_dir={quoted(run_dir)}", f"eval.limit={limit or 'null'}",
            f"eval.output={quoted(run_dir / f'eval_{name}.json')}"]
    if name in DATA_FILES:
        over.append(f"eval.data_file={quoted(Path(data_dir) / DATA_FILES[name])}")
    return over


def run(base_overrides: Sequence[str], sweep: Path, out: Path, sets: dict[str, int], seeds: Sequence[int], all_seed_sets: Sequence[str],
        base_model: str | None = None, only: Sequence[str] | None = None) -> None:
    """Judge every set with every judge; writes ``<out>/<judge>/timings.json`` (seconds per set, this run's judging)."""
    from cj2.config.compose import compose
    from cj2.eval.job import evaluate, write_outputs
    from cj2.eval.judging.stored_judging import LazyJudge

    base = base_model or compose(list(base_overrides)).model.hf_path
    data_dir = os.environ.get("CJ2_DATA", "data")
    if "mini_heldout" in sets and (not only or "rule-teacher" in only):
        # The reference row: the rule teacher itself judged on the held-out pairs (it should score 100%;
        # anything less is a bug in the pairs, the prompt layout or the scoring, not a finding about losses).
        teacher_key = compose(list(base_overrides)).sample.model
        cfg = compose([*base_overrides, *eval_overrides("mini_heldout", sets["mini_heldout"], teacher_key, out / "rule-teacher", data_dir), "eval.engine=rule"])
        write_outputs(cfg, evaluate(cfg))
    for judge, model in judges(sweep, base, seeds, only=only).items():
        first_seed = judge == "base" or judge.endswith(f"-s{seeds[0]}")
        wanted = {n: lim for n, lim in sets.items() if first_seed or n in all_seed_sets}
        engine = None
        # Per judge, so that processes judging different judges (--judges) never write one file.
        timings_path = out / judge / "timings.json"
        timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
        try:
            for name, limit in wanted.items():
                cfg = compose([*base_overrides, *eval_overrides(name, limit, model, out / judge, data_dir)])
                engine = engine or LazyJudge(cfg.eval)
                start = time.perf_counter()
                result = evaluate(cfg, judge=engine)
                write_outputs(cfg, result)
                timings[name] = round(time.perf_counter() - start, 1)
                _write_json(timings_path, timings)
                print(f"{judge} / {name}: {headline(result.metrics)}", flush=True)
        finally:
            if engine is not None:
                engine.close()


def verdict_counts(metrics: dict) -> tuple[int, int, int]:
    """(correct, parsed, judged) over every verdict of one eval output, an unparsed or missing one among the judged.

    From the counts, never from a benchmark's ``accuracy`` field: that one means different things
    (JudgerBenchV2's is the published accuracy over PARSED verdicts, averaged over scenarios).
    Pairwise outputs carry ``overall`` counts; JudgerBenchV2 outputs per-scenario ones.
    """
    overall = metrics.get("overall", {})
    if {"correct", "parsed", "judged"} <= overall.keys():
        return overall["correct"], overall["parsed"], overall["judged"]
    scenarios = metrics.get("scenarios", {})
    if scenarios and all({"correct", "parsed", "total"} <= s.keys() for s in scenarios.values()):
        return tuple(sum(s[k] for s in scenarios.values()) for k in ("correct", "parsed", "total"))
    raise ValueError(f"{metrics.get('benchmark')!r} output has no verdict counts (correct, parsed, judged): the ablation table needs them")


def headline(metrics: dict) -> dict:
    """The table's numbers of one eval output.

    ``accuracy``: correct over every judgment (both orders when ``eval.swap`` is on), an unparsed
    or missing verdict counted wrong (so a judge that states no verdict scores 0, not "n/a");
    ``accuracy_original``: ``cj2.eval.reporting.compare``'s headline accuracy, when the benchmark
    has one; ``swap consistency``: the share of items given the same winner in both orders (an
    unparsed verdict is inconsistent).
    """
    from cj2.eval.reporting.compare import headline_numbers

    numbers = headline_numbers(metrics)
    correct, parsed, judged = verdict_counts(metrics)
    out = {"accuracy": 100.0 * correct / judged if judged else 0.0, "accuracy_original": numbers.get("accuracy"), "parsed": parsed, "judged": judged}
    if "swap consistency" in numbers:
        out["swap consistency"] = numbers["swap consistency"]
    position = metrics.get("position", {})
    if "verdict_a_rate" in position:
        out["verdict A rate"] = position["verdict_a_rate"]  # of parsed verdicts; gold A rate is 50 on balanced sets
    return out


def collect(out: Path) -> dict[str, dict[str, dict]]:
    """``{judge: {set: headline}}`` from every ``<out>/<judge>/eval_<set>.json``."""
    table: dict[str, dict[str, dict]] = {}
    for path in sorted(out.glob("*/eval_*.json")):
        table.setdefault(path.parent.name, {})[path.stem.removeprefix("eval_")] = headline(json.loads(path.read_text()))
    return table


def _mean_spread(values: Sequence[float]) -> str:
    if not values:
        return "-"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.1f}"
    return f"{mean:.1f} ± {(max(values) - min(values)) / 2:.1f}"


def split_judge(judge: str) -> tuple[str, str | None]:
    """(group, seed) of a judge name: a pipeline sweep's ``loss=none,seed=1`` -> (``loss=none``, ``1``),
    ``none-s1`` -> (``none``, ``1``); a judge outside the sweep (``base``) is its own group, no seed."""
    parts = judge.split(",")
    seeds = [p.split("=", 1)[1] for p in parts if p.startswith("seed=")]
    if seeds:
        return ",".join(p for p in parts if not p.startswith("seed=")), seeds[0]
    group, sep, seed = judge.rpartition("-s")
    if sep and seed.isdigit():
        return group, seed
    return judge, None


def _group_order(group: str) -> tuple:
    """Losses in Table 4's order (``none`` ... ``margin``, also as ``loss=none``), then the rest by name."""
    loss = dict(p.split("=", 1) for p in group.split(",") if "=" in p).get("loss", group)
    return (LOSSES.index(loss) if loss in LOSSES else len(LOSSES), group)


def seeded_groups(table: dict[str, dict[str, dict]]) -> list[str]:
    """The groups whose judges differ only by seed (one loss of an ablation), in Table 4's order."""
    return sorted({g for g, seed in map(split_judge, table) if seed is not None}, key=_group_order)


def markdown(table: dict[str, dict[str, dict]]) -> str:
    """One table per set (every judge as measured), then per group (loss) the mean ± half-range over seeds."""
    sets = sorted({s for per in table.values() for s in per}, key=lambda s: (s != "mini_heldout", s))
    lines = []
    for s in sets:
        lines += [f"**{s}**", "", "| judge | acc | swap-cons | A-rate | parsed |", "|---|---:|---:|---:|---:|"]
        for judge in sorted(table, key=_judge_order):
            h = table[judge].get(s)
            if h:
                swap = f"{h['swap consistency']:.1f}" if "swap consistency" in h else "-"
                a_rate = f"{h['verdict A rate']:.0f}" if h.get("parsed") and "verdict A rate" in h else "-"
                lines.append(f"| {judge} | {h['accuracy']:.1f} | {swap} | {a_rate} | {h['parsed']}/{h['judged']} |")
        lines.append("")
    groups = seeded_groups(table)
    if groups:
        lines += ["| loss (acc, mean ± half-range over seeds) | " + " | ".join(sets) + " |", "|---|" + "---:|" * len(sets)]
        for group in groups:
            runs = {seed: per for j, per in table.items() for g, seed in [split_judge(j)] if g == group and seed is not None}
            cells = []
            for s in sets:
                seeds = sorted(seed for seed, per in runs.items() if s in per)
                values = [runs[seed][s]["accuracy"] for seed in seeds]
                cells.append(f"{_mean_spread(values)} (seeds {', '.join(seeds)})" if values else "-")
            lines.append(f"| {group} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _judge_order(judge: str) -> tuple:
    if judge == "base":
        return (0, (0, ""), "")
    if judge.startswith("rule"):
        return (2, (0, judge), "")
    group, seed = split_judge(judge)
    return (1, _group_order(group), seed or "")


def plot(table: dict[str, dict[str, dict]], path: Path) -> None:
    """Accuracy per set (bars: judges; a dot per seed, the bar their mean)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = sorted({s for per in table.values() for s in per}, key=lambda s: (s != "mini_heldout", s))
    groups = list(dict.fromkeys(split_judge(j)[0] for j in sorted(table, key=_judge_order)))  # a judge without seeds is its own group
    fig, ax = plt.subplots(figsize=(2.2 + 1.6 * len(sets), 3.6))
    width = 0.8 / len(groups)
    for g, group in enumerate(groups):
        runs = [per for j, per in table.items() if split_judge(j)[0] == group]
        for i, s in enumerate(sets):
            values = [per[s]["accuracy"] for per in runs if s in per]
            if not values:
                continue
            x = i + (g - (len(groups) - 1) / 2) * width
            ax.bar(x, sum(values) / len(values), width, color=f"C{g}", label=group if i == 0 else None)
            ax.scatter([x] * len(values), values, color="black", s=8, zorder=3)
    ax.axhline(50, color="grey", lw=0.8, ls="--")
    ax.set_xticks(range(len(sets)), sets)
    ax.set_ylabel("accuracy % (unparsed = wrong)")
    ax.set_title("bars: mean over seeds; dots: one run each", fontsize=8)
    ax.set_ylim(0, 100)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, ncol=len(groups))
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)


def write_table(out: Path) -> str:
    from cj2.utils.atomic import atomic_write_text

    table = collect(out)
    if not table:
        raise FileNotFoundError(f"{out}: no eval_*.json outputs (run `python -m cj2.eval.studies.ablation run` first)")
    text = markdown(table)
    atomic_write_text(out / "table.md", text)
    plot(table, out / "table.png")
    return text


def table_job(cfg) -> dict:
    """The ``compare`` task, a pipeline sweep's last stage: the table and plot of every evaluation in its compare dir."""
    from cj2.cluster.sweep_pipeline import compare_dir

    out = compare_dir(cfg)
    print(write_table(out), flush=True)
    return {"table": str(out / "table.md"), "plot": str(out / "table.png"), "judges": sorted(collect(out))}


def _write_json(path: Path, data) -> None:
    from cj2.utils.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="judge every set with the base model and every trained judge")
    r.add_argument("overrides", nargs="*", help="Hydra overrides of the training preset, e.g. +exp=mini_ablation")
    r.add_argument("--sweep", type=Path, required=True, help="the sweep dir holding one run dir per loss and seed")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--sets", default="mini_heldout=0,pandalm=3,llmbar=3,judgebench=1", help="NAME=LIMIT,... (0: every item)")
    r.add_argument("--seeds", default="1,2")
    r.add_argument("--sets-all-seeds", default="mini_heldout", help="sets judged by every seed's judges (the others: the first seed only)")
    r.add_argument("--base-model", default=None, help="default: the preset's model.hf_path")
    r.add_argument("--judges", default=None, help="only these judges, e.g. base,margin-s1 (default: all)")
    t = sub.add_parser("table", help="Markdown table and plot of every output under --out")
    t.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "run":
        seeds = [int(s) for s in args.seeds.split(",")]
        only = args.judges.split(",") if args.judges else None
        run(args.overrides, args.sweep, args.out, parse_sets(args.sets), seeds, args.sets_all_seeds.split(","), args.base_model, only)
    print(write_table(args.out))


if __name__ == "__main__":
    main()
