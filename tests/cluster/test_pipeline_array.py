"""Job arrays and the afterok pipeline on the local cluster."""

from __future__ import annotations

import pytest

from cj2.cluster import status
from cj2.cluster.pipeline import submit_pipeline
from tests.cluster.helpers import result_of, slurm_config, wait_for_accounting

pytestmark = pytest.mark.slurm

T = "tests.cluster.tasks:"


def test_pipeline_runs_stages_in_order_with_a_sharded_sampling_array(slurm, tmp_path):
    run_dir = tmp_path / "run"
    cfg = slurm_config(run_dir, "sample.num_shards=2")
    stages = [("sample", T + "stage_sample"), ("build_data", T + "stage_build"), ("train", T + "stage_train"), ("eval", T + "stage_eval")]
    jobs = submit_pipeline(cfg, stages)
    assert [len(jobs[s]) for s in ("sample", "build_data", "train", "eval")] == [2, 1, 1, 1]
    assert result_of(jobs["eval"][0]) == "eval.done"
    # Each stage found its inputs, so each started only after the previous one succeeded.
    assert all((run_dir / p).exists() for p in ("samples/shard0.done", "samples/shard1.done", "data.done", "model.done", "eval.done"))
    assert len(status.status(run_dir)) == 5
    sample_array = jobs["sample"][0].job_id.split("_")[0]
    build_script = next((run_dir / "slurm").glob(f"{jobs['build_data'][0].job_id}_submission.sh")).read_text()
    assert f"#SBATCH --dependency=afterok:{sample_array}" in build_script
    assert "#SBATCH --array=0-1%2" in next((run_dir / "slurm").glob(f"{sample_array}_submission.sh")).read_text()


def test_a_failed_stage_cancels_the_rest(slurm, tmp_path):
    run_dir = tmp_path / "run"
    stages = [("sample", T + "stage_fail"), ("build_data", T + "stage_build"), ("train", T + "stage_train")]
    submit_pipeline(slurm_config(run_dir), stages)
    states = [r["state"].split()[0] for r in wait_for_accounting(run_dir)]
    assert states == ["FAILED", "CANCELLED", "CANCELLED"]
    assert not (run_dir / "data.done").exists()
