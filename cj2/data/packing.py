"""Pack tokenized samples into fixed-length rows and write them as safetensors shards.

Best-fit decreasing: samples are placed longest first, each into the fullest row that still has
room, which leaves little padding on realistic length mixes. A row keeps each sample's own
start, length, verdict token and weight, so the trainer can restart positions per sample,
forbid attention across samples and weight each sample's loss.

Layout of ``out_dir``: ``shard-00000.safetensors`` ... and ``index.json`` (written last; its
presence marks a complete build). Each shard holds ``tokens`` / ``loss_mask`` ``[rows, seq]``
and one entry per sample: ``sample_row``, ``sample_start``, ``sample_length``,
``sample_verdict`` (index of the verdict token inside the sample, -1 if none),
``sample_label`` (y*), ``sample_opposite`` (y-), ``sample_loss_tokens``, ``sample_weight``.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from cj2.data.records import TrainingSample
from cj2.data.tokenize import TokenizedSample, tokenize_sample
from cj2.utils.atomic import atomic_path, atomic_write_text

FORMAT_VERSION = 1


def pack_lengths(lengths: Sequence[int], seq_length: int) -> list[list[int]]:
    """Rows of sample indices, each summing to at most ``seq_length`` (best-fit decreasing)."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    rows: list[list[int]] = []
    # (remaining room, row id), kept sorted so the tightest row that fits is one bisect away.
    room: list[tuple] = []
    for i in order:
        n = lengths[i]
        if n > seq_length:
            raise ValueError(f"sample {i} has {n} tokens, more than seq_length={seq_length}")
        slot = bisect.bisect_left(room, (n, -1))
        if slot == len(room):
            rows.append([i])
            left, row = seq_length - n, len(rows) - 1
        else:
            left, row = room.pop(slot)
            rows[row].append(i)
            left -= n
        if left > 0:
            bisect.insort(room, (left, row))
    return rows


def _progress(iterable, description: str):
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task(description, total=None)
        for item in iterable:
            yield item
            progress.advance(task)


def _write_shard(path: Path, rows: list[list[TokenizedSample]], seq_length: int, pad_id: int) -> None:
    from safetensors.numpy import save_file

    tokens = np.full((len(rows), seq_length), pad_id, dtype=np.int32)
    loss_mask = np.zeros((len(rows), seq_length), dtype=np.uint8)
    table: dict[str, list] = {
        k: [] for k in ("row", "start", "length", "verdict", "label", "opposite", "loss_tokens", "weight")
    }
    for r, row in enumerate(rows):
        start = 0
        for s in row:
            n = len(s.input_ids)
            tokens[r, start : start + n] = s.input_ids
            loss_mask[r, start : start + n] = s.loss_mask
            for key, value in zip(
                table,
                (r, start, n, s.verdict_index, s.label_id, s.opposite_id, sum(s.loss_mask), s.weight),
                strict=False,
            ):
                table[key].append(value)
            start += n
    arrays = {"tokens": tokens, "loss_mask": loss_mask}
    for key, values in table.items():
        arrays[f"sample_{key}"] = np.asarray(values, dtype=np.float32 if key == "weight" else np.int32)
    with atomic_path(path) as tmp:
        save_file(arrays, str(tmp))


def write_packed(
    samples: Iterable[TrainingSample],
    tokenizer,
    out_dir,
    seq_length: int,
    *,
    packing: bool = True,
    rows_per_shard: int = 4096,
    progress: bool = True,
) -> dict[str, object]:
    """Tokenize, pack and write ``samples`` to ``out_dir``; returns (and writes into index.json) stats.

    ``packing=False`` puts one sample per row (padding to ``seq_length``). Samples longer than
    ``seq_length`` are dropped and counted: cutting a judgment would cut its verdict.
    """
    kept: list[TokenizedSample] = []
    sft_only: Counter = Counter()
    dropped: Counter = Counter()
    seen = 0
    for sample in _progress(samples, "tokenizing") if progress else samples:
        seen += 1
        tokenized, reason = tokenize_sample(sample, tokenizer)
        if len(tokenized.input_ids) > seq_length:
            dropped["longer_than_seq_length"] += 1
            continue
        if reason:
            sft_only[reason] += 1
        kept.append(tokenized)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    stats = write_tokenized(
        kept,
        out_dir,
        seq_length,
        pad_id,
        packing=packing,
        rows_per_shard=rows_per_shard,
        extra_stats={"samples_in": seen, "sft_only_reasons": dict(sft_only), "dropped": dict(dropped)},
    )
    return stats


def write_tokenized(
    samples: Sequence[TokenizedSample],
    out_dir,
    seq_length: int,
    pad_id: int,
    *,
    packing: bool = True,
    rows_per_shard: int = 4096,
    extra_stats: dict[str, object] | None = None,
) -> dict[str, object]:
    """Pack already tokenized samples and write the shards, then ``index.json``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "index.json").unlink(missing_ok=True)  # an index marks a complete build
    lengths = [len(s.input_ids) for s in samples]
    rows = pack_lengths(lengths, seq_length) if packing else [[i] for i in range(len(samples))]
    shards = []
    for first in range(0, len(rows), rows_per_shard):
        name = f"shard-{first // rows_per_shard:05d}.safetensors"
        chunk = rows[first : first + rows_per_shard]
        _write_shard(out_dir / name, [[samples[i] for i in row] for row in chunk], seq_length, pad_id)
        shards.append({"file": name, "rows": len(chunk)})
    real_tokens = sum(lengths)
    stats = {
        **(extra_stats or {}),
        "samples_packed": len(samples),
        "verdict_samples": sum(s.verdict_index >= 0 for s in samples),
        "rows": len(rows),
        "real_tokens": real_tokens,
        "loss_tokens": sum(sum(s.loss_mask) for s in samples),
        "fill_fraction": real_tokens / max(len(rows) * seq_length, 1),
    }
    index = {
        "format_version": FORMAT_VERSION,
        "seq_length": seq_length,
        "pad_id": pad_id,
        "packing": packing,
        "shards": shards,
        "stats": stats,
    }
    atomic_write_text(out_dir / "index.json", json.dumps(index, indent=2))
    return stats
