"""Source rows to records, through the component's field mapping (a config entry, no code).

``load_examples(component)`` yields a :class:`JudgeExample` per usable row (a
:class:`TrainingSample` for ``sft`` components) and a :class:`RejectedRow` for every row that
is not, so ``rows in = yielded examples + rejected rows`` always.

Record fields per kind (each maps to a source column via ``fields``; unmapped fields default to
the column of the same name; optional fields may be absent):

- pairwise: question, response_a, response_b, label (A | B | tie after ``label_map``);
  optional judgment (an existing critique/judgment text), id, category, language, date
- pointwise: question, response; optional label (a score or correct/incorrect), ...
- knowledge: question, gold (the reference answer); optional response (a model's answer)
- chat_style: question; optional response_a, response_b, requirement
- sft: messages (a list of {role, content}, the last one the assistant's) or prompt + response;
  rows already in TrainingSample form (``messages`` + ``target``, e.g. a sampling run's
  accepted.jsonl) pass through with their verdict, which must match the target's text
"""

from __future__ import annotations

import os.path
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from omegaconf import DictConfig, OmegaConf

from cj2.config.schema import DataComponentConfig
from cj2.data.records import JudgeExample, RejectedRow, TrainingSample
from cj2.data.sources.fields import FieldError, resolve, resolve_text
from cj2.data.sources.raw import RawLine, iter_rows, parse_line

REQUIRED = {
    "pairwise": ("question", "response_a", "response_b", "label"),
    "pointwise": ("question", "response"),
    "knowledge": ("question", "gold"),
    "chat_style": ("question",),
    "sft": (),
}
OPTIONAL = ("id", "category", "language", "date", "judgment", "label", "response", "response_a", "response_b", "requirement")
PAIRWISE_LABELS = ("A", "B", "tie")


class RowError(ValueError):
    """Why one row is unusable: ``reason`` is the counted key, the message names the field."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


def _spec(component, field: str) -> str:
    if field == "date" and component.date_field:
        return component.date_field
    return component.fields.get(field, field)


def _text(component, row: dict, field: str, required: bool) -> str | None:
    spec = _spec(component, field)
    try:
        value = resolve_text(row, spec)
    except FieldError as e:
        missing = str(e).startswith("missing field") or str(e).endswith("is null")
        if missing and not required:
            return None
        reason = "missing_field" if missing else "bad_label" if field == "label" else "bad_field"
        raise RowError(reason, f"field {field!r} (spec {spec!r}): {e}") from None
    if field.startswith("response") and not value.strip():
        raise RowError("empty_response", f"field {field!r} is empty")
    if field in ("question", "gold") and not value.strip():
        raise RowError("missing_field", f"field {field!r} is empty")
    return value


def _label(component, raw: str, kind: str) -> str:
    label_map = {str(k): str(v) for k, v in component.label_map.items()}
    value = str(raw).strip()
    if label_map:
        if value not in label_map:
            raise RowError("bad_label", f"label value {value!r} is not in label_map ({', '.join(label_map)})")
        value = label_map[value]
    if kind == "pairwise" and value not in PAIRWISE_LABELS:
        raise RowError("bad_label", f"label {value!r} is not one of A, B, tie (add a label_map)")
    return value


def _language(component, value: str | None) -> str:
    """The row's language: its own value through ``language_map`` (when the component has one), else the component's."""
    if component.language_map:
        return {str(k).lower(): str(v) for k, v in component.language_map.items()}.get((value or "").strip().lower(), component.language)
    return value or component.language


def _row_id(name: str, file: str, number: int) -> str:
    return f"{name}/{os.path.basename(file)}:{number}"


def row_to_example(component, name: str, file: str, number: int, row: dict[str, Any]) -> JudgeExample | TrainingSample:
    """One source row as a record; raises :class:`RowError` for an unusable row."""
    kind = component.kind
    if kind == "sft":
        return _sft_sample(component, name, file, number, row)
    values = {f: _text(component, row, f, required=True) for f in REQUIRED[kind]}
    for f in OPTIONAL:
        if f not in values and (f in component.fields or f in row or (f == "date" and component.date_field)):
            values[f] = _text(component, row, f, required=False)
    if kind == "pairwise":
        responses = [values["response_a"], values["response_b"]]
    elif values.get("response_a") and values.get("response_b"):
        responses = [values["response_a"], values["response_b"]]
    else:
        responses = [values["response"]] if values.get("response") else []
    label = values.get("label")
    if kind == "knowledge" and component.label_map:  # MMLU's gold index 0-3 -> A-D
        values["gold"] = _label(component, values["gold"], kind)
    meta = {k: values[k] for k in ("judgment", "date", "gold", "requirement") if values.get(k) is not None}
    meta.update(file=file, row=number)
    return JudgeExample(
        question=values["question"],
        responses=responses,
        label=_label(component, label, kind) if label is not None else None,
        source=name,
        language=_language(component, values.get("language")),
        category=values.get("category") or "",
        template=component.template or "",
        id=values.get("id") or _row_id(name, file, number),
        meta=meta,
    )


def _training_sample_row(name: str, file: str, number: int, row: dict[str, Any]) -> TrainingSample:
    """A row already in TrainingSample form (e.g. the sampling run's accepted.jsonl), verdict kept."""
    sample = TrainingSample.from_dict(row)
    if not isinstance(sample.messages, list) or not sample.messages or not isinstance(sample.target, str) or not sample.target.strip():
        raise RowError("malformed_row", "a TrainingSample row needs non-empty 'messages' and 'target'")
    if sample.verdict is not None:
        from cj2.verdicts import FORMATS, parse

        if sample.verdict_format not in FORMATS:
            raise RowError("bad_label", f"verdict_format {sample.verdict_format!r} is not a known verdict format")
        stated = parse(sample.verdict_format, sample.target)
        if stated.label != sample.verdict:
            raise RowError("verdict_mismatch", f"the target states {stated.label or stated.reason!r}, verdict says {sample.verdict!r}")
    sample.source = sample.source or name
    sample.id = sample.id or _row_id(name, file, number)
    sample.meta = dict(sample.meta or {}, file=file, row=number)
    return sample


def _sft_sample(component, name: str, file: str, number: int, row: dict[str, Any]) -> TrainingSample:
    if not component.fields and "target" in row and "messages" in row:
        return _training_sample_row(name, file, number, row)
    spec = _spec(component, "messages")
    try:
        messages = resolve(row, spec)
    except FieldError:
        messages = None
    if messages is not None:
        if not isinstance(messages, list) or len(messages) < 2 or not all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in messages):
            raise RowError("malformed_row", f"field 'messages' (from {spec!r}) must be a list of at least two {{role, content}} dicts")
        if messages[-1]["role"] != "assistant":
            raise RowError("malformed_row", "the last message of 'messages' must be the assistant's reply")
        prompt, target = [dict(role=m["role"], content=str(m["content"])) for m in messages[:-1]], str(messages[-1]["content"])
    else:
        prompt = [{"role": "user", "content": _text(component, row, "prompt", required=True)}]
        target = _text(component, row, "response", required=True)
    if not target.strip():
        raise RowError("empty_response", "the assistant reply is empty")
    ident = _text(component, row, "id", required=False) if ("id" in component.fields or "id" in row) else None
    return TrainingSample(messages=prompt, target=target, source=name, id=ident or _row_id(name, file, number), meta={"file": file, "row": number})


def plain_component(component) -> DataComponentConfig:
    """The component as a plain dataclass: OmegaConf attribute access costs more than the row work."""
    if isinstance(component, DataComponentConfig):
        return component
    if isinstance(component, DictConfig):
        component = OmegaConf.to_container(component, resolve=True)
    return DataComponentConfig(**component)


class SourceRow(NamedTuple):
    """A row as its source gave it (a JSONL line may still be unparsed): :func:`example_of` makes it a record."""

    file: str
    item: tuple[int, dict] | RawLine | RejectedRow


def source_rows(component, name: str) -> Iterator[SourceRow]:
    """Every row of ``component`` (a plain DataComponentConfig), unparsed where that is cheaper to leave to the build's workers."""
    for file, item in iter_rows(name, component.path, component.format, component.hub_name, component.split, component.hub_config, component.hub_revision, component.hub_data_dir):
        yield SourceRow(file, item)


def example_of(component, name: str, row: SourceRow) -> JudgeExample | TrainingSample | RejectedRow:
    """One source row as a record, or its rejection."""
    item = parse_line(name, row.file, row.item) if isinstance(row.item, RawLine) else row.item
    if isinstance(item, RejectedRow):
        return item
    number, fields = item
    for column, wanted in component.where.items():
        if str(fields.get(column)) != str(wanted):
            return RejectedRow(name, row.file, number, "not_selected", f"column {column!r} is {fields.get(column)!r}, not {wanted!r} (where)")
    try:
        return row_to_example(component, name, row.file, number, fields)
    except RowError as e:
        return RejectedRow(name, row.file, number, e.reason, str(e))


def load_examples(component, name: str = "") -> Iterator[JudgeExample | TrainingSample | RejectedRow]:
    """Every row of ``component`` (a DataComponentConfig, or its DictConfig / dict) as a record or a :class:`RejectedRow`."""
    component = plain_component(component)
    name = name or Path(component.path or component.hub_name or "component").stem
    for row in source_rows(component, name):
        yield example_of(component, name, row)
