"""A pipeline sweep on the local cluster, every stage the real task: one shared build -> one training
per loss (an array) -> each judge evaluated -> the comparison table; a killed training resumed by
rerunning the same command, which skips the work that finished."""

from __future__ import annotations

import json
import subprocess

import pytest

from cj2.cluster.pipeline import STAGES
from cj2.cluster.sweep_pipeline import submit_sweep
from tests.cluster.helpers import result_of, wait_for_accounting, wait_until
from tests.cluster.test_pipeline_real_stages import pandalm_rows
from tests.data.helpers import read_jsonl

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

STAGES_RUN = [s for s in STAGES if s[0] in ("build_data", "train", "eval", "compare")]


def test_sweep_builds_once_trains_each_point_compares_and_resumes_a_killed_training(slurm, tmp_path):
    """Catches: the afterok chain broken (evaluations starting before their judge exists, or the
    table before the evaluations), a build per point, a killed stage not resumed by a rerun, and a
    rerun that redoes finished work (the build and the finished training submitted again).
    The training of the second point is cancelled while it waits for the first (one at a time)."""
    sweep_dir = tmp_path / "sweep"
    pandalm_rows(tmp_path / "pandalm.jsonl")
    overrides = ["+exp=demo", "cluster=slurm_local", f"run_dir={sweep_dir}", "loss=none,margin", f"data.output_dir={tmp_path / 'data'}",
                 "cluster.array_parallelism=1", "cluster.mem_gb=4", "cluster.time_min=10", "train.max_steps=2", "train.eval_interval=0",
                 "train.save_interval=2", "eval.max_tokens=8", "eval.progress=false", "+compare.sets.pandalm=0",
                 f"+compare.data_files.pandalm={tmp_path / 'pandalm.jsonl'}"]
    jobs = submit_sweep(overrides, STAGES_RUN)
    assert [len(jobs[s]) for s in ("build_data", "train", "eval", "compare")] == [1, 2, 2, 1]
    subprocess.run(["scancel", str(jobs["train"][1].job_id)], check=True)  # pending behind the first training
    wait_until(jobs["compare"][0].done, what="the first submission to end", timeout_s=600)
    states = {r["job_id"]: r["state"].split()[0] for r in wait_for_accounting(sweep_dir)}
    assert [states[str(j.job_id)] for s in ("build_data", "train", "eval", "compare") for j in jobs[s]] == [
        "COMPLETED", "COMPLETED", "ENDED", "CANCELLED", "CANCELLED", "CANCELLED"]
    first_run = sweep_dir / "loss=none"
    trained_once = (first_run / "summary.json").read_text()

    again = submit_sweep(overrides, STAGES_RUN)  # the same command: resume
    assert [len(again[s]) for s in ("build_data", "train", "eval", "compare")] == [0, 1, 2, 1]
    table = result_of(again["compare"][0], timeout_s=600)
    assert table["judges"] == ["loss=margin", "loss=none"]
    assert (first_run / "summary.json").read_text() == trained_once  # not retrained
    for point, loss in (("loss=none", "none"), ("loss=margin", "margin")):
        summary = json.loads((sweep_dir / point / "summary.json").read_text())
        assert (summary["steps"], summary["loss"]) == (2, loss)
        assert len(read_jsonl(sweep_dir / "compare" / point / "predictions_pandalm.jsonl")) == 4
    text = (sweep_dir / "compare" / "table.md").read_text()
    assert "| loss=none | " in text and "| loss=margin | " in text and (sweep_dir / "compare" / "table.png").is_file()
    assert all(r["state"].startswith(("COMPLETED", "CANCELLED", "ENDED")) for r in wait_for_accounting(sweep_dir))
