"""Fixtures for the judge service tests: real small models, and real HTTP servers as subprocesses."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import torch

from tests.dist import free_port
from tests.sample.conftest import smollm2_dir, smollm2_gguf, tiny_qwen2_dir  # noqa: F401  (session fixtures: the same real models)

START_S = 300  # bound on waiting for /health: imports alone take minutes on a saturated 2-core machine
# One thread per server: on a shared 2-core machine two threads per process make every step slower.
SERVER_ENV = {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRL_EXPERIMENTAL_SILENCE": "1"}


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, start_s: float = START_S) -> None:
    """Poll ``url`` until it answers 200 (bounded); fail with the log's tail if the process ends first."""
    deadline = time.monotonic() + start_s
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode} before it was healthy:\n{log.read_text()[-4000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=5).status_code == 200:
                return
        if time.monotonic() > deadline:
            pytest.fail(f"{url} not healthy after {start_s} s:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)  # polling interval of the bounded wait


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM by pid, then wait; uvicorn re-raises the signal, so a clean stop is rc 0 or -15."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=30)
        raise


@dataclasses.dataclass
class Server:
    url: str  # http://127.0.0.1:PORT
    proc: subprocess.Popen
    log: Path


@contextlib.contextmanager
def running(cmd: list[str], log: Path, health_path: str, port: int, cwd: Path | None = None):
    """Run ``cmd`` (a server on 127.0.0.1:``port``) until the context ends (unless stopped before); yields a :class:`Server`."""
    env = {**os.environ, **SERVER_ENV, "PYTHONPATH": f"{Path(__file__).resolve().parents[2]}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url + health_path, proc, log)
        yield Server(url, proc, log)
    finally:
        if proc.poll() is None:
            rc = stop(proc)
            assert rc in (0, -signal.SIGTERM), f"the server stopped with {rc}:\n{log.read_text()[-3000:]}"


def serve_judge(repo_root: Path, work: Path, judge: str, *overrides: str):
    """``launch/serve_judge.py`` on a free port, as a context manager yielding its :class:`Server`."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "launch/serve_judge.py", f"judge={judge}", f"port={port}", f"run_dir={work}", *overrides]
    return running(cmd, work / "serve_judge.log", "/health", port, cwd=repo_root)


def transformers_serve(model_dir: Path, log: Path, port: int):
    """``transformers serve`` (a real OpenAI-compatible server) on ``port``."""
    cmd = [str(Path(sys.executable).with_name("transformers")), "serve", str(model_dir), "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    return running(cmd, log, "/health", port)


def reference_probabilities(model, tokenizer, messages: list[dict], verdict_format: str, text: str) -> dict[str, float]:
    """P(label) at the verdict token of ``text`` answering ``messages``, from one unpadded transformers forward."""
    from cj2.judge.verdict_site import locate

    site, note = locate(tokenizer, verdict_format, text)
    assert site is not None, note
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    ids = tokenizer(prompt, add_special_tokens=False).input_ids + site.prefix
    with torch.inference_mode():
        logits = model(torch.tensor([ids])).logits[0, -1]
    return dict(zip(site.tokens, torch.softmax(logits[list(site.tokens.values())], -1).tolist(), strict=True))
