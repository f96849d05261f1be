"""A judge prompt template: the messages a judge reads, and the verdict format it must answer in.

Placeholders are ``{question}``, ``{response_a}``, ``{response_b}`` (pairwise), ``{response}``
(single), ``{requirement}`` (a stated style requirement). They are filled in one pass, so text
inside a question or response that looks like a placeholder (or JSON braces) is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cj2.data.records import JudgeExample

_PLACEHOLDER = re.compile(r"\{(question|response_a|response_b|response|requirement)\}")
KINDS = ("pairwise", "single", "correctness", "critique")


class TemplateError(ValueError):
    """An example this template cannot render (wrong number of responses, missing requirement)."""


@dataclass(frozen=True)
class JudgeTemplate:
    name: str
    kind: str  # pairwise | single | correctness | critique
    verdict_format: str | None  # a cj2.verdicts format name; None for critiques
    user: str
    system: str | None = None
    language: str = "en"
    family: str = "cj2"  # the community style it follows: cj2, judgerbench, arena_hard, mtbench, wildbench ...
    # True when the verdict alone is a complete answer (label-only data can train on it).
    verdict_only: bool = False

    @property
    def needs_requirement(self) -> bool:
        return "{requirement}" in self.user

    def fill(self, example: JudgeExample) -> str:
        values = {"question": example.question, "requirement": str(example.meta.get("requirement", ""))}
        if self.kind == "pairwise":
            if len(example.responses) != 2:
                raise TemplateError(f"template {self.name} needs two responses, example {example.id!r} has {len(example.responses)}")
            values["response_a"], values["response_b"] = example.responses
        else:
            if len(example.responses) != 1:
                raise TemplateError(f"template {self.name} needs one response, example {example.id!r} has {len(example.responses)}")
            values["response"] = example.responses[0]
        if self.needs_requirement and not values["requirement"]:
            raise TemplateError(f"template {self.name} states a requirement, example {example.id!r} has none (meta.requirement)")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.user)

    def messages(self, example: JudgeExample) -> list[dict[str, str]]:
        """The prompt as chat messages (the tokenizer's chat template turns them into text)."""
        messages = [{"role": "system", "content": self.system}] if self.system else []
        return messages + [{"role": "user", "content": self.fill(example)}]
