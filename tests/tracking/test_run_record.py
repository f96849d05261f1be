"""The run record: what ran, from which commit, with which config; appended on resume; no secrets."""

from __future__ import annotations

import json
import subprocess

import yaml
from omegaconf import OmegaConf

from cj2.config import compose, finalize
from cj2.tracking.run_record import REDACTED, note_attempt, redact, write_run_record


def test_record_written_and_extended_on_resume(tmp_path, repo_root):
    cfg = finalize(compose(["+exp=demo", f"run_dir={tmp_path}/run", "seed=7"]))
    write_run_record(cfg, "train")
    write_run_record(cfg, "train")  # a resumed attempt finds the same run dir and appends
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert len(record["attempts"]) == 2
    note_attempt(tmp_path / "run", attention_backend="sdpa")  # what the running attempt found out
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert "attention_backend" not in record["attempts"][0] and record["attempts"][1]["attention_backend"] == "sdpa"
    first = record["attempts"][0]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo_root, capture_output=True, text=True).stdout.strip()
    assert first["git"]["commit"] == (head or None)
    assert isinstance(first["git"]["dirty"], bool) or head == ""
    assert first["seed"] == 7 and first["task"] == "train"
    assert first["packages"]["omegaconf"] and first["argv"]
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["run_dir"] == f"{tmp_path}/run" and saved["model"]["name"] == "tiny"
    assert "${" not in (tmp_path / "run" / "config.yaml").read_text()  # fully resolved


def test_secrets_are_redacted(tmp_path, monkeypatch):
    secret = "wandb-secret-0123456789abcdef"
    monkeypatch.setenv("WANDB_API_KEY", secret)
    cfg = compose(["+exp=demo", f"run_dir={tmp_path}/run"])
    OmegaConf.set_struct(cfg, False)
    cfg.cluster.additional = {"export": "ALL", "api_key": secret}
    write_run_record(finalize(cfg), "train")
    for f in (tmp_path / "run").iterdir():
        assert secret not in f.read_text(), f.name
    assert redact({"a": {"WANDB_API_KEY": "x", "token": None, "n": 1}}) == {"a": {"WANDB_API_KEY": REDACTED, "token": None, "n": 1}}
