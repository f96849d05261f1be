"""Kill-and-resume ends bitwise equal to an uninterrupted run; a truncated newest checkpoint is
skipped with a warning; W&B offline files exist, keep one run id and never hold a secret."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from safetensors.torch import load_file

from tests.dist import run_torchrun

WORKER = Path(__file__).with_name("resume_worker.py")
FAKE_SECRET = "fake-wandb-key-0123456789abcdef0123456789abcdef"


def final_weights(out_dir: Path):
    return [load_file(str(out_dir / f"rank{r}.safetensors")) for r in range(2)]


def assert_bitwise_equal(a, b):
    for ra, rb in zip(a, b, strict=False):
        assert ra.keys() == rb.keys()
        for name in ra:
            assert ra[name].equal(rb[name]), f"{name} differs after resume (max {(ra[name] - rb[name]).abs().max()})"


@pytest.mark.distributed
@pytest.mark.slow
def test_killed_runs_resume_bitwise_and_fall_back_from_a_truncated_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_API_KEY", FAKE_SECRET)
    monkeypatch.setenv("WANDB_SILENT", "true")
    data = tmp_path / "data"  # one small demo mixture, built before training (training never builds data)
    from cj2.data.job import build_mixture
    from tests.train.resume_worker import config

    build_mixture(config(str(tmp_path / "full"), str(data)), show_progress=False)

    full = tmp_path / "full"
    run_torchrun(WORKER, 2, [str(full), str(data), str(tmp_path / "w_full")], timeout=600)
    summary = json.loads((full / "summary.json").read_text())
    assert summary["steps"] == 6 and summary["tokens"] > 0 and summary["final"]["pg"] > 0
    assert summary["validation"]["val/verdict_accuracy"] >= 0

    killed = tmp_path / "killed"
    run_torchrun(WORKER, 2, [str(killed), str(data), str(tmp_path / "unused"), "5"], timeout=600)
    assert not (killed / "summary.json").exists()
    assert sorted(p.name for p in (killed / "checkpoints").iterdir() if not p.name.startswith(".")) == [
        "step_00000002",
        "step_00000004",
    ]
    truncated = tmp_path / "truncated"
    shutil.copytree(killed, truncated)
    victim = max((truncated / "checkpoints" / "step_00000004").glob("*.distcp"), key=lambda p: p.stat().st_size)
    with open(victim, "r+b") as f:
        f.truncate(victim.stat().st_size // 2)

    resumed_out = run_torchrun(WORKER, 2, [str(killed), str(data), str(tmp_path / "w_resumed")], timeout=600)
    assert "resumed from step 4" in resumed_out
    fallback_out = run_torchrun(WORKER, 2, [str(truncated), str(data), str(tmp_path / "w_fallback")], timeout=600)
    assert "unusable" in fallback_out and "step_00000004" in fallback_out and "resumed from step 2" in fallback_out

    expected = final_weights(tmp_path / "w_full")
    assert expected[0] and len(expected[0]) == len(final_weights(tmp_path / "w_resumed")[0])
    assert_bitwise_equal(final_weights(tmp_path / "w_resumed"), expected)
    assert_bitwise_equal(final_weights(tmp_path / "w_fallback"), expected)
    assert json.loads((killed / "summary.json").read_text())["tokens"] == summary["tokens"]

    # W&B: real offline run files; the resumed job continued the killed job's run id.
    run_id = (killed / "wandb_id").read_text().strip()
    attempts = sorted((killed / "wandb").glob("offline-run-*"))
    assert len(attempts) == 2 and all((a / f"run-{run_id}.wandb").is_file() for a in attempts)
    assert json.loads((killed / "summary.json").read_text())["wandb_run_id"] == run_id
    for root in (full, killed, truncated):
        for path in root.rglob("*"):
            if path.is_file():
                assert FAKE_SECRET.encode() not in path.read_bytes(), f"secret leaked into {path}"
    assert os.environ["WANDB_API_KEY"] == FAKE_SECRET  # the check above looked for a value that was set


EXPORT_WORKER = Path(__file__).with_name("export_worker.py")


@pytest.mark.distributed
@pytest.mark.slow
def test_an_exported_checkpoint_resumes_at_another_tensor_parallel_size(tmp_path):
    """A run with DP-sharded optimizer state, killed in step 5 at TP2 x DP1, continues at TP1 x DP2
    after launch/export_checkpoint.py's task, to the losses the TP2 continuation reaches.
    Catches: an export that drops the optimizer state or the trainer state (steps 5-6 diverge, or
    the run restarts at step 0), and an export saved DP-sharded (refused at TP1 like the original)."""
    from cj2.data.job import build_mixture
    from tests.train.resume_worker import config

    data = tmp_path / "data"
    build_mixture(config(str(tmp_path / "a"), str(data)), show_progress=False)
    killed, exported = tmp_path / "killed", tmp_path / "exported"
    run_torchrun(EXPORT_WORKER, 2, ["tp2", str(killed), str(data), "5"], timeout=600)  # checkpoints at steps 2 and 4
    reference = tmp_path / "reference"
    shutil.copytree(killed, reference)

    with pytest.raises(AssertionError, match="export_checkpoint"):  # DP-sharded state reshards along DP only
        run_torchrun(EXPORT_WORKER, 2, ["tp1", str(killed), str(data)], timeout=600)
    run_torchrun(EXPORT_WORKER, 2, ["export", str(killed), str(data), str(exported)], timeout=600)
    assert [p.name for p in (exported / "checkpoints").iterdir()] == ["step_00000004"]

    continued = run_torchrun(EXPORT_WORKER, 2, ["tp1", str(exported), str(data)], timeout=600)
    assert "resumed from step 4" in continued
    run_torchrun(EXPORT_WORKER, 2, ["tp2", str(reference), str(data)], timeout=600)
    at_tp1, at_tp2 = (json.loads((d / "summary.json").read_text()) for d in (exported, reference))
    assert at_tp1["steps"] == at_tp2["steps"] == 6 and at_tp1["tokens"] == at_tp2["tokens"]
    for part in ("loss", "sft", "pg"):
        assert at_tp1["final"][part] == pytest.approx(at_tp2["final"][part], rel=1e-4, abs=1e-6), part
