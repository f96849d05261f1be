"""The frozen bottom of a checkpoint: its output for every packed row, computed once and cached.

With ``model.frozen_layers = L`` a run trains only the checkpoint's layers ``L..N-1`` (and the
final norm; cj2.models.build). What those layers read, the hidden states after layer ``L - 1``,
depends only on the fixed bottom and on the tokens, so it is computed once per packed dataset
and shared by every run that trains on the same rows: a loss sweep over one data build computes
it once, and an evaluation set once for every judge scored on it.

Layout, beside the packed shards (``<split dir>/hidden-<L>/``)::

    shard-00000.safetensors   "hidden" [rows, seq_length, hidden_size], one per packed shard
    manifest.json             written last: the checkpoint, L, dtype and the packed index it matches

The bottom runs in transformers, one packed segment at a time (positions restart at 0 and no
token sees another segment, exactly as the packed top sees them); padding segments stay zero.
A killed run keeps the shards it finished (each written atomically) and resumes after them.

    python -m cj2.models.frozen_bottom --checkpoint DIR --layers L --packed-dir DIR [--dtype bfloat16]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from cj2.utils.atomic import atomic_path, atomic_write_text

MANIFEST = "manifest.json"
DTYPES = ("bfloat16", "float32")


class HiddenStatesMissing(FileNotFoundError):
    """A run with frozen layers found no complete, matching hidden-state cache for its data."""


def cache_dir(packed_dir, layers: int) -> Path:
    return Path(packed_dir) / f"hidden-{layers}"


def checkpoint_fingerprint(checkpoint) -> str:
    """What identifies a checkpoint's weights without reading them: config.json and each file's name and size."""
    root = Path(checkpoint)
    digest = hashlib.sha256((root / "config.json").read_bytes())
    for path in sorted(root.glob("*.safetensors")):
        digest.update(f"{path.name}:{path.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def _packed_fingerprint(packed_dir: Path) -> str:
    return hashlib.sha256((packed_dir / "index.json").read_bytes()).hexdigest()[:16]


def expected_manifest(checkpoint, layers: int, packed_dir, dtype: str) -> dict:
    packed_dir = Path(packed_dir)
    return {"checkpoint": checkpoint_fingerprint(checkpoint), "layers": layers, "dtype": dtype, "packed_index": _packed_fingerprint(packed_dir)}


def require_cache(packed_dir, checkpoint, layers: int) -> Path:
    """The complete cache of ``packed_dir`` for this checkpoint's first ``layers`` layers, or a clear error."""
    out = cache_dir(packed_dir, layers)
    command = f"python -m cj2.models.frozen_bottom --checkpoint {checkpoint} --layers {layers} --packed-dir {packed_dir}"
    manifest_path = out / MANIFEST
    if not manifest_path.is_file():
        raise HiddenStatesMissing(f"model.frozen_layers={layers} reads the frozen bottom's hidden states from {out}, which holds no complete cache. Write it first: {command}")
    manifest = json.loads(manifest_path.read_text())
    wanted = expected_manifest(checkpoint, layers, packed_dir, manifest.get("dtype", "bfloat16"))
    stale = [key for key, value in wanted.items() if manifest.get(key) != value]
    if stale:
        raise HiddenStatesMissing(f"{manifest_path} was written for another {' / '.join(stale)} than this run's; write it again: {command} --force")
    return out


def _segments(table: dict[str, np.ndarray], seq_length: int) -> list[tuple[int, int]]:
    """(start, length) of every sample in a row (padding between and after them is skipped)."""
    return [(int(s), int(n)) for s, n in zip(table["start"], table["length"], strict=True) if n > 0 and s < seq_length]


def _bottom_model(checkpoint, layers: int, dtype: str):
    """The checkpoint in transformers, cut after its first ``layers`` decoder layers (the rest never runs)."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(checkpoint), dtype=getattr(torch, dtype))
    model.model.layers = model.model.layers[:layers]
    model.model.norm = torch.nn.Identity()  # the output wanted is the last kept layer's, before any norm
    return model.model.eval()


def write_cache(checkpoint, layers: int, packed_dir, *, dtype: str = "bfloat16", batch_tokens: int = 8192, force: bool = False, progress: bool = True) -> Path:
    """Compute and store the hidden states after the first ``layers`` layers for every packed row."""
    import torch
    from safetensors.torch import save_file
    from tqdm import tqdm

    from cj2.data.packed.stream import PackedDataset

    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r} is not one of {DTYPES}")
    packed_dir = Path(packed_dir)
    out = cache_dir(packed_dir, layers)
    wanted = expected_manifest(checkpoint, layers, packed_dir, dtype)
    manifest_path = out / MANIFEST
    if manifest_path.is_file() and not force:
        found = json.loads(manifest_path.read_text())
        if all(found.get(key) == value for key, value in wanted.items()):
            return out
    manifest_path.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    progress_path = out / "progress.json"
    done = json.loads(progress_path.read_text()) if progress_path.is_file() and not force else {}
    if done.get("settings") != wanted:
        done = {"settings": wanted, "shards": []}
    data = PackedDataset(packed_dir)
    model = _bottom_model(checkpoint, layers, dtype)
    hidden_size = model.config.hidden_size
    row = 0
    shards = []
    for shard in data.index["shards"]:
        rows = range(row, row + shard["rows"])
        row += shard["rows"]
        shards.append((shard, rows, [(i, start, n) for i, r in enumerate(rows) for start, n in _segments(data.row_samples(r), data.seq_length)]))
    # A log file (not a terminal) gets a progress line every 30 s rather than a redrawn bar.
    bar = tqdm(total=sum(len(p) for *_, p in shards), desc=f"frozen bottom ({layers} layers) -> {out}", unit="sample", disable=not progress,
               mininterval=1 if sys.stderr.isatty() else 30)
    for shard, rows, pieces in shards:
        if shard["file"] in done["shards"]:
            bar.update(len(pieces))
            continue
        hidden = torch.zeros(len(rows), data.seq_length, hidden_size, dtype=getattr(torch, dtype))
        pieces.sort(key=lambda p: p[2])  # similar lengths batch with little padding
        batch: list[tuple[int, int, int]] = []
        for piece in [*pieces, None]:
            if piece is not None and (not batch or (len(batch) + 1) * piece[2] <= batch_tokens):
                batch.append(piece)
                continue
            if batch:
                _run_batch(model, data, rows, batch, hidden)
                bar.update(len(batch))
            batch = [piece] if piece is not None else []
        with atomic_path(out / shard["file"]) as tmp:
            save_file({"hidden": hidden.contiguous()}, str(tmp))
        done["shards"].append(shard["file"])
        atomic_write_text(progress_path, json.dumps(done))
    bar.close()
    atomic_write_text(manifest_path, json.dumps({**wanted, "shards": done["shards"]}, indent=2))
    progress_path.unlink(missing_ok=True)
    return out


def _run_batch(model, data, rows, batch, hidden) -> None:
    """One forward of right-padded segments; each segment's states go to its place in ``hidden``."""
    import torch

    longest = max(n for _, _, n in batch)
    ids = torch.zeros(len(batch), longest, dtype=torch.long)
    mask = torch.zeros(len(batch), longest, dtype=torch.long)
    for k, (i, start, n) in enumerate(batch):
        tokens, _ = data.row_arrays(rows[i])
        ids[k, :n] = torch.from_numpy(tokens[start : start + n].astype(np.int64))
        mask[k, :n] = 1
    uniform = all(n == longest for _, _, n in batch)  # sorted by length, most batches are: no mask, plain causal attention
    with torch.no_grad():
        states = model(input_ids=ids, attention_mask=None if uniform else mask).last_hidden_state
    for k, (i, start, n) in enumerate(batch):
        hidden[i, start : start + n] = states[k, :n].to(hidden.dtype)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="the HF checkpoint whose bottom is frozen (model.hf_path)")
    parser.add_argument("--layers", type=int, required=True, help="model.frozen_layers")
    parser.add_argument("--packed-dir", required=True, help="a packed split (e.g. <data.output_dir>/train)")
    parser.add_argument("--dtype", default="bfloat16", choices=DTYPES)
    parser.add_argument("--force", action="store_true", help="recompute even when a matching cache exists")
    args = parser.parse_args(argv)
    print(write_cache(args.checkpoint, args.layers, args.packed_dir, dtype=args.dtype, force=args.force, progress=sys.stderr.isatty()))


if __name__ == "__main__":
    main()
