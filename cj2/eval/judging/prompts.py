"""Judge prompts for evaluation and ``launch/judge.py``, by mode: pairwise, pointwise, critique.

They come from the one template registry (:mod:`cj2.data.templates`) that training data and
rejection sampling render too, so a judge is asked in the words it was trained on. Each
template names the verdict format its answer is parsed with (None for free-text critiques).
"""

from __future__ import annotations

from dataclasses import dataclass

from cj2.data.records import JudgeExample
from cj2.data.templates import JudgeTemplate as RegistryTemplate
from cj2.data.templates import get_template as registry_template

Messages = list[dict[str, str]]

# Judge modes and the registry's template kinds.
MODE_OF_KIND = {"pairwise": "pairwise", "single": "pointwise", "correctness": "pointwise", "critique": "critique"}
DEFAULT_FOR_MODE = {"pairwise": "cj2_cot", "pointwise": "mtbench_single", "critique": "cj2_critique"}


@dataclass(frozen=True)
class JudgeTemplate:
    name: str
    mode: str  # pairwise | pointwise | critique
    verdict_format: str | None
    source: RegistryTemplate


def get_template(name: str) -> JudgeTemplate:
    try:
        t = registry_template(name)
    except KeyError as e:
        raise ValueError(str(e.args[0])) from None
    return JudgeTemplate(t.name, MODE_OF_KIND[t.kind], t.verdict_format, t)


def render(template: JudgeTemplate, question: str, responses: list[str]) -> Messages:
    """The chat messages asking ``template``'s question about one or two responses."""
    needed = 2 if template.mode == "pairwise" else 1
    if len(responses) != needed:
        raise ValueError(f"template {template.name!r} ({template.mode}) needs {needed} response(s), got {len(responses)}")
    return template.source.messages(JudgeExample(question=question, responses=list(responses)))
