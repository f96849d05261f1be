"""Tokenized samples spooled to disk during a build, read back by reference when packing.

Each process that tokenizes (a build worker, or the build itself when it runs without workers)
appends the ids and loss masks of its kept samples to its own two flat files in the build's
work dir (``tokens-<pid>.bin`` int32, ``mask-<pid>.bin`` uint8), so nothing but a short text
reference travels back to the build: ``spool,offset,length,verdict,y*,y-,weight,reason``. The
reference goes through mixing and shuffling with the sample's JSON line; packing reads the files
memory-mapped, so a build never holds a split's tokens in memory.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cj2.data.tokenize import TokenizedSample

NO_REASON = "-"


class TokenSpool:
    """One process's append-only token and mask files in a build's work dir."""

    def __init__(self, work_dir: Path, name: str):
        self.name = name
        self._tokens = open(Path(work_dir) / f"tokens-{name}.bin", "ab")
        self._mask = open(Path(work_dir) / f"mask-{name}.bin", "ab")
        self._offset = self._tokens.tell() // 4

    def append(self, sample: TokenizedSample, sft_only_reason: str | None) -> str:
        """Write one sample's ids and mask; returns its reference."""
        ids = np.asarray(sample.input_ids, dtype=np.int32)
        self._tokens.write(ids.tobytes())
        self._mask.write(np.asarray(sample.loss_mask, dtype=np.uint8).tobytes())
        ref = f"{self.name},{self._offset},{len(ids)},{sample.verdict_index},{sample.label_id},{sample.opposite_id},{sample.weight!r},{sft_only_reason or NO_REASON}"
        self._offset += len(ids)
        return ref

    def flush(self) -> None:
        """After every chunk: a worker may be stopped (not closed) once the build has its results."""
        self._tokens.flush()
        self._mask.flush()

    def close(self) -> None:
        self._tokens.close()
        self._mask.close()


_spools: dict[tuple[str, int], TokenSpool] = {}


def process_spool(work_dir: str) -> TokenSpool:
    """This process's spool in ``work_dir`` (opened on first use)."""
    key = (str(work_dir), os.getpid())
    if key not in _spools:
        _spools[key] = TokenSpool(Path(work_dir), str(os.getpid()))
    return _spools[key]


def close_spools(work_dir: str) -> None:
    """Close this process's spool in ``work_dir``, if it opened one."""
    spool = _spools.pop((str(work_dir), os.getpid()), None)
    if spool is not None:
        spool.close()


def ref_reason(ref: str) -> str | None:
    reason = ref.rsplit(",", 1)[1]
    return None if reason == NO_REASON else reason


class SpooledSamples(Sequence):
    """The samples of ``refs`` as :class:`TokenizedSample` (numpy views of the spools), in order."""

    def __init__(self, refs: Sequence[str], work_dir: Path):
        self.refs, self.dir = refs, Path(work_dir)
        self._maps: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _spool(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        if name not in self._maps:
            # Plain ndarray views of the maps: slicing an np.memmap costs microseconds per slice.
            self._maps[name] = (
                np.memmap(self.dir / f"tokens-{name}.bin", dtype=np.int32, mode="r").view(np.ndarray),
                np.memmap(self.dir / f"mask-{name}.bin", dtype=np.uint8, mode="r").view(np.ndarray),
            )
        return self._maps[name]

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i: int) -> TokenizedSample:
        name, offset, length, verdict, label, opposite, weight, _ = self.refs[i].split(",")
        tokens, mask = self._spool(name)
        lo, hi = int(offset), int(offset) + int(length)
        return TokenizedSample(tokens[lo:hi], mask[lo:hi], int(verdict), int(label), int(opposite), float(weight))
