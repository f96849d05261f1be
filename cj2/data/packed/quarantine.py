"""Rejected rows: written to one quarantine JSONL (file, row, reason) and counted per component.

The invariant every component keeps: ``rows_in == kept + sum(rejected.values())``.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from cj2.data.records import FILTER_REASONS, RejectedRow


class TooManyRejects(RuntimeError):
    """A component rejected more rows than ``max_reject_fraction`` allows; the build stops."""


@dataclass
class ComponentStats:
    name: str
    rows_in: int = 0
    kept: int = 0
    rejected: Counter = field(default_factory=Counter)
    samples: int = 0  # after orientation ("both" doubles) and before weighting
    tokens: int = 0
    selected: int = 0  # samples in the mixture after weights / num_samples
    # tokens per sample -> count, for the length plot (bounded by seq_length, so memory stays flat)
    lengths: Counter = field(default_factory=Counter)
    # the stated verdict of every kept sample: a pairwise component should be half A, half B
    verdicts: Counter = field(default_factory=Counter)
    # eval_overlap rows per evaluation source (benchmark or RewardBench prompt source)
    overlaps: Counter = field(default_factory=Counter)
    # the verdict format of every kept sample (None: a critique or G-SFT row), and each kept row's language
    formats: Counter = field(default_factory=Counter)
    languages: Counter = field(default_factory=Counter)

    def keep(self, sample_tokens: list[int], verdicts: list[str | None] = (), formats: list[str | None] = (), language: str | None = None) -> None:
        self.rows_in += 1
        self.verdicts.update(v for v in verdicts if v is not None)
        self.formats.update(f or "none" for f in formats)
        if language is not None:
            self.languages[language] += 1
        self.kept += 1
        self.samples += len(sample_tokens)
        self.tokens += sum(sample_tokens)
        self.lengths.update(sample_tokens)

    def reject(self, reason: str, about: str = "") -> None:
        self.rows_in += 1
        self.rejected[reason] += 1
        if reason == "eval_overlap":
            self.overlaps[about or "unknown"] += 1

    @property
    def bad_input(self) -> int:
        return sum(n for reason, n in self.rejected.items() if reason not in FILTER_REASONS)

    @property
    def reject_fraction(self) -> float:
        """The fraction of rows rejected for bad input (filters excluded)."""
        return self.bad_input / self.rows_in if self.rows_in else 0.0

    def check(self, limit: float, quarantine_path: Path) -> None:
        if self.reject_fraction > limit:
            reasons = ", ".join(f"{r}: {n}" for r, n in self.rejected.most_common() if r not in FILTER_REASONS)
            raise TooManyRejects(
                f"component {self.name!r}: {self.bad_input} of {self.rows_in} rows rejected for bad input "
                f"({self.reject_fraction:.1%} > max_reject_fraction {limit:.1%}; {reasons}). "
                f"See {quarantine_path} for each row, fix the field mapping, or raise "
                f"data.components.{self.name}.max_reject_fraction."
            )

    @property
    def a_share(self) -> float | None:
        """Verdict A among the kept samples that state A or B (None without any): the position balance."""
        pairs = self.verdicts["A"] + self.verdicts["B"]
        return round(self.verdicts["A"] / pairs, 4) if pairs else None

    def as_dict(self) -> dict:
        return {"rows_in": self.rows_in, "kept": self.kept, "rejected": dict(self.rejected.most_common()),
                "samples": self.samples, "selected": self.selected, "tokens": self.tokens,
                "verdicts": dict(sorted(self.verdicts.items())), "a_share": self.a_share,
                "eval_overlap": dict(sorted(self.overlaps.items())), "formats": dict(sorted(self.formats.items())),
                "languages": dict(sorted(self.languages.items()))}


class Quarantine:
    """The build's quarantine file: one JSON line per rejected row, in build order.

    Written beside the target and renamed into place on close (also when the build stops), so
    a reader never sees a half-written file.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._partial = self.path.with_name(f".{self.path.name}.partial")
        self._file = open(self._partial, "w", encoding="utf-8")

    def add(self, row: RejectedRow, stats: ComponentStats) -> None:
        stats.reject(row.reason, row.about)
        self._file.write(json.dumps(row.to_dict(), ensure_ascii=False) + "\n")

    def close(self) -> None:
        self._file.close()
        os.replace(self._partial, self.path)
