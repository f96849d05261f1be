"""The per-row work of a build, run in worker processes: parse, orient, target, render, tokenize.

A chunk of ``(index, record or source row)`` pairs goes in; for each row one :class:`Kept` (the row's content
hash, its samples and their token ids) or one :class:`RejectedRow` comes out, in order. Every
sample is tokenized here, once, in one batch per chunk; packing later only copies ids.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cj2.config.schema import DataComponentConfig
from cj2.data.curation.positions import SwapError, orient
from cj2.data.curation.render import check_label, to_sample
from cj2.data.curation.retemplate import retemplate
from cj2.data.packed.token_spool import process_spool
from cj2.data.packed.tokenize import tokenize_batch
from cj2.data.records import JudgeExample, RejectedRow, TrainingSample, content_hash
from cj2.data.sources.demo import demo_judgment
from cj2.data.sources.loaders import RowError, SourceRow, example_of
from cj2.data.templates import DEFAULTS, get_template

_TOKENIZERS: dict[str, object] = {}


@dataclass(frozen=True)
class ComponentSpec:
    """What a worker needs to know about a component (plain values: it is pickled to workers)."""

    name: str
    kind: str
    template: str | None
    role: str
    seed: int
    swap_mode: str
    seq_length: int
    tokenizer: str
    spool_dir: str  # where each worker appends the token ids of kept samples (cj2.data.packed.token_spool)
    judgment_format: str | None = None  # verdict format of attached judgments (retemplate)
    language: str = "en"  # the component's language (records carry their own)
    source: DataComponentConfig | None = None  # how to read its source rows (field mapping); None: records come ready


@dataclass
class Kept:
    content_hash: str
    samples: list[str]  # TrainingSample dicts as JSON lines (serialized here, in the worker)
    refs: list[str]  # where each sample's ids are in the token spool
    tokens: list[int]
    verdicts: list[str | None]  # each sample's stated verdict (the build's A/B balance)
    file: str  # where the row came from, for the quarantine entry if it turns out a duplicate
    row: int
    formats: list[str | None]  # each sample's verdict format (None: a critique or G-SFT)
    language: str  # the row's language (a G-SFT row: its component's)


def worker_tokenizer(name: str):
    if name not in _TOKENIZERS:
        from cj2.data.packed.encoder import text_encoder
        from cj2.data.packed.tokenizer import load_tokenizer

        _TOKENIZERS[name] = load_tokenizer(name)
        text_encoder(_TOKENIZERS[name])  # read its vocabulary once, before the workers fork
    return _TOKENIZERS[name]


def _template_name(spec: ComponentSpec, example: JudgeExample) -> str:
    if example.template:
        return example.template
    if spec.template:
        return spec.template
    if spec.kind == "knowledge":
        return DEFAULTS["correctness"]
    return DEFAULTS["pairwise" if len(example.responses) == 2 else "single"]


def _samples_of(spec: ComponentSpec, index: int, record: JudgeExample | TrainingSample) -> list[TrainingSample]:
    if isinstance(record, TrainingSample):  # G-SFT passthrough
        return [record]
    if spec.role == "retemplate" or record.meta.get("retemplate"):
        record, template = retemplate(record, spec.seed, spec.judgment_format)
    else:
        template = get_template(_template_name(spec, record))
    check_label(record, template)
    writer = demo_judgment if spec.kind == "synthetic_demo" else None
    try:
        # Curated rows were oriented before the teacher judged them.
        oriented = record.meta.get("variants") or orient(record, spec.swap_mode, spec.seed, index, template.verdict_format)
    except SwapError as e:
        raise RowError("swap_failed", str(e)) from None
    return [to_sample(example, template, writer) for example in oriented]


def process_chunk(spec: ComponentSpec, items: list[tuple[int, JudgeExample | TrainingSample | SourceRow | RejectedRow]]) -> list[Kept | RejectedRow]:
    """One outcome per item, in order."""
    rendered: list[tuple[int, object, list[TrainingSample] | RejectedRow]] = []
    for index, item in items:
        record = example_of(spec.source, spec.name, item) if isinstance(item, SourceRow) else item
        if isinstance(record, RejectedRow):
            rendered.append((index, record, record))
            continue
        try:
            rendered.append((index, record, _samples_of(spec, index, record)))
        except RowError as e:
            rendered.append((index, record, _rejected(spec, record, e.reason, str(e))))
    flat = [s for _, _, out in rendered if not isinstance(out, RejectedRow) for s in out]
    tokenized = iter(tokenize_batch(flat, worker_tokenizer(spec.tokenizer)))
    spool = process_spool(spec.spool_dir)
    outcomes: list[Kept | RejectedRow] = []
    for _, record, out in rendered:
        if isinstance(out, RejectedRow):
            outcomes.append(out)
            continue
        samples, reasons = zip(*(next(tokenized) for _ in out), strict=True)
        longest = max(len(t.input_ids) for t in samples)
        if longest > spec.seq_length:
            outcomes.append(_rejected(spec, record, "over_long", f"{longest} tokens > data.seq_length={spec.seq_length}"))
            continue
        refs = [spool.append(t, reason) for t, reason in zip(samples, reasons, strict=True)]
        file, row = _origin(spec, record)
        language = record.language if isinstance(record, JudgeExample) else spec.language
        outcomes.append(Kept(content_hash(record), [json.dumps(s.to_dict(), ensure_ascii=False) for s in out], refs, [len(t.input_ids) for t in samples],
                             [s.verdict for s in out], file, row, [s.verdict_format for s in out], language))
    spool.flush()
    return outcomes


def _origin(spec: ComponentSpec, record: JudgeExample | TrainingSample) -> tuple[str, int]:
    return str(record.meta.get("file", spec.name)), int(record.meta.get("row", 0))


def _rejected(spec: ComponentSpec, record, reason: str, detail: str) -> RejectedRow:
    return RejectedRow(spec.name, *_origin(spec, record), reason, detail)

