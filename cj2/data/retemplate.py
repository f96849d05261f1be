"""Re-rendering recent public judge data with a randomly drawn community template (method.md 3.1b).

The prompt becomes a seeded draw from the pairwise templates whose verdict format can state the
example's label; the public critique is kept as the reasoning and its verdict is rewritten in
the drawn template's format (:func:`compose_judgment`), so prompt and answer always agree.
"""

from __future__ import annotations

import json
from dataclasses import replace

from cj2.data.loaders import RowError
from cj2.data.positions import seeded_unit
from cj2.data.records import JudgeExample
from cj2.data.templates import JudgeTemplate, templates_of_kind
from cj2.verdicts import FORMATS, parse

_STRENGTH = {"A": "A>B", "B": "B>A", "tie": "A=B"}
_REASONING_KEYS = ("Reasoning", "analysis", "分析", "explanation", "rationale")


def _json_object(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1)


def compose_judgment(verdict_format: str, reasoning: str, label: str) -> str:
    """A judgment in ``verdict_format`` that argues with ``reasoning`` and states ``label``."""
    reasoning = reasoning.strip()
    if verdict_format == "judgerbench_en":
        return _json_object({"analysis": reasoning, "winner": label})
    if verdict_format == "judgerbench_cn":
        return _json_object({"分析": reasoning, "胜者": label})
    if verdict_format == "wildbench":
        return _json_object({"analysis": reasoning, "choice": FORMATS["wildbench"].render(label).split('"')[3]})
    if verdict_format == "arena_hard":
        return f"{reasoning}\n\nMy final verdict is: [[{_STRENGTH[label]}]]"
    if verdict_format == "mtbench_pair":
        return f"{reasoning}\n\n{FORMATS['mtbench_pair'].render(label)}"
    if verdict_format == "cj2_short":
        return f"{reasoning}\n\n{FORMATS['cj2_short'].render(label)}"
    raise ValueError(f"cannot compose a {verdict_format} judgment from free-text reasoning")


COMPOSABLE = ("judgerbench_en", "judgerbench_cn", "wildbench", "arena_hard", "mtbench_pair", "cj2_short")


def reasoning_of(judgment: str, verdict_format: str | None) -> str:
    """The argument of an existing judgment without its verdict: a JSON reasoning field, or the
    text before the line that states the verdict."""
    start, end = judgment.find("{"), judgment.rfind("}")
    if start >= 0:
        try:
            obj = json.loads(judgment[start : end + 1])
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            for key in _REASONING_KEYS:
                if isinstance(obj.get(key), str) and obj[key].strip():
                    return obj[key]
    if verdict_format:
        verdict = parse(verdict_format, judgment)
        if verdict.ok:
            return judgment[: judgment.rfind("\n", 0, verdict.span[0]) + 1].strip() or judgment[: verdict.span[0]].strip()
    return judgment.strip()


def eligible_templates(example: JudgeExample) -> list[JudgeTemplate]:
    return [t for t in templates_of_kind("pairwise", example.language)
            if t.verdict_format in COMPOSABLE and not t.needs_requirement and example.label in FORMATS[t.verdict_format].labels]


def retemplate(example: JudgeExample, seed: int, judgment_format: str | None) -> tuple[JudgeExample, JudgeTemplate]:
    """The example with a drawn template and its judgment rewritten for that template."""
    judgment = example.meta.get("judgment")
    if not judgment:
        raise RowError("no_target", "retemplate needs the public judgment (map a 'judgment' field)")
    if judgment_format:
        stated = parse(judgment_format, judgment)
        if stated.ok and stated.label != example.label:
            raise RowError("verdict_mismatch", f"the public judgment says {stated.label!r}, the label is {example.label!r}")
    choices = eligible_templates(example)
    if not choices:
        raise RowError("label_not_in_template", f"no {example.language} template can state label {example.label!r}")
    template = choices[int(seeded_unit(seed, "template", example.id) * len(choices))]
    reasoning = reasoning_of(judgment, judgment_format)
    meta = dict(example.meta, judgment=compose_judgment(template.verdict_format, reasoning, example.label))
    return replace(example, template=template.name, meta=meta), template
