"""bench/gpu_check.sh --smoke: the whole GPU check on the CPU with tiny shapes, as on the bare image.

One run of the real script, under a Python that sees only the GPU image's packages plus the
wheelhouse (tests/bench/image_python.py): every check's imports (the model, the training step,
the collate and train-step benchmarks, and the whole training/evaluation path of the ``imports``
check) must resolve there. One check is made to die on purpose, and the script must report it and
go on to the next.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from tests.bench.image_python import make
from tests.bench.scripts import bench_script


def test_backends_take_half_precision_where_their_kernels_demand_it():
    """Catches: te / flash_attn built in fp32 (TE then finds no THD attention backend and flash-attn
    refuses fp32: the old gpu_check died there on every machine with TE)."""
    backend_dtype = bench_script("gpu_check.py").backend_dtype
    assert backend_dtype("te", "fp32") is torch.bfloat16 and backend_dtype("flash_attn", "fp32") is torch.bfloat16
    assert backend_dtype("sdpa", "fp32") is torch.float32 and backend_dtype("sdpa", "bf16") is torch.bfloat16


@pytest.mark.slow
def test_the_smoke_run_imports_only_the_image_and_wheelhouse_and_carries_on(tmp_path, repo_root):
    """Catches: a check importing a package the image lacks and the wheelhouse does not bring
    (e.g. wandb or datasets imported on the training path, or hydra dropped from the wheelhouse:
    the ``imports`` check names the module), a check that cannot run its tiny shapes on CPU, and
    ``set -e`` / ``pipefail`` abort semantics (collate_cost refused on purpose: train_step must
    still run and the summary must name the failure)."""
    wheelhouse = bench_script("offline/wheelhouse.py")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    wheelhouse.build(version)  # CI: the index once, then reused from wheelhouse/
    python, _ = make(tmp_path / "image", wheelhouse.wheelhouse_dir(version))
    env = {**os.environ, "PYTHON": str(python), "CJ2_RESULTS_DIR": str(tmp_path / "results"), "CJ2_GPU_CHECK_OUT": str(tmp_path / "gpu_check.out"), "CJ2_TEST_REFUSE_SCRIPT": "collate_cost.py", "OMP_NUM_THREADS": "1"}
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(["bash", "bench/gpu_check.sh", "--smoke"], cwd=repo_root, env=env, capture_output=True, text=True, timeout=1200)
    lines = [json.loads(line) for line in (tmp_path / "results" / "gpu_check.jsonl").read_text().splitlines()]
    by_check = {}
    for r in lines:
        by_check.setdefault(r["check"], []).append(r)
    context = proc.stdout[-4000:] + proc.stderr[-2000:]
    assert proc.returncode == 1, context
    assert by_check["dependencies"][0]["ok"] and by_check["env"][0]["ok"], context
    assert by_check["imports"][0] == {"check": "imports", "modules": 17, "presets": 3, "failed": {}, "ok": True}, context
    forward = {(r["backend"], r["dtype"]): r for r in by_check["packed_forward"]}
    assert forward[("sdpa", "fp32")]["ok"] and forward[("sdpa", "bf16")]["ok"], context
    assert forward[("sdpa", "fp32")]["cross_sample_control_diff"] > forward[("sdpa", "fp32")]["tolerance"]
    assert forward[("te", "bf16")]["ok"] is None and forward[("flash_attn", "bf16")]["ok"] is None  # no CUDA here
    assert by_check["host_sync"][0]["ok"] is None and by_check["host_sync"][0]["loss"] > 0
    assert by_check["collate_cost"] == [{"check": "collate_cost", "ok": False, "error": "exit status 3", "tail": ["refused on purpose: collate_cost.py"]}]
    assert by_check["train_step"][0]["ok"] and by_check["train_step"][0]["attention"] == "sdpa", context
    assert by_check["summary"][0]["ok"] is False and by_check["summary"][0]["failed"] == ["collate_cost"]
    log = (tmp_path / "gpu_check.out").read_text()
    assert log == (tmp_path / "results" / "gpu_check.out").read_text() and log.rstrip().endswith("GPU CHECK DONE")
