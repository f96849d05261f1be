"""An oriented judge example and its target judgment -> a :class:`TrainingSample`.

The target comes from, in order: the example's attached judgment (``meta.judgment``: public
critiques, teacher re-judgments, RFT-accepted candidates), the component's writer (the demo's
built-in judge), or the bare verdict when the template accepts a verdict alone (label-only
data). The target must state the example's label in the template's verdict format.
"""

from __future__ import annotations

from collections.abc import Callable

from cj2.data.records import JudgeExample, TrainingSample
from cj2.data.sources.loaders import RowError
from cj2.data.templates import JudgeTemplate, TemplateError
from cj2.verdicts import FORMATS, parse

TargetWriter = Callable[[JudgeExample], str]


def check_label(example: JudgeExample, template: JudgeTemplate) -> None:
    """Reject an example whose label the template's verdict format cannot state (a tie for A/B)."""
    if template.verdict_format is None or example.label is None:
        return
    fmt = FORMATS[template.verdict_format]
    if template.verdict_format != "mtbench_single" and example.label not in fmt.labels:
        raise RowError("label_not_in_template", f"label {example.label!r} cannot be stated by template {template.name} ({', '.join(fmt.labels)})")


def target_of(example: JudgeExample, template: JudgeTemplate, writer: TargetWriter | None) -> str:
    if "judgment" in example.meta:
        return example.meta["judgment"]
    if writer is not None:
        return writer(example)
    if template.verdict_only and example.label is not None:
        return FORMATS[template.verdict_format].render(example.label)
    raise RowError("no_target", f"no judgment to learn from (template {template.name} needs one: map a 'judgment' field, or use role rejudge/rft or a verdict-only template such as cj2_short)")


def to_sample(example: JudgeExample, template: JudgeTemplate, writer: TargetWriter | None = None) -> TrainingSample:
    try:
        messages = template.messages(example)
    except TemplateError as e:
        raise RowError("template_mismatch", str(e)) from None
    target = target_of(example, template, writer)
    verdict = None
    if template.verdict_format is not None and example.label is not None:
        parsed = parse(template.verdict_format, target)
        if not parsed.ok:
            raise RowError("unparsed_judgment", f"the judgment states no {template.verdict_format} verdict ({parsed.reason})")
        if parsed.label != example.label:
            raise RowError("verdict_mismatch", f"the judgment says {parsed.label!r}, the label is {example.label!r}")
        verdict = example.label
    return TrainingSample(
        messages=messages,
        target=target,
        verdict=verdict,
        verdict_format=template.verdict_format if verdict is not None else None,
        source=example.source,
        id=example.id + ("#swapped" if example.meta.get("swapped") else ""),
        meta={"template": template.name, "category": example.category, "language": example.language,
              "swapped": bool(example.meta.get("swapped", False))},
    )
