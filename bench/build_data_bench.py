"""Rows/s of a mixture build against a naive per-row ``datasets.map`` baseline, in one run.

  python bench/build_data_bench.py [--rows 100000] [--workers 2]
  python bench/build_data_bench.py --rows 1000000 --memory-only   # flat memory at scale, no baseline

Writes a synthetic pairwise JSONL (``--rows`` rows, ~80-word responses), then times:
  cj2       cj2.data.job.build_mixture end to end: load, field mapping, position debiasing,
            cj2_short template, tokenization in batches over worker processes (ids, loss mask,
            verdict token), dedup, weights, seeded shuffle, split, quarantine, stats, and
            packing into the shards the trainer reads
  baseline  datasets.load_dataset("json") + Dataset.map with a per-row function doing the same
            mapping and template and tokenizing through the tokenizer's API (chat template ids,
            judgment ids with offsets, the flipped judgment for y-), then writing the JSONL;
            it does not pack, so it does less work than cj2
Prints rows/s for both and their ratio (target: >= 3x). Then, each in a fresh child process,
the peak RSS of cj2 builds of rows/10 and rows: streaming means it should barely grow.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import tempfile
import time
from pathlib import Path

WORDS = "the model answer explains each step and checks the result against the question carefully".split()


def write_rows(path: Path, rows: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(rows):
            answer = lambda: " ".join(rng.choice(WORDS) for _ in range(80))  # noqa: E731
            f.write(json.dumps({"question": f"Question {i}: {' '.join(rng.choice(WORDS) for _ in range(20))}?",
                                "response_a": answer(), "response_b": answer(), "label": rng.choice("AB")}) + "\n")


def run_cj2(path: Path, out: Path, workers: int) -> float:
    from omegaconf import OmegaConf

    from cj2.config.compose import compose
    from cj2.config.schema import DataComponentConfig
    from cj2.data.job import build_mixture

    cfg = compose(["data=pairwise_public", f"data.output_dir={out}", f"data.num_workers={workers}", "data.chunk_size=1024"])
    component = OmegaConf.merge(OmegaConf.structured(DataComponentConfig), {"kind": "pairwise", "path": str(path), "template": "cj2_short"})
    cfg.data.components = {"synthetic": component}
    start = time.perf_counter()
    build_mixture(cfg, show_progress=False)
    return time.perf_counter() - start


def run_baseline(path: Path, out: Path) -> float:
    import datasets

    from cj2.config.schema import DataComponentConfig
    from cj2.data.curation.render import to_sample
    from cj2.data.packed.encoder import token_at
    from cj2.data.packed.tokenize import verdict_site, verdict_token
    from cj2.data.packed.tokenizer import load_tokenizer
    from cj2.data.sources.loaders import row_to_example
    from cj2.data.templates import get_template

    datasets.disable_progress_bars()
    tokenizer = load_tokenizer("qwen2.5")
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    template = get_template("cj2_short")
    component = DataComponentConfig(kind="pairwise", path=str(path), template="cj2_short")  # plain: no OmegaConf cost per row
    start = time.perf_counter()
    ds = datasets.load_dataset("json", data_files=str(path), split="train")

    def per_row(row, index):
        sample = to_sample(row_to_example(component, "synthetic", str(path), index + 1, row), template)
        prompt = tokenizer.apply_chat_template(sample.messages, add_generation_prompt=True, tokenize=True)["input_ids"]
        target = tokenizer(sample.target, add_special_tokens=False, return_offsets_mapping=True)
        verdict = -1
        site, _ = verdict_site(sample.target, sample.verdict_format, sample.verdict)
        if site is not None:
            flipped = tokenizer(sample.target[: site[0]] + site[2] + sample.target[site[1] :], add_special_tokens=False)["input_ids"]
            located, _ = verdict_token(target["input_ids"], token_at(target["offset_mapping"], site[0]), flipped)
            verdict = len(prompt) + located[0] if located else -1
        ids = [*prompt, *target["input_ids"], end_of_turn]
        return {"sample": json.dumps(sample.to_dict()), "input_ids": ids, "prompt_tokens": len(prompt), "verdict": verdict}

    mapped = ds.map(per_row, with_indices=True, remove_columns=ds.column_names, load_from_cache_file=False)
    with open(out, "w", encoding="utf-8") as f:
        for sample in mapped["sample"]:
            f.write(sample + "\n")
    return time.perf_counter() - start


def _cj2_child(path: Path, out: Path, workers: int, peaks) -> None:
    run_cj2(path, out, workers)
    peaks.put(max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)) / 1024)


def peak_rss_mib(path: Path, out: Path, workers: int) -> float:
    """The peak RSS of the largest process (the build or one of its workers) of a cj2 build run in a fresh process."""
    context = multiprocessing.get_context("spawn")
    peaks = context.Queue()
    child = context.Process(target=_cj2_child, args=(path, out, workers, peaks))
    child.start()
    peak = peaks.get()
    child.join()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-only", action="store_true", help="only the peak RSS at rows/10 and rows (the speed baseline takes ~25 min at 1M rows)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_rows(tmp / "rows.jsonl", args.rows)
        from cj2.data.packed.tokenizer import load_tokenizer

        load_tokenizer("qwen2.5")  # warm the import and the file cache for both contenders
        if not args.memory_only:
            compare_speed(tmp, args)
        if not args.skip_memory:
            small = tmp / "small.jsonl"
            write_rows(small, args.rows // 10)
            small_mib = peak_rss_mib(small, tmp / "mem-small", args.workers)
            large_mib = peak_rss_mib(tmp / "rows.jsonl", tmp / "mem-large", args.workers)
            print(f"peak RSS of a cj2 build: {small_mib:.0f} MiB at {args.rows // 10} rows, {large_mib:.0f} MiB at {args.rows} rows ({large_mib / small_mib:.2f}x for 10x the rows)")


def compare_speed(tmp: Path, args) -> None:
    cj2_s = run_cj2(tmp / "rows.jsonl", tmp / "cj2", args.workers)
    stats = json.loads((tmp / "cj2" / "stats.json").read_text())
    baseline_s = run_baseline(tmp / "rows.jsonl", tmp / "baseline.jsonl")
    print(f"rows: {args.rows}  workers: {args.workers}")
    print(f"cj2 build:        {args.rows / cj2_s:10.0f} rows/s  ({cj2_s:.1f} s; kept {stats['kept']}, packed {sum(p['rows'] for p in stats['packed'].values())} rows of {stats['packed']['train']['real_tokens'] // max(stats['packed']['train']['rows'], 1)} tokens)")
    print(f"datasets.map:     {args.rows / baseline_s:10.0f} rows/s  ({baseline_s:.1f} s)")
    print(f"speed-up: {baseline_s / cj2_s:.2f}x (target >= 3x)")


if __name__ == "__main__":
    main()
