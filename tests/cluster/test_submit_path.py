"""The submit path without a cluster: sbatch options from the config, checks before submission, light imports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cj2.cluster.pipeline import STAGES, submit_pipeline
from cj2.cluster.slurm import sbatch_parameters
from cj2.config import ConfigError, compose, finalize, validate


def test_sbatch_options_come_from_the_cluster_config():
    cfg = finalize(compose(["+exp=margin_32b", "cluster.partition=gpu", "cluster.account=proj", "cluster.qos=high", "cluster.constraint=h100", "cluster.mem_gb=512", "+cluster.additional.exclusive=true"]))
    p = sbatch_parameters("train", cfg, "cj2-train-margin_32b")
    assert (p["nodes"], p["tasks_per_node"], p["gpus_per_node"], p["cpus_per_task"], p["mem_gb"], p["timeout_min"]) == (2, 8, 8, 12, 512, 1440)
    assert (p["slurm_partition"], p["slurm_account"], p["slurm_qos"], p["slurm_constraint"]) == ("gpu", "proj", "high", "h100")
    assert p["slurm_additional_parameters"] == {"exclusive": True}
    assert "--kill-on-bad-exit=1" in p["slurm_srun_args"]


def test_non_distributed_stages_run_one_process_per_job():
    cfg = finalize(compose(["+exp=margin_32b"]))
    p = sbatch_parameters("sample", cfg, "cj2-sample", dependency="afterok:12")
    assert (p["nodes"], p["tasks_per_node"], p["gpus_per_node"]) == (1, 1, 8)
    assert p["slurm_additional_parameters"] == {"mem": "0", "dependency": "afterok:12", "kill_on_invalid_dep": "yes"}


def test_mem_gb_0_asks_slurm_for_all_of_each_nodes_memory(tmp_path):
    """The GPU presets' ``mem_gb: 0`` reaches the sbatch script as ``--mem=0`` (submitit itself, with
    the local cluster's srun, writes the script). Catches: 0 dropped as falsy (the partition's
    default, e.g. DefMemPerCPU: an OOM kill at the first 32B save)."""
    import submitit

    p = sbatch_parameters("train", finalize(compose(["+exp=margin_32b"])), "x")
    assert "mem_gb" not in p and p["slurm_additional_parameters"]["mem"] == "0"
    executor = submitit.AutoExecutor(folder=str(tmp_path), cluster="slurm")
    executor.update_parameters(**p)
    script = executor._executor._make_submission_file_text("python -c pass", "uid")
    assert "#SBATCH --mem=0\n" in script and "--mem=0GB" not in script


def test_cpu_cluster_asks_for_no_gpus():
    p = sbatch_parameters("train", finalize(compose(["cluster=slurm_local"])), "x")
    assert "gpus_per_node" not in p and p["slurm_partition"] == "debug" and p["mem_gb"] == 1


def test_tasks_per_node_must_match_the_gpus():
    with pytest.raises(ConfigError, match="cluster.tasks_per_node"):
        validate(compose(["+exp=margin_32b", "cluster.tasks_per_node=1"]))


def test_pipeline_validates_every_stage_before_submitting(tmp_path):
    cfg = finalize(compose(["cluster=slurm_local", f"run_dir={tmp_path}", "data.components.arithmetic.kind=pairwise", "data.components.arithmetic.path=/nonexistent.jsonl"]))
    with pytest.raises(ConfigError, match=r"\[build_data\] data.components.arithmetic.path"):
        submit_pipeline(cfg, STAGES)
    assert not (tmp_path / "slurm").exists()


def test_submit_path_imports_nothing_heavy():
    code = (
        "import sys, cj2.cluster.launch, cj2.cluster.slurm, cj2.cluster.pipeline, cj2.cluster.sweep, cj2.cluster.status;"
        "from cj2.config import compose, finalize, validate; cfg = finalize(compose(['+exp=margin_32b'])); validate(cfg);"
        "cj2.cluster.slurm.sbatch_parameters('train', cfg, 'x');"
        "print(sorted(m for m in ('torch', 'megatron', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
