"""The judge prompt the teacher answers, from the one template registry (cj2.data.templates).

Sampling, training data and evaluation render the same templates, so the judgments a teacher
writes are exactly what the student is trained on and later asked.
"""

from __future__ import annotations

from cj2.data.records import JudgeExample
from cj2.data.templates import get_template


def judge_messages(example: JudgeExample, template: str = "cj2_cot") -> list[dict[str, str]]:
    """The chat conversation asking the teacher to judge ``example`` (a pairwise example)."""
    judge_template = get_template(template)
    if judge_template.kind != "pairwise":
        raise ValueError(f"rejection sampling judges pairs; template {template!r} is a {judge_template.kind} template")
    return judge_template.messages(example)
