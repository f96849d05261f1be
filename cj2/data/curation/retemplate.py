"""Re-rendering recent public judge data with a randomly drawn community template (method.md 3.1b).

The prompt becomes a seeded draw from the pairwise templates whose verdict format can state the
example's label; the public critique is kept as the reasoning and its verdict is rewritten in
the drawn template's format (:func:`compose_judgment`), so prompt and answer always agree.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from cj2.data.records import JudgeExample
from cj2.data.sources.loaders import RowError
from cj2.data.templates import JudgeTemplate, templates_of_kind
from cj2.utils.seeded import seeded_unit
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


_VERDICT_WORD = r"(?:verdict|rating|score|decision|judge?ment|choice|conclusion)"
_CONNECTIVE = r"(?:therefore|thus|hence|so|overall|in conclusion|in summary)"
# The words that announce a verdict on its line, up to the verdict itself: a sentence that opens with a
# verdict word and a colon or "is" ("My final verdict is: Assistant A is better: [[A>B]]", "Final: [[A>B]]",
# "Rating: [[7]]"), its Chinese form, or a bare connective ("..., therefore [[A]]"). Other sentences stay.
_LEAD_IN = re.compile(
    rf"(?:(?:^|(?<=[.!?]\s))[\s*_#>-]*(?:{_CONNECTIVE}\b[,:]?\s*)?(?:(?:my|the|our)\s+)?"
    rf"(?:final\b(?:\s+{_VERDICT_WORD})?|{_VERDICT_WORD})(?:\s*[:：]|\s+(?:is|was)\b)[^\n.!?]{{0,80}}"
    rf"|(?:我的)?(?:最终)?(?:裁决|判决|结论|评分|选择|判断)[^\n。！？]{{0,40}}"
    rf"|\b{_CONNECTIVE}\b[,:]?"
    rf")?[\s*_]*$",
    re.IGNORECASE,
)


def strip_verdicts(text: str) -> str:
    """``text`` without any verdict of any format cj2 knows (``[[A]]``, ``[[A>B]]``, ``[[7]]``,
    ``"Choice": "Model A"``, ``"winner": "B"``...) and the words that announce it; a line left with
    no words is dropped. A public critique written for another format must not carry its old verdict
    into a judgment that states the label in the drawn format."""
    cuts, pos = [], 0
    for start, end in sorted(span for fmt in FORMATS.values() for span in fmt.slot_spans(text)):
        if start < pos:  # the same brackets read by two formats
            pos = max(pos, end)
            continue
        line_start = max(pos, text.rfind("\n", 0, start) + 1)
        lead = _LEAD_IN.search(text[line_start:start])
        cuts.append((line_start + lead.start(), end))
        pos = end
    if not cuts:
        return text.strip()
    lines: list[str] = []
    line_start = 0
    for line in text.split("\n"):
        line_end = line_start + len(line)
        inside = [(max(s, line_start), min(e, line_end)) for s, e in cuts if s < line_end and e > line_start]
        if inside:
            bounds = [line_start, *(b for span in inside for b in span), line_end]
            pieces = [text[bounds[i] : bounds[i + 1]].strip() for i in range(0, len(bounds), 2)]
            body = " ".join(p for p in pieces if p)
            if not re.search(r"\w", body):
                while lines and not lines[-1].strip():  # the blank lines that set the verdict apart go with it
                    lines.pop()
                line_start = line_end + 1
                continue
            line = line[: len(line) - len(line.lstrip())] + body
        lines.append(line)
        line_start = line_end + 1
    return "\n".join(lines).strip()


def reasoning_of(judgment: str) -> str:
    """The argument of an existing judgment without its verdict: a JSON reasoning field, or the
    text, each with every verdict of every known format taken out (:func:`strip_verdicts`)."""
    start, end = judgment.find("{"), judgment.rfind("}")
    if start >= 0:
        try:
            obj = json.loads(judgment[start : end + 1], strict=False)  # a teacher's raw line breaks inside a value
        except json.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            for key in _REASONING_KEYS:
                if isinstance(obj.get(key), str) and obj[key].strip():
                    return strip_verdicts(obj[key])
    return strip_verdicts(judgment)


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
    reasoning = reasoning_of(judgment)
    meta = dict(example.meta, judgment=compose_judgment(template.verdict_format, reasoning, example.label))
    return replace(example, template=template.name, meta=meta), template
