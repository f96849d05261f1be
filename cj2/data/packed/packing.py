"""Pack tokenized samples into fixed-length rows and write them as safetensors shards.

Best-fit decreasing: samples are placed longest first, each into the fullest row that still has
room, which leaves little padding on realistic length mixes. A row keeps each sample's own
start, length, verdict token and weight, so the trainer can restart positions per sample,
forbid attention across samples and weight each sample's loss.

Layout of ``out_dir``: ``shard-00000.safetensors`` ... and ``index.json`` (written last; its
presence marks a complete build). Each shard holds ``tokens`` / ``loss_mask`` ``[rows, seq]``
and one entry per sample: ``sample_row``, ``sample_start``, ``sample_length``,
``sample_verdict`` (index of the verdict token inside the sample, -1 if none),
``sample_label`` (y*), ``sample_opposite`` (y-), ``sample_loss_tokens``, ``sample_weight`` and
``sample_index`` (the sample's position in the input: what an evaluation maps a verdict back to).
"""

from __future__ import annotations

import bisect
import json
from array import array
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cj2.data.packed.tokenize import TokenizedSample
from cj2.utils.atomic import atomic_path, atomic_write_text

FORMAT_VERSION = 1
SHARD_BYTES = 128 * 2**20  # one shard's dense arrays: what packing holds in memory at a time


def pack_lengths(lengths: Sequence[int], seq_length: int) -> list[list[int]]:
    """Rows of sample indices, each summing to at most ``seq_length`` (best-fit decreasing)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    order = np.lexsort((np.arange(len(lengths)), -lengths))  # longest first, ties by index: an int64 each, no tuples
    rows: list[list[int]] = []
    # (remaining room, row id), kept sorted so the tightest row that fits is one bisect away.
    room: list[tuple] = []
    for i in map(int, order):
        n = int(lengths[i])
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


def _write_shard(path: Path, rows: list[list[tuple[int, TokenizedSample]]], seq_length: int, pad_id: int) -> None:
    from safetensors.numpy import save_file

    tokens = np.full((len(rows), seq_length), pad_id, dtype=np.int32)
    loss_mask = np.zeros((len(rows), seq_length), dtype=np.uint8)
    table: dict[str, list] = {
        k: [] for k in ("row", "start", "length", "verdict", "label", "opposite", "loss_tokens", "weight", "index")
    }
    for r, row in enumerate(rows):
        start = 0
        for index, s in row:
            n = len(s.input_ids)
            tokens[r, start : start + n] = s.input_ids
            loss_mask[r, start : start + n] = s.loss_mask
            for key, value in zip(
                table,
                (r, start, n, s.verdict_index, s.label_id, s.opposite_id, np.count_nonzero(s.loss_mask), s.weight, index),
                strict=True,
            ):
                table[key].append(value)
            start += n
    arrays = {"tokens": tokens, "loss_mask": loss_mask}
    for key, values in table.items():
        arrays[f"sample_{key}"] = np.asarray(values, dtype=np.float32 if key == "weight" else np.int32)
    with atomic_path(path) as tmp:
        save_file(arrays, str(tmp))


def write_tokenized(
    samples: Sequence[TokenizedSample],
    out_dir,
    seq_length: int,
    pad_id: int,
    *,
    packing: bool = True,
    rows_per_shard: int | None = None,
    extra_stats: dict[str, object] | None = None,
) -> dict[str, object]:
    """Pack tokenized samples and write the shards, then ``index.json``; returns the statistics.

    ``packing=False`` puts one sample per row (padding to ``seq_length``). ``samples`` may be
    lazy (:class:`cj2.data.packed.token_spool.SpooledSamples`): it is read once for the lengths, then
    shard by shard. Shards default to about ``SHARD_BYTES`` each, whatever ``seq_length``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "index.json").unlink(missing_ok=True)  # an index marks a complete build
    lengths, loss_tokens, verdicts = array("i"), 0, 0  # one int32 per sample, not a Python int
    for s in samples:
        lengths.append(len(s.input_ids))
        loss_tokens += int(np.count_nonzero(s.loss_mask))
        verdicts += s.verdict_index >= 0
    rows = pack_lengths(lengths, seq_length) if packing else [[i] for i in range(len(samples))]
    rows_per_shard = rows_per_shard or max(1, SHARD_BYTES // (seq_length * 5))  # int32 token + uint8 mask
    shards = []
    for first in range(0, len(rows), rows_per_shard):
        name = f"shard-{first // rows_per_shard:05d}.safetensors"
        chunk = rows[first : first + rows_per_shard]
        _write_shard(out_dir / name, [[(i, samples[i]) for i in row] for row in chunk], seq_length, pad_id)
        shards.append({"file": name, "rows": len(chunk)})
    real_tokens = sum(lengths)
    stats = {
        **(extra_stats or {}),
        "samples_packed": len(samples),
        "verdict_samples": verdicts,
        "rows": len(rows),
        "real_tokens": real_tokens,
        "loss_tokens": loss_tokens,
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
