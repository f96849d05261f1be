"""Tokenized samples spooled to disk during a build, read back by reference when packing.

Each process that tokenizes (a build worker, or the build itself when it runs without workers)
appends the ids and loss masks of its kept samples to its own two flat files in the build's
work dir (``tokens-<pid>.bin`` int32, ``mask-<pid>.bin`` uint8), so nothing but a short text
reference travels back to the build: ``spool,offset,length,verdict,y*,y-,weight,reason``. The
reference goes through mixing and shuffling with the sample's JSON line; packing reads each
sample's slice of the files with ``pread`` (a memory map would count every token page read in
the build's resident memory: 1.5 GB at a million rows), so a build never holds a split's tokens
in memory. A split's references are kept as a :class:`RefTable`: ~30 bytes a sample in typed
arrays, not a Python string each.
"""

from __future__ import annotations

import os
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from cj2.data.packed.tokenize import TokenizedSample

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


class RefTable:
    """Token references (``TokenSpool.append``'s strings) parsed into typed columns, in order."""

    def __init__(self, refs: Iterable[str] = ()):
        self.spools: list[str] = []
        self.reasons: list[str | None] = []
        self._spool_ids: dict[str, int] = {}
        self._reason_ids: dict[str | None, int] = {}
        self.spool, self.reason = array("h"), array("h")
        self.offset = array("q")
        self.length, self.verdict, self.label, self.opposite = array("i"), array("i"), array("i"), array("i")
        self.weight = array("f")
        for ref in refs:
            self.append(ref)

    def append(self, ref: str) -> None:
        name, offset, length, verdict, label, opposite, weight, reason = ref.split(",")
        if name not in self._spool_ids:
            self._spool_ids[name] = len(self.spools)
            self.spools.append(name)
        why = None if reason == NO_REASON else reason
        if why not in self._reason_ids:
            self._reason_ids[why] = len(self.reasons)
            self.reasons.append(why)
        self.spool.append(self._spool_ids[name])
        self.reason.append(self._reason_ids[why])
        self.offset.append(int(offset))
        for column, value in ((self.length, length), (self.verdict, verdict), (self.label, label), (self.opposite, opposite)):
            column.append(int(value))
        self.weight.append(float(weight))

    def __len__(self) -> int:
        return len(self.offset)

    def reason_counts(self) -> Counter:
        """Samples per SFT-only reason (samples with none are not counted)."""
        counts = Counter(self.reason)
        return Counter({self.reasons[i]: n for i, n in counts.items() if self.reasons[i] is not None})


class SpooledSamples(Sequence):
    """The samples of ``refs`` as :class:`TokenizedSample`, in order, each read from the spools on demand."""

    def __init__(self, refs: RefTable | Sequence[str], work_dir: Path):
        self.refs = refs if isinstance(refs, RefTable) else RefTable(refs)
        self.dir = Path(work_dir)
        self._files: dict[int, tuple[int, int]] = {}

    def _fds(self, spool: int) -> tuple[int, int]:
        if spool not in self._files:
            name = self.refs.spools[spool]
            self._files[spool] = (os.open(self.dir / f"tokens-{name}.bin", os.O_RDONLY), os.open(self.dir / f"mask-{name}.bin", os.O_RDONLY))
        return self._files[spool]

    def __len__(self) -> int:
        return len(self.refs)

    def __getitem__(self, i: int) -> TokenizedSample:
        r = self.refs
        tokens_fd, mask_fd = self._fds(r.spool[i])
        offset, length = r.offset[i], r.length[i]
        tokens = np.frombuffer(os.pread(tokens_fd, 4 * length, 4 * offset), dtype=np.int32)
        mask = np.frombuffer(os.pread(mask_fd, length, offset), dtype=np.uint8)
        return TokenizedSample(tokens, mask, r.verdict[i], r.label[i], r.opposite[i], float(r.weight[i]))

    def close(self) -> None:
        for fds in self._files.values():
            for fd in fds:
                os.close(fd)
        self._files.clear()
