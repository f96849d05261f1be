"""Judge prompt templates by name; each names the verdict format its answers are parsed with."""

from __future__ import annotations

from cj2.data.templates.base import KINDS, JudgeTemplate, TemplateError
from cj2.data.templates.cj2_prompts import CJ2_COT, CJ2_COT_COMPACT, CJ2_CRITIQUE, COT_KEYS
from cj2.data.templates.community import TEMPLATES as _COMMUNITY

TEMPLATES: dict[str, JudgeTemplate] = {t.name: t for t in (CJ2_COT, CJ2_COT_COMPACT, CJ2_CRITIQUE, *_COMMUNITY)}

# The default template of each judge-example kind.
DEFAULTS = {"pairwise": "cj2_cot", "single": "mtbench_single", "correctness": "knowledge_correctness", "critique": "cj2_critique"}

__all__ = ["COT_KEYS", "DEFAULTS", "KINDS", "TEMPLATES", "JudgeTemplate", "TemplateError", "get_template", "templates_of_kind"]


def get_template(name: str) -> JudgeTemplate:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise KeyError(f"unknown judge template {name!r}; known: {', '.join(sorted(TEMPLATES))}") from None


def templates_of_kind(kind: str, language: str | None = None) -> list[JudgeTemplate]:
    """Every template of ``kind`` (and ``language`` when given), in a fixed order (for seeded draws)."""
    return [t for _, t in sorted(TEMPLATES.items()) if t.kind == kind and (language is None or t.language == language)]
