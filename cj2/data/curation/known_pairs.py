"""Pairs the teacher is never asked about twice (``curate.skip_known_pairs``, method.md 3.2).

Public preference sets overlap: Skywork-Reward-Preference v0.2 is a curated subsample of HelpSteer2,
OffsetBias, WildGuard and Magpie pairs, so a mixture listing Skywork and HelpSteer2 would pay the
teacher for the same pair twice, and the build would then drop the second copy as a duplicate. A pair
(the question and both responses, in either order: :func:`cj2.data.records.content_hash`, the build's
own key) that a component earlier in the mixture holds, or an earlier row of the same component, is
quarantined as ``duplicate`` before the curation stage calls the teacher, naming where it was first.
"""

from __future__ import annotations

from cj2.data.records import JudgeExample, RejectedRow, content_hash
from cj2.data.sources.loaders import example_of, plain_component, source_rows


def earlier_components(cfg, name: str) -> list[str]:
    """The pairwise components read from a source before ``name`` in the mixture's order."""
    names = list(cfg.data.components)
    return [other for other in names[: names.index(name)] if cfg.data.components[other].kind == "pairwise"]


def _pairs(component, name: str):
    """(index, content hash, row) of every two-response row of a component's source, ``index`` counting every row."""
    for index, row in enumerate(source_rows(component, name)):
        record = example_of(component, name, row)
        if isinstance(record, JudgeExample) and len(record.responses) == 2:
            yield index, content_hash(record), int(record.meta.get("row", 0))


class KnownPairs:
    """The pairs held before each row of component ``name``: read from every earlier pairwise
    component's source and from ``name``'s own (its first row with each pair)."""

    def __init__(self, cfg, name: str):
        self.name = name
        self.earlier: dict[str, str] = {}
        for other in earlier_components(cfg, name):
            for _, key, row in _pairs(plain_component(cfg.data.components[other]), other):
                self.earlier.setdefault(key, f"component {other!r} row {row}")
        self.first: dict[str, tuple[int, int]] = {}  # key -> (index, row) of the component's first row with it
        for index, key, row in _pairs(plain_component(cfg.data.components[name]), name):
            self.first.setdefault(key, (index, row))

    def screen(self, items: list) -> list:
        """``items`` (index, record or rejection) with every row whose pair is known before it replaced by its ``duplicate`` rejection."""
        out = []
        for index, record in items:
            if isinstance(record, JudgeExample) and len(record.responses) == 2:
                key = content_hash(record)
                where = self.earlier.get(key)
                first_index, first_row = self.first.get(key, (index, 0))
                if where is None and first_index < index:
                    where = f"row {first_row} of this component"
                if where is not None:
                    record = RejectedRow(self.name, str(record.meta.get("file", self.name)), int(record.meta.get("row", 0)), "duplicate",
                                         f"the same question and responses as {where}: not judged twice")
            out.append((index, record))
        return out
