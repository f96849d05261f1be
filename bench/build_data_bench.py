"""Rows/s of a mixture build against a naive per-row ``datasets.map`` baseline, in one run.

  python bench/build_data_bench.py [--rows 100000] [--workers 2]

Writes a synthetic pairwise JSONL (``--rows`` rows, ~80-word responses), then times:
  cj2       cj2.data.build.build_mixture up to the train/valid JSONL splits (load, field mapping,
            position debiasing, cj2_short template, token counts in batches over worker
            processes, dedup, weights, seeded shuffle, split, quarantine, stats); packing is left
            out because the baseline does not pack
  baseline  datasets.load_dataset("json") + Dataset.map with a per-row function doing the same
            mapping, template and token count (one tokenizer call per text), then writing JSONL
Prints rows/s for both and their ratio (target: >= 3x), and the peak RSS of the cj2 build.
"""

from __future__ import annotations

import argparse
import json
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
    from cj2.data.build import build_mixture

    cfg = compose(["data=pairwise_public", f"data.output_dir={out}", f"data.num_workers={workers}", "data.chunk_size=1024"])
    component = OmegaConf.merge(OmegaConf.structured(DataComponentConfig), {"kind": "pairwise", "path": str(path), "template": "cj2_short"})
    cfg.data.components = {"synthetic": component}
    start = time.perf_counter()
    build_mixture(cfg, show_progress=False, pack=False)
    return time.perf_counter() - start


def run_baseline(path: Path, out: Path) -> float:
    import datasets

    from cj2.config.schema import DataComponentConfig
    from cj2.data.loaders import row_to_example
    from cj2.data.render import to_sample
    from cj2.data.templates import get_template
    from cj2.data.tokenizer import load_tokenizer

    datasets.disable_progress_bars()
    tokenizer = load_tokenizer("qwen2.5")
    template = get_template("cj2_short")
    component = DataComponentConfig(kind="pairwise", path=str(path), template="cj2_short")  # plain: no OmegaConf cost per row
    start = time.perf_counter()
    ds = datasets.load_dataset("json", data_files=str(path), split="train")

    def per_row(row, index):
        sample = to_sample(row_to_example(component, "synthetic", str(path), index + 1, row), template)
        prompt = tokenizer.apply_chat_template(sample.messages, add_generation_prompt=True, tokenize=False)
        tokens = len(tokenizer(prompt, add_special_tokens=False)["input_ids"]) + len(tokenizer(sample.target, add_special_tokens=False)["input_ids"]) + 1
        return {"sample": json.dumps(sample.to_dict()), "tokens": tokens}

    mapped = ds.map(per_row, with_indices=True, remove_columns=ds.column_names, load_from_cache_file=False)
    with open(out, "w", encoding="utf-8") as f:
        for row in mapped:
            f.write(row["sample"] + "\n")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_rows(tmp / "rows.jsonl", args.rows)
        from cj2.data.tokenizer import load_tokenizer

        load_tokenizer("qwen2.5")  # warm the import and the file cache for both contenders
        cj2_s = run_cj2(tmp / "rows.jsonl", tmp / "cj2", args.workers)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        baseline_s = run_baseline(tmp / "rows.jsonl", tmp / "baseline.jsonl")
        kept = json.loads((tmp / "cj2" / "stats.json").read_text())["kept"]
    print(f"rows: {args.rows}  workers: {args.workers}")
    print(f"cj2 build:        {args.rows / cj2_s:10.0f} rows/s  ({cj2_s:.1f} s, peak RSS of this process {peak_mib:.0f} MiB)")
    print(f"datasets.map:     {args.rows / baseline_s:10.0f} rows/s  ({baseline_s:.1f} s)")
    print(f"speed-up: {baseline_s / cj2_s:.2f}x (target >= 3x); cj2 kept {kept} of {args.rows} rows")


if __name__ == "__main__":
    main()
