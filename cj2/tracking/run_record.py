"""The record every run leaves in its run dir: what ran, from which code, with what config.

``run.json`` holds the git commit and dirty flag, the command line, package versions, the seed
and one entry per attempt (a resumed or requeued job appends, never overwrites; what the attempt
found out once running is added to its entry: the attention backend that ran, the hosts of a
distributed task and each rank's host and socket interface);
``config.yaml`` holds the resolved config. Secrets never reach either file.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from cj2.utils.atomic import atomic_write_text

PACKAGES = ("cj2", "torch", "megatron-core", "transformers", "datasets", "hydra-core", "omegaconf", "submitit", "wandb", "safetensors", "numpy")
SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password)", re.IGNORECASE)
REDACTED = "<redacted>"


def redact(obj: Any) -> Any:
    """A copy of a plain config container with every secret-looking key's value hidden."""
    if isinstance(obj, dict):
        return {k: (REDACTED if SECRET_KEY.search(str(k)) and v not in (None, "") else redact(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [redact(v) for v in obj]
    return obj


def git_state(cwd: Path) -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit or None, "dirty": dirty if commit else None}


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def plain_config(cfg: DictConfig) -> dict[str, Any]:
    return redact(OmegaConf.to_container(cfg, resolve=True))


def write_run_record(cfg: DictConfig, task: str) -> Path:
    """Write (or extend) ``run.json`` and ``config.yaml`` in the run dir; returns the run dir."""
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    record_path = run_dir / "run.json"
    record = json.loads(record_path.read_text()) if record_path.exists() else {"attempts": []}
    record["attempts"].append(
        {
            "task": task,
            "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "argv": [sys.executable, *sys.argv],
            "host": socket.gethostname(),
            "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
            "git": git_state(Path(__file__).resolve().parents[2]),
            "packages": package_versions(),
            "seed": cfg.seed,
        }
    )
    atomic_write_text(record_path, json.dumps(record, indent=2))
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(OmegaConf.create(plain_config(cfg))))
    return run_dir


def note_attempt(run_dir, **facts: Any) -> None:
    """Add ``facts`` to the newest attempt of ``run_dir``'s run.json (written at launch); a run
    started without one (the Python API) keeps none."""
    record_path = Path(run_dir) / "run.json"
    if not record_path.exists():
        return
    record = json.loads(record_path.read_text())
    if not record["attempts"]:
        return
    record["attempts"][-1].update(facts)
    atomic_write_text(record_path, json.dumps(record, indent=2))
