"""Stream packed rows to the trainer in a seeded order that resumes exactly.

The order is a fixed function of (seed, epoch): a permutation of all rows per epoch, epochs
concatenated. The only state is how many rows have been consumed, saved with every checkpoint,
so a resumed run reads exactly the rows an uninterrupted run would have read next.

:func:`collate` turns rows into the model's micro-batch: one packed sequence whose sample
boundaries (``cu_seqlens``) keep attention inside each sample and restart RoPE positions, and
in which every learned token carries its sample's weight.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

SAMPLE_FIELDS = ("row", "start", "length", "verdict", "label", "opposite", "loss_tokens", "weight", "index")


class PackedDataset:
    """Random access to the rows written by :func:`cj2.data.packed.packing.write_tokenized`.

    ``hidden_dir``: a frozen bottom's hidden states for these rows (cj2.models.frozen_bottom), one
    ``[seq_length, hidden]`` tensor per row, handed to the model instead of the token embeddings.
    """

    def __init__(self, data_dir, hidden_dir=None):
        from safetensors import safe_open

        self.dir = Path(data_dir)
        index_path = self.dir / "index.json"
        if not index_path.exists():
            raise FileNotFoundError(
                f"no packed data at {self.dir} (index.json missing): build it first with `python launch/build_data.py` and the same data= options"
            )
        self.index = json.loads(index_path.read_text())
        self.seq_length = int(self.index["seq_length"])
        self.pad_id = int(self.index["pad_id"])
        self._shards = [safe_open(str(self.dir / s["file"]), framework="np") for s in self.index["shards"]]
        self._shard_of_row: list[tuple] = [(k, r) for k, s in enumerate(self.index["shards"]) for r in range(s["rows"])]
        tables = {f: [] for f in SAMPLE_FIELDS}
        row_offset = 0
        for shard, meta in zip(self._shards, self.index["shards"], strict=False):
            names = set(shard.keys())
            for f in SAMPLE_FIELDS:
                if f"sample_{f}" in names:
                    values = shard.get_tensor(f"sample_{f}")
                else:  # "index": not kept by builds written before it existed
                    values = np.full(len(tables["row"][-1]), -1, dtype=np.int32)
                tables[f].append(values + row_offset if f == "row" else values)
            row_offset += meta["rows"]
        self.samples: dict[str, np.ndarray] = {f: np.concatenate(v) if v else np.zeros(0) for f, v in tables.items()}
        # Samples are stored row by row: row i owns samples [bounds[i], bounds[i + 1]).
        self._bounds = np.searchsorted(self.samples["row"], np.arange(len(self) + 1))
        # framework="pt": the states may be bfloat16, which numpy cannot hold.
        self._hidden = [safe_open(str(Path(hidden_dir) / s["file"]), framework="pt") for s in self.index["shards"]] if hidden_dir else None

    def __len__(self) -> int:
        return len(self._shard_of_row)

    def row_samples(self, row: int) -> dict[str, np.ndarray]:
        lo, hi = self._bounds[row], self._bounds[row + 1]
        return {f: v[lo:hi] for f, v in self.samples.items()}

    def row_arrays(self, row: int):
        shard, r = self._shard_of_row[row]
        f = self._shards[shard]
        return f.get_slice("tokens")[r : r + 1][0], f.get_slice("loss_mask")[r : r + 1][0]

    @property
    def has_hidden(self) -> bool:
        return self._hidden is not None

    def row_hidden(self, row: int) -> torch.Tensor:
        """The frozen bottom's output for this row, ``[seq_length, hidden]``, in the cache's dtype
        (the step casts it to the model's on the device: half the bytes to copy for a bf16 cache)."""
        shard, r = self._shard_of_row[row]
        return self._hidden[shard].get_slice("hidden")[r : r + 1][0]


@dataclass
class Denominators:
    """What the global batch's loss sums are divided by (identical on every rank)."""

    sft: float  # learned tokens (average=token) or samples with learned tokens (average=sample)
    pg: float  # samples with a usable verdict
    loss_tokens: int
    real_tokens: int
    # Sum over samples of length^2: the (query, key) pairs packed attention really computes
    # (a full-row formula would count seq_length^2 per row), for MFU.
    attention_pairs: int = 0


def denominators(dataset: PackedDataset, rows: Sequence[int], average: str) -> Denominators:
    tables = [dataset.row_samples(r) for r in rows]
    loss_tokens = int(sum(t["loss_tokens"].sum() for t in tables))
    samples = int(sum((t["loss_tokens"] > 0).sum() for t in tables))
    verdicts = int(sum((t["verdict"] >= 0).sum() for t in tables))
    real = int(sum(t["length"].sum() for t in tables))
    pairs = int(sum((t["length"].astype(np.int64) ** 2).sum() for t in tables))
    return Denominators(
        sft=float(loss_tokens if average == "token" else samples),
        pg=float(verdicts),
        loss_tokens=loss_tokens,
        real_tokens=real,
        attention_pairs=pairs,
    )


def collate(dataset: PackedDataset, rows: Sequence[int], average: str) -> dict[str, torch.Tensor]:
    """The micro-batch of ``rows`` as ONE packed sequence (megatron's THD layout): the rows are
    laid end to end into ``[1, len(rows) * seq_length]`` token ids, and ``cu_seqlens`` marks where
    every sample (and every run of padding) starts, so attention stays inside each sample and
    RoPE positions restart at every sample. No ``[S, S]`` mask is ever built.

    Besides ids, positions and ``cu_seqlens`` / ``max_seqlen``: next-token labels, per-token CE
    weights, one entry per verdict (row 0 of the packed sequence, the logit position that
    predicts it, y*, y-, the sample's weight), and the positions whose logits a loss needs
    (``logit_pos``; ``verdict_slot`` is each verdict's index among them).
    """
    b, s = len(rows), dataset.seq_length
    tokens = np.full((b, s), dataset.pad_id, dtype=np.int64)
    positions = np.zeros((b, s), dtype=np.int64)
    weight = np.zeros((b, s), dtype=np.float32)  # CE weight of predicting token t (index t)
    bounds = [0]
    verdicts: dict[str, list] = {"pos": [], "label": [], "opposite": [], "weight": []}
    for i, row in enumerate(rows):
        row_tokens, row_mask = dataset.row_arrays(row)
        tokens[i] = row_tokens
        table = dataset.row_samples(row)
        offset, end = i * s, 0
        for j in range(len(table["start"])):
            start, n, w = int(table["start"][j]), int(table["length"][j]), float(table["weight"][j])
            if start > end:  # a gap before this sample is a segment of its own
                bounds.append(offset + start)
                positions[i, end:start] = np.arange(start - end)
            end = start + n
            bounds.append(offset + end)
            positions[i, start:end] = np.arange(n)
            learned = row_mask[start:end].astype(np.float32)
            per_token = w if average == "token" else w / max(float(learned.sum()), 1.0)
            weight[i, start:end] = learned * per_token
            if table["verdict"][j] >= 0:
                verdicts["pos"].append(offset + start + int(table["verdict"][j]) - 1)  # logits there predict it
                verdicts["label"].append(int(table["label"][j]))
                verdicts["opposite"].append(int(table["opposite"][j]))
                verdicts["weight"].append(w)
        if end < s:  # trailing padding: one segment, attending only to itself
            positions[i, end:] = np.arange(s - end)
            bounds.append(offset + s)
    cu_seqlens = np.asarray(bounds, dtype=np.int32)
    # The frozen bottom's output replaces the embedding: [b * s, 1, hidden], megatron's [s, b, h].
    hidden = {"hidden": torch.cat([dataset.row_hidden(r) for r in rows]).unsqueeze(1)} if dataset.has_hidden else {}
    labels = np.concatenate([tokens[:, 1:], np.full((b, 1), dataset.pad_id)], axis=1)
    # Position t predicts token t + 1: shift the weights one left. A sample's first token is
    # always prompt (weight 0), so no position predicts across a sample boundary, and a row's
    # last position predicts nothing (its label is padding, its weight 0).
    token_weight = np.concatenate([weight[:, 1:], np.zeros((b, 1), dtype=np.float32)], axis=1).reshape(-1)
    # Where the loss needs logits (learned tokens and verdicts), found here on the CPU so the
    # device never waits on a data-dependent nonzero (cj2.train.selected_logits).
    needed = token_weight > 0
    needed[verdicts["pos"]] = True
    logit_pos = np.flatnonzero(needed)
    return {
        "tokens": torch.from_numpy(tokens.reshape(1, -1)),
        "position_ids": torch.from_numpy(positions.reshape(1, -1)),
        "cu_seqlens": torch.from_numpy(cu_seqlens),
        "max_seqlen": int(np.diff(cu_seqlens).max()),
        "labels": torch.from_numpy(labels.reshape(1, -1)),
        "token_weight": torch.from_numpy(token_weight.reshape(1, -1)),
        "logit_pos": torch.from_numpy(logit_pos),
        "verdict_slot": torch.from_numpy(np.searchsorted(logit_pos, np.asarray(verdicts["pos"], dtype=np.int64))),
        "verdict_row": torch.zeros(len(verdicts["pos"]), dtype=torch.long),
        "verdict_pos": torch.tensor(verdicts["pos"], dtype=torch.long),
        "verdict_label": torch.tensor(verdicts["label"], dtype=torch.long),
        "verdict_opposite": torch.tensor(verdicts["opposite"], dtype=torch.long),
        "verdict_weight": torch.tensor(verdicts["weight"], dtype=torch.float32),
        **hidden,
    }


class PackedStream:
    """Global batches of row ids in a seeded per-epoch order; ``consumed_rows`` is the position."""

    def __init__(self, num_rows: int, rows_per_step: int, seed: int):
        if num_rows < rows_per_step:
            raise ValueError(
                f"the data has {num_rows} packed rows, fewer than one global batch of {rows_per_step}: lower parallel.global_batch_size or add data"
            )
        self.num_rows, self.rows_per_step, self.seed = num_rows, rows_per_step, seed
        self.consumed_rows = 0

    def steps_per_epoch(self) -> int:
        return self.num_rows // self.rows_per_step

    def _epoch_order(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_rows)

    def next_rows(self) -> list[int]:
        """The next global batch. A batch never spans two epochs: an epoch's leftover rows
        (fewer than a batch) are skipped, so every epoch starts at its permutation's head."""
        epoch, offset = divmod(self.consumed_rows, self.steps_per_epoch() * self.rows_per_step)
        rows = self._epoch_order(epoch)[offset : offset + self.rows_per_step]
        self.consumed_rows += self.rows_per_step
        return rows.tolist()

    def state_dict(self) -> dict[str, int]:
        return {
            "consumed_rows": self.consumed_rows,
            "num_rows": self.num_rows,
            "rows_per_step": self.rows_per_step,
            "seed": self.seed,
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        mine = self.state_dict()
        for key in ("num_rows", "rows_per_step", "seed"):
            if int(state[key]) != mine[key]:
                raise ValueError(
                    f"cannot resume the data stream: the checkpoint has {key}={state[key]}, this run {mine[key]} (same data and batch size needed)"
                )
        self.consumed_rows = int(state["consumed_rows"])
