"""Mutation testing (cosmic-ray) of the modules where a silent bug costs a user a run or a result.

For each module group: a scratch copy of the working tree (tracked and untracked, not ignored
files) is mutated one change at a time by cosmic-ray, and only that group's tests run against
each mutant (never the whole suite). A mutant is killed when the tests fail or time out.
The report (``<out>/report.md``, ``<out>/report.json``) lists killed/total per group and every
surviving mutant with file:line, operator and diff; ``<out>/<group>.sqlite`` are cosmic-ray's
sessions (``cr-report`` reads them). The working tree itself is never written to.

    python bench/mutate.py                        # every group (hours on 2 cores)
    python bench/mutate.py --groups verdicts eval_metrics --out outputs/mutation
    make mutate MUTATE_GROUPS="config preemption"

Survivors judged equivalent (no test could tell them apart) are listed in docs/testing.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Group:
    modules: tuple[str, ...]
    tests: tuple[str, ...]
    timeout_s: float = 120.0  # per mutant; a mutant that hangs the tests counts as killed
    marks: str = "not slurm"


# The tests that exercise each module (what a mutant there can break); torchrun tests included.
GROUPS: dict[str, Group] = {
    "losses": Group(("cj2/losses/verdict.py", "cj2/losses/vocab_parallel.py", "cj2/losses/objective.py"), ("tests/losses/test_losses.py", "tests/losses/test_loss_selection.py"), 300),
    "data_stream": Group(("cj2/data/packed/stream.py",), ("tests/data/test_stream_epochs.py", "tests/train/test_tokenize_pack.py", "tests/data/test_stream_denominators.py")),
    "packing": Group(("cj2/data/packed/packing.py",), ("tests/data/test_stream_epochs.py", "tests/train/test_tokenize_pack.py", "tests/data/test_packing_stats.py")),
    "checkpoints": Group(("cj2/train/checkpoint.py",), ("tests/train/test_checkpoint_files.py", "tests/train/test_checkpoint_pruning.py", "tests/train/test_resume.py"), 900),
    "preemption": Group(("cj2/cluster/preemption.py",), ("tests/cluster/test_preemption.py", "tests/cluster/test_preemption_ranks.py"), 200),
    "verdicts": Group(("cj2/verdicts/formats.py", "cj2/verdicts/base.py"), ("tests/verdicts",)),
    "config": Group(("cj2/config/validate.py",), ("tests/config/test_validate_boundaries.py", "tests/config/test_configs.py", "tests/config/test_validate_layout.py")),
    "eval_metrics": Group(
        ("cj2/eval/benchmarks/rmb/metric.py", "cj2/eval/core/pairwise_metric.py", "cj2/eval/benchmarks/judgerbenchv2/metric.py", "cj2/eval/benchmarks/rewardbench/metric.py"),
        ("tests/eval/test_rmb_bon.py", "tests/eval/test_pairwise_metric.py", "tests/eval/test_judgerbenchv2_metric.py",
         "tests/eval/test_judgerbenchv2_rescore.py", "tests/eval/test_official_protocol.py", "tests/eval/test_benchmarks_real_data.py",
         # tie_report and the position-bias report are exercised here (a partial run without them: 53 of 96 survived)
         "tests/eval/test_generic_pairwise_ties.py", "tests/eval/test_hooks.py", "tests/eval/test_pairwise_metric_edges.py"),
    ),
}


def copy_tree(dst: Path) -> None:
    names = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, names):
        src = REPO / name
        if src.is_file():
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / name)


def cosmic_ray(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("cosmic-ray")
    return subprocess.run([str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True)


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) of every type annotation: under ``from __future__ import annotations`` they are
    never evaluated, so a mutant inside one (``str | None`` -> ``str ** None``) is equivalent by construction."""
    spans = []
    for node in ast.walk(ast.parse(path.read_text())):
        found = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            found = [x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x is not None and x.annotation is not None]
            found += [node.returns] if node.returns is not None else []
        elif isinstance(node, ast.AnnAssign):
            found = [node.annotation]
        spans += [((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset)) for n in found]
    return spans


def prune(session: Path, module: Path, sample: int, seed: int) -> tuple[int, int]:
    """Drop the mutants inside annotations, then keep ``sample`` of the rest drawn uniformly at
    random (seeded; 0 keeps all). Returns (mutants, annotation mutants dropped).

    Mutant sampling (Acree 1980; Budd 1980): the killed share of a uniform sample estimates the
    module's score (the report gives a 95% Wilson interval) at a fraction of the cost."""
    import random
    import sqlite3

    spans = annotation_spans(module)
    with sqlite3.connect(session) as db:
        rows = db.execute("SELECT job_id, start_pos_row, start_pos_col FROM mutation_specs").fetchall()
        inert = {job for job, row, col in rows if any(start <= (row, col) < end for start, end in spans)}
        ids = sorted(job for job, _, _ in rows if job not in inert)
        keep = set(random.Random(seed).sample(ids, sample)) if 0 < sample < len(ids) else set(ids)
        dropped = [(job,) for job, _, _ in rows if job not in keep]
        db.executemany("DELETE FROM mutation_specs WHERE job_id = ?", dropped)
        db.executemany("DELETE FROM work_items WHERE job_id = ?", dropped)
    return len(ids), len(inert)


def run_module(module: str, group: Group, work: Path, out: Path, name: str, sample: int = 0, seed: int = 0) -> tuple[list[tuple[dict, dict | None]], int, int]:
    """Init and exec one cosmic-ray session for ``module`` (``sample`` > 0: that many random mutants);
    returns (work item, result) pairs, the module's number of mutants outside annotations, and inside."""
    tests = " ".join(group.tests)
    config = work / f"{name}.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f'module-path = "{module}"\n'
        f"timeout = {group.timeout_s}\n"
        "excluded-modules = []\n"
        # -x: the first failing test kills the mutant; no cache: mutants must not reorder tests.
        f'test-command = "{sys.executable} -m pytest -x -q -p no:cacheprovider -m \'{group.marks}\' {tests}"\n'
        '[cosmic-ray.distributor]\nname = "local"\n'
    )
    session = out / f"{name}.sqlite"
    session.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(work), "OMP_NUM_THREADS": "1"}
    for step in (("init", str(config), str(session)), ("baseline", str(config))):
        proc = cosmic_ray(*step, cwd=work, env=env)
        if proc.returncode != 0:
            raise SystemExit(f"cosmic-ray {step[0]} failed for {module} (the tests must pass unmutated):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        if step[0] == "init":
            mutants, inert = prune(session, work / module, sample, seed)
    proc = cosmic_ray("exec", str(config), str(session), cwd=work, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"cosmic-ray exec failed for {module}:\n{proc.stderr[-3000:]}")
    dump = cosmic_ray("dump", str(session), cwd=work, env=env).stdout
    return [tuple(json.loads(line)) for line in dump.splitlines() if line.strip()], mutants, inert


def wilson(killed: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a killed share (sampled mutants)."""
    if not total:
        return (0.0, 1.0)
    p = killed / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * ((p * (1 - p) / total + z * z / (4 * total * total)) ** 0.5) / (1 + z * z / total)
    return (max(0.0, centre - half), min(1.0, centre + half))


def summarize(name: str, module: str, pairs: list) -> dict:
    killed, survivors, incompetent = 0, [], 0
    for item, result in pairs:
        if result is None:
            continue
        if result.get("test_outcome") == "incompetent":
            incompetent += 1  # the mutant does not even import: not counted
            continue
        if result.get("test_outcome") == "killed":
            killed += 1
            continue
        m = item["mutations"][0]
        survivors.append({"where": f"{m['module_path']}:{m['start_pos'][0]}", "operator": m["operator_name"],
                          "occurrence": m["occurrence"], "function": m.get("definition_name"), "diff": "".join(result.get("diff") or "")})
    total = killed + len(survivors)
    return {"group": name, "module": module, "killed": killed, "total": total, "incompetent": incompetent,
            "score": killed / total if total else None, "survivors": survivors}


def write_report(out: Path, rows: list[dict]) -> None:
    (out / "report.json").write_text(json.dumps(rows, indent=2))
    lines = ["# Mutation report (cosmic-ray)", "", "mutants: outside type annotations (those inside one are never evaluated and not run).", "",
             "| group | module | killed / run | mutants | score |", "|---|---|---|---|---|"]
    for r in rows:
        score = f"{100 * r['score']:.1f}%" if r["score"] is not None else "-"
        mutants = r.get("mutants", r["total"])
        if r["total"] < mutants:  # a random sample: its 95% interval
            low, high = wilson(r["killed"], r["total"])
            score += f" (sample; 95% CI {100 * low:.0f}-{100 * high:.0f}%)"
        lines.append(f"| {r['group']} | {r['module']} | {r['killed']} / {r['total']} | {mutants} | {score} |")
    for r in rows:
        for s in r["survivors"]:
            lines += ["", f"## survived: {s['where']} ({s['operator']} #{s['occurrence']} in {s['function']})", "", "```diff", s["diff"].rstrip(), "```"]
    (out / "report.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", nargs="*", default=list(GROUPS), choices=list(GROUPS))
    parser.add_argument("--modules", nargs="*", help="only these module paths (within the chosen groups)")
    parser.add_argument("--out", type=Path, default=REPO / "outputs" / "mutation")
    parser.add_argument("--work", type=Path, default=None, help="scratch copy of the tree (default: <out>/tree)")
    parser.add_argument("--sample", type=int, default=0, help="run this many random mutants per module (0: all); the report gives a 95%% interval")
    parser.add_argument("--seed", type=int, default=0, help="seed of --sample")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    previous = out / "report.json"
    rows = {(r["group"], r["module"]): r for r in (json.loads(previous.read_text()) if previous.exists() else [])}
    for name in args.groups:
        group = GROUPS[name]
        for module in group.modules:
            if args.modules and module not in args.modules:
                continue
            work = (args.work or out / "tree").resolve()
            shutil.rmtree(work, ignore_errors=True)
            copy_tree(work)
            started = time.monotonic()
            tag = f"{name}-{Path(module).stem}"
            pairs, mutants, inert = run_module(module, group, work, out, tag, args.sample, args.seed)
            row = summarize(name, module, pairs)
            row["mutants"], row["annotation_mutants"] = mutants, inert
            row["seconds"] = round(time.monotonic() - started)
            rows[(name, module)] = row
            write_report(out, list(rows.values()))  # after every module: a long run reports as it goes
            print(f"{tag}: {row['killed']}/{row['total']} killed, {len(row['survivors'])} survived, {row['seconds']} s", flush=True)
    print(f"report: {out / 'report.md'}")


if __name__ == "__main__":
    main()
