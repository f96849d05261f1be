"""Mixing kept samples: dedup across components, weights / sample counts, seeded shuffle, split.

Streaming with flat memory (besides one 16-byte hash and one 8-byte key per kept row): kept
samples (already serialized JSON lines) are spooled to disk per component, next to their keys
and their token references (:mod:`cj2.data.packed.token_spool`), and copied through without being
parsed again; selection then writes each chosen copy to one of the bucket files by its shuffle
key (about ``ROWS_PER_BUCKET`` per bucket, so a bucket's size does not grow with the build), and
the buckets are read back in key order, each sorted in memory. The order is a function of the seed and the content only, never of worker timing.

Selection per component: ``num_samples`` (exact) takes ``n // kept`` copies of every sample plus
one more for the ``n % kept`` samples with the smallest selection keys; ``share`` is a
``num_samples`` of ``round(share / (1 - all shares) x the rows the other components select)``, so
that the component is that fraction of the selected rows; otherwise ``weight`` is a multiplier:
``floor(weight)`` copies plus one more where the selection key < ``frac(weight)``.
The validation split is by content (key < ``validation_fraction``), so both orders and every
copy of an example land on the same side.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from cj2.utils.seeded import seeded_unit

ROWS_PER_BUCKET = 8192  # the most rows a shuffle bucket holds in memory, on average
MAX_BUCKETS = 1024  # open files at once while selecting


class Mixture:
    def __init__(self, work_dir: Path, seed: int, buckets: int = 64):
        self.dir = Path(work_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.seed = seed
        self.buckets = buckets
        self.seen: set[bytes] = set()
        self._spools: dict[str, object] = {}
        self._keys: dict[str, array] = {}

    def is_duplicate(self, content_hash: str) -> bool:
        """True when an earlier row (of any component) had the same content; records it otherwise."""
        digest = bytes.fromhex(content_hash)
        if digest in self.seen:
            return True
        self.seen.add(digest)
        return False

    def add(self, component: str, content_hash: str, samples: list[str], refs: list[str]) -> None:
        """Spool one kept row: its orientations as JSON lines, and their token references."""
        if component not in self._spools:
            self._spools[component] = open(self.dir / f"spool-{len(self._spools):03d}.jsonl", "w", encoding="utf-8")
            self._keys[component] = array("d")
        key = seeded_unit(self.seed, "select", content_hash)
        self._keys[component].append(key)
        spool = self._spools[component]
        for sample, ref in zip(samples, refs, strict=True):
            spool.write(f"{content_hash}\t{key!r}\t{len(samples)}\t{ref}\t{sample}\n")

    def _copies_rule(self, component: str, weight: float, num_samples: int | None) -> tuple[int, float]:
        """(copies every sample gets, key threshold below which it gets one more)."""
        keys = self._keys.get(component, [])
        if not keys:
            return 0, -1.0
        if num_samples is not None:
            base, extra = divmod(num_samples, len(keys))
            threshold = float(np.partition(np.asarray(keys), extra)[extra]) if extra else -1.0
            return base, threshold
        return math.floor(weight), weight - math.floor(weight)

    def _shares_as_counts(self, rules: dict[str, tuple[float, int | None, float | None]]) -> dict[str, tuple[float, int | None]]:
        """``(weight, num_samples)`` per component, a share turned into the count that makes it that
        fraction of the selected rows."""
        def selected_rows(component: str, weight: float, num_samples: int | None) -> int:
            if num_samples is not None:
                return num_samples
            keys = np.asarray(self._keys.get(component, []))
            return int(len(keys) * math.floor(weight) + np.count_nonzero(keys < weight - math.floor(weight)))

        shared = {c: share for c, (_, _, share) in rules.items() if share is not None and self._keys.get(c)}
        others = sum(selected_rows(c, w, n) for c, (w, n, share) in rules.items() if c not in shared and self._keys.get(c))
        total = sum(shared.values())
        return {c: (w, round(shared[c] / (1 - total) * others) if c in shared else n) for c, (w, n, _) in rules.items()}

    def select(self, rules: dict[str, tuple[float, int | None, float | None]], validation_fraction: float) -> dict[str, int]:
        """Write the chosen copies into shuffle buckets; returns samples selected per component.
        ``rules``: (weight, num_samples, share) per component."""
        for f in self._spools.values():
            f.close()
        rules = self._shares_as_counts(rules)
        # At most floor(weight) + 1 copies of a row (num_samples: n // kept + 1): enough buckets for that many.
        most = sum(len(keys) * (math.floor(rules[c][0]) + 1) if rules[c][1] is None else rules[c][1] + len(keys) for c, keys in self._keys.items())
        self.buckets = min(MAX_BUCKETS, max(self.buckets, math.ceil(most / ROWS_PER_BUCKET)))
        bucket_files = [open(self.dir / f"bucket-{b:04d}.jsonl", "w", encoding="utf-8") for b in range(self.buckets)]
        selected: dict[str, int] = {}
        for number, component in enumerate(self._spools):
            base, threshold = self._copies_rule(component, *rules[component])
            count = 0
            with open(self.dir / f"spool-{number:03d}.jsonl", encoding="utf-8") as spool:
                orientation = 0
                for line in spool:
                    digest, key, orientations, ref, sample = line.split("\t", 4)
                    copies = base + (float(key) < threshold)
                    split = "valid" if seeded_unit(self.seed, "split", digest) < validation_fraction else "train"
                    for copy in range(copies):
                        order = seeded_unit(self.seed, "order", digest, orientation, copy)
                        bucket = bucket_files[min(int(order * self.buckets), self.buckets - 1)]
                        bucket.write(f"{order!r}\t{split}\t{ref}\t{sample}")
                        count += 1
                    orientation = (orientation + 1) % int(orientations)
            selected[component] = count
        for f in bucket_files:
            f.close()
        return selected

    def shuffled(self) -> Iterator[tuple[str, int, str]]:
        """Every selected sample in shuffled order: ``(split, token reference, sample JSON line)``."""
        for b in range(self.buckets):
            path = self.dir / f"bucket-{b:04d}.jsonl"
            with open(path, encoding="utf-8") as f:
                rows = [line.split("\t", 3) for line in f]
            rows.sort(key=lambda r: float(r[0]))
            for _, split, ref, sample in rows:
                yield split, ref, sample
            path.unlink()

    def cleanup(self) -> None:
        for path in self.dir.glob("spool-*.jsonl"):
            path.unlink()
