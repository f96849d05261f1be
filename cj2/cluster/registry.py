"""The jobs of a run: ``run_dir/slurm/jobs.jsonl``, one line per submitted SLURM job.

Written on the login node at submission, read by ``launch/cluster.py status|logs|cancel``: a run
dir is all a user needs to find its jobs and their logs again.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

JOBS_FILE = "jobs.jsonl"


def slurm_dir(run_dir: str | Path) -> Path:
    return Path(run_dir) / "slurm"


def record(run_dir: str | Path, task: str, job) -> dict[str, Any]:
    """Append one submitted submitit job (or array task) to the run's job list."""
    entry = {
        "task": task,
        "job_id": str(job.job_id),
        "submitted": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "stdout": str(job.paths.stdout),
        "stderr": str(job.paths.stderr),
    }
    path = slurm_dir(run_dir) / JOBS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    # One short line per append: concurrent submitters cannot interleave inside a line.
    with open(path, "a") as f:
        f.write(json.dumps(entry) + "\n")
    return entry


def jobs(run_dir: str | Path) -> list[dict[str, Any]]:
    path = slurm_dir(run_dir) / JOBS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
