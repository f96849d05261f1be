"""The two record types every part of cj2 passes around.

A :class:`JudgeExample` is what a judge is asked about (a question, one or two responses, the
human/gold label). A :class:`TrainingSample` is what the trainer learns from (chat messages, the
target judgment text, and where applicable the verdict the target must contain).
Both round-trip through plain dicts (JSONL).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

LABELS = ("A", "B", "tie")

# Why a teacher's judgment with the right verdict is still refused (cj2.data.curation.judgment_check).
INCOMPLETE_REASONS = ("cot_not_one_object", "cot_missing_keys", "cot_extra_keys", "cot_key_order", "cot_empty_value")
# RejectedRow reasons for rows dropped by design (curation, dedup, a template that cannot state the
# label), not for bad input: quarantined and counted like the rest, never toward max_reject_fraction.
FILTER_REASONS = frozenset({"teacher_disagrees", "duplicate", "label_not_in_template", "not_selected", *INCOMPLETE_REASONS})


@dataclass
class JudgeExample:
    question: str
    responses: list[str]  # one (pointwise / critique) or two (pairwise: A then B)
    label: str | None = None  # "A" | "B" | "tie" (pairwise), "correct"/"incorrect", a score, or None
    source: str = ""
    language: str = "en"
    category: str = ""
    template: str = ""
    id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> JudgeExample:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class TrainingSample:
    messages: list[dict[str, str]]  # the prompt as chat messages (system/user ...), no answer
    target: str  # the assistant reply the model learns (judgment text)
    verdict: str | None = None  # the label the target's verdict states, e.g. "A"; None: SFT only (G-SFT)
    verdict_format: str | None = None  # a name from cj2.verdicts, needed when verdict is set
    source: str = ""
    id: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        # Shallow on purpose: asdict's deep copy is most of the cost of serializing a sample.
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainingSample:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class RejectedRow:
    """A source row that did not become a sample: where it came from and why (quarantine entry)."""

    component: str
    file: str
    row: int  # 1-based position in the file (JSONL: line number; JSON/CSV/Parquet: record number)
    reason: str  # a short key counted in the statistics, e.g. "missing_field"
    detail: str = ""  # the human-readable explanation naming the field
    about: str = ""  # what the reason is about where it is counted by it: the evaluation source of an eval_overlap row

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def content_hash(record: JudgeExample | TrainingSample) -> str:
    """Same question and responses (in either order) -> same hash, across components: the build keeps
    the first such row, and curation never asks the teacher about it twice (curate.skip_known_pairs)."""
    if isinstance(record, TrainingSample):
        payload = json.dumps([record.messages, record.target], ensure_ascii=False, sort_keys=True)
    else:
        payload = "\x00".join([record.question, *sorted(record.responses)])
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
