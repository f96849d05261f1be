"""``status``, ``logs`` and ``cancel`` for the SLURM jobs of a run (found in its registry)."""

from __future__ import annotations

import subprocess
from collections import deque
from pathlib import Path

from cj2.cluster import registry

FINISHED = ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL", "DEADLINE", "ENDED")


def _run(cmd: list[str]) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:2])} failed: {out.stderr.strip()}")
    return out.stdout


def job_states(job_ids: list[str]) -> dict[str, dict[str, str]]:
    """State, exit code, elapsed time and node list per job id, from ``sacct`` (pending reason from ``squeue``)."""
    if not job_ids:
        return {}
    try:
        out = _run(["sacct", "-X", "-n", "-P", "-o", "JobID,State,ExitCode,Elapsed,NodeList", "-j", ",".join(job_ids)])
    except RuntimeError:
        return _from_squeue(job_ids)  # a cluster without accounting: only live jobs are known
    states: dict[str, dict[str, str]] = {}
    for line in out.splitlines():
        jid, state, exit_code, elapsed, nodes = line.split("|")
        states[jid] = {"state": state, "exit_code": exit_code, "elapsed": elapsed, "nodes": nodes, "reason": ""}
    missing = [j for j in job_ids if j not in states and "_" in j]
    if missing:
        # Array tasks that never started are accounted as one row for the whole range ("123_[0-2%1]").
        out = _run(["sacct", "-X", "-n", "-P", "-o", "JobID,State,ExitCode,Elapsed,NodeList", "-j", ",".join(sorted({j.split("_")[0] for j in missing}))])
        for line in out.splitlines():
            jid, state, exit_code, elapsed, nodes = line.split("|")
            for task in array_tasks(jid):
                if task in missing:
                    states[task] = {"state": state, "exit_code": exit_code, "elapsed": elapsed, "nodes": nodes, "reason": ""}
    gone = [j for j in job_ids if j not in states]
    live = _from_squeue(gone)
    for jid in gone:
        # In neither sacct nor squeue: e.g. an array task cancelled before it started leaves no record.
        states[jid] = live.get(jid) or {"state": "ENDED", "exit_code": "", "elapsed": "", "nodes": "", "reason": "no accounting record (cancelled before it started?)"}
    pending = [j for j, s in states.items() if s["state"] == "PENDING"]
    for jid, live in _from_squeue(pending).items():
        if jid in states:
            states[jid]["reason"] = live["reason"]
    return states


def array_tasks(job_id: str) -> list[str]:
    """The task ids a sacct/squeue row stands for: ``123_[0-2,5%1]`` -> 123_0 123_1 123_2 123_5; ``123_4`` -> itself."""
    base, sep, rest = job_id.partition("_[")
    if not sep:
        return [job_id]
    out = []
    for part in rest.rstrip("]").split("%")[0].split(","):
        first, _, last = part.partition("-")
        out += [f"{base}_{i}" for i in range(int(first), int(last or first) + 1)]
    return out


def _from_squeue(job_ids: list[str]) -> dict[str, dict[str, str]]:
    if not job_ids:
        return {}
    try:
        out = _run(["squeue", "-h", "-o", "%i|%T|%M|%N|%r", "-j", ",".join(job_ids)])
    except RuntimeError:
        return {}  # squeue rejects ids that left the controller's memory
    states = {}
    for line in out.splitlines():
        jid, state, elapsed, nodes, reason = line.split("|", 4)
        states[jid] = {"state": state, "exit_code": "", "elapsed": elapsed, "nodes": nodes, "reason": reason}
    return states


def status(run_dir: str | Path) -> list[dict[str, str]]:
    entries = registry.jobs(run_dir)
    states = job_states([e["job_id"] for e in entries])
    unknown = {"state": "UNKNOWN", "exit_code": "", "elapsed": "", "nodes": "", "reason": "not in accounting yet"}
    return [{**e, **states.get(e["job_id"], unknown)} for e in entries]


def format_status(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "no SLURM jobs recorded for this run"
    lines = [f"{'JOB':<12} {'TASK':<14} {'STATE':<22} {'EXIT':<6} {'ELAPSED':<10} REASON/NODES"]
    for r in rows:
        lines.append(f"{r['job_id']:<12} {r['task'].split(':')[-1]:<14} {r['state']:<22} {r['exit_code']:<6} {r['elapsed']:<10} {r['reason'] or r['nodes']}")
    return "\n".join(lines)


def tail(path: str | Path, lines: int) -> str:
    p = Path(path)
    if not p.exists():
        return f"(no log yet at {p})\n"
    with open(p, errors="replace") as f:
        return "".join(deque(f, maxlen=lines))


def log_files(entry: dict[str, str]) -> list[Path]:
    """Every task's stdout and stderr of one job (``<id>_<task>_log.out/err``), task 0 first."""
    first = Path(entry["stdout"])
    files = sorted(first.parent.glob(f"{entry['job_id']}_*_log.*"), key=lambda p: (p.name.count("_"), p.name))
    return files or [first, Path(entry["stderr"])]


def logs(run_dir: str | Path, job_id: str | None = None, lines: int = 40) -> str:
    """The tail of every task's stdout and stderr for each job (or one ``job_id``); the last job first."""
    entries = [e for e in registry.jobs(run_dir) if job_id in (None, e["job_id"])]
    parts = [f"==> job {e['job_id']} ({e['task']}): {path}\n{tail(path, lines)}" for e in reversed(entries) for path in log_files(e)]
    return "\n".join(parts) if parts else "no SLURM jobs recorded for this run"


def cancel(run_dir: str | Path) -> list[str]:
    """``scancel`` every job of the run that has not finished; returns the ids cancelled."""
    rows = status(run_dir)
    live = [r["job_id"] for r in rows if not r["state"].startswith(FINISHED)]
    if live:
        _run(["scancel", *live])
    return live
