"""Teacher curation and synthesis (method.md section 3), run in the build's main process.

Every step asks a teacher through the sampling engines' ``generate`` interface and keeps a
judgment only when its verdict is the known answer:

- ``rejudge`` (public judge data): rows dated before ``data.date_cutoff`` are re-judged by the
  teacher and kept where its verdict matches the human label; rows on or after it are re-rendered
  with a randomly drawn template (``retemplate``). Without a date field every row is re-judged.
- ``rft`` (reward data): the teacher writes ``sample.n`` candidates; the first ``sample.accept_cap``
  (M) whose verdict matches the label are kept.

On every step a judgment counts only when complete (cj2.data.judgment_check: the CoT format's
seven keys, in order, non-empty); a row whose agreeing judgments are all incomplete is rejected
with the incompleteness reason instead of ``teacher_disagrees``.
- ``synthesize`` on a ``knowledge`` component: a model answer (the row's ``response``, or one the
  engine writes) is graded against the gold answer by extraction; the teacher judges correctness
  and is kept where it agrees.
- ``synthesize`` on a ``chat_style`` component: two responses written under contrasting style
  instructions; one style becomes the stated requirement, and the teacher must pick the response
  that meets it.

Rows come in and go out chunk by chunk, in order; a curated row carries its oriented examples
with their judgments (``meta.variants``) so the workers only render and count tokens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

from cj2.data.answers import is_correct
from cj2.data.judgment_check import incomplete_reason
from cj2.data.positions import orient, seeded_unit
from cj2.data.records import JudgeExample, RejectedRow
from cj2.data.templates import get_template
from cj2.verdicts import parse

# (instruction for response A's author, for B's, the requirement that prefers A, the one that prefers B)
STYLE_AXES = [
    ("Answer in detail, covering background and edge cases.", "Answer as briefly as possible: two sentences at most.",
     "I want a thorough, detailed answer.", "I want a short, concise answer; no extra detail."),
    ("Answer in a formal, professional register.", "Answer in a relaxed, conversational tone.",
     "Please keep the tone formal and professional.", "Please keep it casual and friendly."),
    ("Format the answer as a bulleted list.", "Write the answer as flowing prose, with no lists.",
     "I prefer answers formatted as bullet points.", "I prefer plain paragraphs, no bullet points."),
    ("Explain step by step, showing your reasoning.", "Give only the final answer, with no explanation.",
     "Show me the steps of your reasoning.", "Just give me the answer, without the explanation."),
    ("Illustrate the answer with a concrete example.", "Answer in general terms without examples.",
     "Please include a concrete example.", "No examples please, just the general answer."),
]


def teacher_from_config(cfg):
    from cj2.sample.engines import build_engine
    from cj2.sample.job import engine_options

    return build_engine(cfg.sample.engine, **engine_options(cfg))


class Curator:
    def __init__(self, cfg, name: str, component, engine):
        self.cfg, self.component_name, self.component, self.engine = cfg, name, component, engine
        self.seed = cfg.data.seed
        self.answer_type = component.options.get("answer_type", "letter")

    def _generate(self, prompts: list[list[dict]], ids: list[str], n: int, purpose: str) -> list[list[str]]:
        s = self.cfg.sample
        seeds = [int(seeded_unit(self.seed, purpose, i) * 2**31) for i in ids]
        return self.engine.generate(prompts, n=n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens, seed=seeds)

    def _judge(self, rows: list[tuple[int, JudgeExample]], template_name: str, n: int) -> dict[int, JudgeExample | RejectedRow]:
        """Orient each row, let the teacher judge every orientation, keep rows whose every orientation got a matching verdict."""
        template = get_template(template_name)
        oriented = [(index, ex, orient(ex, self.cfg.data.swap_positions, self.seed, index, None)) for index, ex in rows]
        flat = [variant for _, _, variants in oriented for variant in variants]
        outputs = iter(self._generate([template.messages(v) for v in flat], [v.id + str(v.meta.get("swapped", False)) for v in flat], n, "judge"))
        cap = self.cfg.sample.accept_cap  # M, as launch/sample.py keeps it
        result: dict[int, JudgeExample | RejectedRow] = {}
        for index, ex, variants in oriented:
            judged, refused, every_order = [], Counter(), True
            for variant in variants:  # every order's candidates are read, to stay aligned with the next row's
                accepted = []
                for candidate in next(outputs):
                    if parse(template.verdict_format, candidate).label != variant.label:
                        continue
                    incomplete = incomplete_reason(template.verdict_format, candidate)
                    if incomplete:
                        refused[incomplete[0]] += 1
                    else:
                        accepted.append(candidate)
                every_order = every_order and bool(accepted)
                judged += [replace(variant, template=template.name, meta=dict(variant.meta, judgment=c)) for c in (accepted[:cap] if cap > 0 else accepted)]
            if every_order:
                result[index] = replace(ex, template=template.name, meta=dict(ex.meta, variants=judged))
            else:
                where = str(ex.meta.get("file", self.component_name)), int(ex.meta.get("row", 0))
                if refused:  # the teacher agreed, but only in judgments that skip part of the analysis
                    reason = refused.most_common(1)[0][0]
                    result[index] = RejectedRow(self.component_name, *where, reason, f"every teacher judgment stating {ex.label!r} is incomplete ({dict(refused)})")
                else:
                    result[index] = RejectedRow(self.component_name, *where, "teacher_disagrees", f"no teacher judgment ({n} per order) states the label {ex.label!r}")
        return result

    def _recent(self, example: JudgeExample) -> bool:
        date = example.meta.get("date")
        return date is not None and str(date)[:10] >= str(self.cfg.data.date_cutoff)[:10]

    def _answer_knowledge(self, rows: list[tuple[int, JudgeExample]]) -> list[tuple[int, JudgeExample]]:
        missing = [(i, ex) for i, ex in rows if not ex.responses]
        if missing:
            answers = self._generate([[{"role": "user", "content": ex.question}] for _, ex in missing], [ex.id for _, ex in missing], 1, "answer")
            written = {i: a[0] for (i, _), a in zip(missing, answers, strict=True)}
        else:
            written = {}
        out = []
        for i, ex in rows:
            response = ex.responses[0] if ex.responses else written[i]
            label = "correct" if is_correct(response, ex.meta["gold"], self.answer_type) else "incorrect"
            out.append((i, replace(ex, responses=[response], label=label)))
        return out

    def _style_pairs(self, rows: list[tuple[int, JudgeExample]]) -> list[tuple[int, JudgeExample]]:
        axes = [STYLE_AXES[int(seeded_unit(self.seed, "axis", ex.id) * len(STYLE_AXES))] for _, ex in rows]
        prompts = [[{"role": "system", "content": axis[side]}, {"role": "user", "content": ex.question}] for (_, ex), axis in zip(rows, axes, strict=True) for side in (0, 1)]
        ids = [ex.id + side for _, ex in rows for side in ("a", "b")]
        responses = iter(self._generate(prompts, ids, 1, "style"))
        out = []
        for (i, ex), axis in zip(rows, axes, strict=True):
            first, second = next(responses)[0], next(responses)[0]
            wants_first = seeded_unit(self.seed, "requirement", ex.id) < 0.5
            out.append((i, replace(ex, responses=[first, second], label="A" if wants_first else "B",
                                   meta=dict(ex.meta, requirement=axis[2] if wants_first else axis[3]))))
        return out

    def chunk(self, items: list) -> list:
        rows = [(i, r) for i, r in items if not isinstance(r, RejectedRow)]
        role, kind = self.component.role, self.component.kind
        template = self.component.template
        n = int(self.component.options.get("teacher_n", self.cfg.sample.n if role == "rft" else 1))
        if role == "rejudge":
            recent = {i for i, ex in rows if self._recent(ex)}
            judged = self._judge([(i, ex) for i, ex in rows if i not in recent], template or "cj2_cot", n)
            for i, ex in rows:
                if i in recent:
                    judged[i] = replace(ex, meta=dict(ex.meta, retemplate=True))
        elif role == "rft":
            judged = self._judge(rows, template or "cj2_cot", n)
        elif kind == "knowledge":
            judged = self._judge(self._answer_knowledge(rows), template or "knowledge_correctness", n)
        elif kind == "chat_style":
            judged = self._judge(self._style_pairs(rows), template or "chat_style_pair", n)
        else:
            raise ValueError(f"component {self.component_name!r}: role synthesize needs kind knowledge or chat_style, not {kind!r}")
        return [(i, r if isinstance(r, RejectedRow) else judged[i]) for i, r in items]


def curate_chunks(cfg, component, spec, chunks: Iterator, teacher=None) -> Iterator:
    """The chunks with every row curated by the teacher (built from ``cfg.sample`` unless given)."""
    curator = Curator(cfg, spec.name, component, teacher if teacher is not None else teacher_from_config(cfg))
    for chunk_spec, items in chunks:
        yield chunk_spec, curator.chunk(items)
