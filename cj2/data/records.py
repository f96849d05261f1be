"""The two record types every part of cj2 passes around.

A :class:`JudgeExample` is what a judge is asked about (a question, one or two responses, the
human/gold label). A :class:`TrainingSample` is what the trainer learns from (chat messages, the
target judgment text, and where applicable the verdict the target must contain).
Both round-trip through plain dicts (JSONL).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional

LABELS = ("A", "B", "tie")


@dataclass
class JudgeExample:
    question: str
    responses: List[str]  # one (pointwise / critique) or two (pairwise: A then B)
    label: Optional[str] = None  # "A" | "B" | "tie" (pairwise), "correct"/"incorrect", a score, or None
    source: str = ""
    language: str = "en"
    category: str = ""
    template: str = ""
    id: str = ""
    meta: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "JudgeExample":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class TrainingSample:
    messages: List[Dict[str, str]]  # the prompt as chat messages (system/user ...), no answer
    target: str  # the assistant reply the model learns (judgment text)
    verdict: Optional[str] = None  # the label the target's verdict states, e.g. "A"; None: SFT only (G-SFT)
    verdict_format: Optional[str] = None  # a name from cj2.verdicts, needed when verdict is set
    source: str = ""
    id: str = ""
    meta: Dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "TrainingSample":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})
