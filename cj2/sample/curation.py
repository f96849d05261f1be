"""Teacher curation and synthesis (method.md section 3): what the curation stage asks the teacher.

The curation stage (:mod:`cj2.sample.curate`) feeds each shard's rows through a :class:`Curator`
chunk by chunk and commits what comes back; the data build reads the committed rows and never
calls a teacher.

Every step asks a teacher through the sampling engines' ``generate`` interface and keeps a
judgment only when its verdict is the known answer:

- ``rejudge`` (public judge data): rows dated before ``data.date_cutoff`` are re-judged by the
  teacher and kept where its verdict matches the human label; rows on or after it are re-rendered
  with a randomly drawn template (``retemplate``). Without a date field every row is re-judged.
  Dates are parsed (:func:`parse_date`) and compared as dates; a row whose date does not parse is
  rejected as ``bad_date``.
- ``rft`` (reward data): the teacher writes ``sample.n`` candidates; the first ``sample.accept_cap``
  (M) whose verdict matches the label are kept.

A row whose label the template's verdict cannot state (a tie, for the CoT's "Model A" / "Model B")
is rejected as ``label_not_in_template`` before any teacher call, as launch/sample.py does.
On every step a judgment counts only when complete (cj2.data.curation.judgment_check: the CoT format's
seven keys, in order, non-empty); a row whose agreeing judgments are all incomplete is rejected
with the incompleteness reason instead of ``teacher_disagrees``.
- ``synthesize`` on a ``knowledge`` component: the row's responses, or ``options.responses_per_question``
  answers the engine writes, are graded against the gold answer by extraction; one per question is
  picked, steering the component's share of correct answers toward ``options.correct_fraction``;
  the teacher judges its correctness and is kept where it agrees.
- ``synthesize`` on a ``chat_style`` component: two responses written under contrasting style
  instructions; one style becomes the stated requirement, and the teacher must pick the response
  that meets it.

Rows come in and go out chunk by chunk, in order; a curated row carries its oriented examples
with their judgments (``meta.variants``) so the build's workers only render and count tokens.
The knowledge picks steer a running share: :meth:`Curator.restore` sets it from committed rows,
so a resumed shard picks as an uninterrupted one would.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from cj2.data.curation.answers import is_correct, option_letters
from cj2.data.curation.judgment_check import incomplete_reason
from cj2.data.curation.positions import orient
from cj2.data.records import JudgeExample, RejectedRow
from cj2.data.sources.dates import DATE_FORMATS, cutoff_date, parse_date
from cj2.data.templates import get_template
from cj2.utils.seeded import seeded_unit
from cj2.verdicts import get_format, parse

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


class Curator:
    def __init__(self, cfg, name: str, component, engine):
        self.cfg, self.component_name, self.component, self.engine = cfg, name, component, engine
        self.seed = cfg.data.seed
        options, key = component.options, f"data.components.{name}.options"
        self.answer_type = options.get("answer_type", "letter")
        if self.answer_type not in ("letter", "number"):
            raise ValueError(f"{key}.answer_type: {self.answer_type!r} is neither 'letter' nor 'number'")
        self.choices = options.get("choices")  # the option letters (or their count); None: read from each question
        self.responses_per_question = int(options.get("responses_per_question", 4))
        self.correct_fraction = options.get("correct_fraction", 0.5)
        if self.responses_per_question < 1:
            raise ValueError(f"{key}.responses_per_question: must be >= 1, got {self.responses_per_question}")
        if self.correct_fraction is not None and not 0 <= float(self.correct_fraction) <= 1:
            raise ValueError(f"{key}.correct_fraction: must be in [0, 1] (or null), got {self.correct_fraction}")
        self.picked = self.picked_correct = 0  # knowledge answers picked so far, over the whole shard
        self.picks: dict[int, bool] = {}  # the last chunk's picks: row index -> the picked answer is correct
        if component.role == "rejudge":
            self.cutoff = cutoff_date(cfg.data.date_cutoff)

    def restore(self, picks: list[bool]) -> None:
        """Resume the running share of correct knowledge answers from the picks already committed."""
        self.picked, self.picked_correct = len(picks), sum(picks)

    def _where(self, example: JudgeExample) -> tuple[str, int]:
        return str(example.meta.get("file", self.component_name)), int(example.meta.get("row", 0))

    def _generate(self, prompts: list[list[dict]], ids: list[str], n: int, purpose: str) -> list[list[str]]:
        s = self.cfg.sample
        seeds = [int(seeded_unit(self.seed, purpose, i) * 2**31) for i in ids]
        return self.engine.generate(prompts, n=n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens, seed=seeds)

    def _judge(self, rows: list[tuple[int, JudgeExample]], template_name: str, n: int) -> dict[int, JudgeExample | RejectedRow]:
        """Orient each row, let the teacher judge every orientation, keep rows whose every orientation got a matching verdict."""
        template = get_template(template_name)
        labels = get_format(template.verdict_format).labels
        result: dict[int, JudgeExample | RejectedRow] = {  # no teacher call for a label no judgment can state (a tie for A/B)
            index: RejectedRow(self.component_name, *self._where(ex), "label_not_in_template", f"label {ex.label!r} cannot be stated by template {template.name} ({', '.join(labels)})")
            for index, ex in rows if ex.label not in labels}
        oriented = [(index, ex, orient(ex, self.cfg.data.swap_positions, self.seed, index, None)) for index, ex in rows if index not in result]
        flat = [variant for _, _, variants in oriented for variant in variants]
        outputs = iter(self._generate([template.messages(v) for v in flat], [v.id + str(v.meta.get("swapped", False)) for v in flat], n, "judge"))
        cap = self.cfg.sample.accept_cap  # M, as launch/sample.py keeps it
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
                where = self._where(ex)
                if refused:  # the teacher agreed, but only in judgments that skip part of the analysis
                    reason = refused.most_common(1)[0][0]
                    result[index] = RejectedRow(self.component_name, *where, reason, f"every teacher judgment stating {ex.label!r} is incomplete ({dict(refused)})")
                else:
                    result[index] = RejectedRow(self.component_name, *where, "teacher_disagrees", f"no teacher judgment ({n} per order) states the label {ex.label!r}")
        return result

    def _recent(self, example: JudgeExample) -> bool | RejectedRow:
        """Dated on or after the cut-off; undated rows are outdated; an unreadable date rejects the row."""
        value = example.meta.get("date")
        if value is None:
            return False
        day = parse_date(value)
        if day is None:
            field = self.component.date_field or self.component.fields.get("date", "date")
            return RejectedRow(self.component_name, *self._where(example), "bad_date", f"field 'date' (column {field!r}): {value!r} is not a date ({DATE_FORMATS})")
        return day >= self.cutoff

    def _pick(self, example: JudgeExample, graded: list[tuple[str, bool]]) -> tuple[str, bool]:
        """One graded answer: of the class (correct or not) that brings the share of correct answers
        picked so far nearest ``correct_fraction`` when the question offers it, a seeded draw within it."""
        if self.correct_fraction is not None:
            want = self.picked_correct + 0.5 <= float(self.correct_fraction) * (self.picked + 1)
            graded = [g for g in graded if g[1] == want] or graded
        response, correct = graded[int(seeded_unit(self.seed, "knowledge_pick", example.id) * len(graded))]
        self.picked, self.picked_correct = self.picked + 1, self.picked_correct + correct
        return response, correct

    def _answer_knowledge(self, rows: list[tuple[int, JudgeExample]]) -> list[tuple[int, JudgeExample]]:
        missing = [(i, ex) for i, ex in rows if not ex.responses]
        written = {}
        if missing:
            prompts = [[{"role": "user", "content": ex.question}] for _, ex in missing]
            answers = self._generate(prompts, [ex.id for _, ex in missing], self.responses_per_question, "answer")
            written = {i: a for (i, _), a in zip(missing, answers, strict=True)}
        out = []
        self.picks = {}
        for i, ex in rows:
            gold = ex.meta["gold"]
            letters = option_letters(ex.question, gold, self.choices)  # read only by letter answers
            graded = [(r, is_correct(r, gold, self.answer_type, letters)) for r in (ex.responses or written[i])]
            response, correct = self._pick(ex, graded)
            self.picks[i] = correct
            out.append((i, replace(ex, responses=[response], label="correct" if correct else "incorrect")))
        return out

    def _style_pairs(self, rows: list[tuple[int, JudgeExample]]) -> list[tuple[int, JudgeExample]]:
        axes = [STYLE_AXES[int(seeded_unit(self.seed, "axis", ex.id) * len(STYLE_AXES))] for _, ex in rows]
        prompts = [[{"role": "system", "content": axis[side]}, {"role": "user", "content": ex.question}] for (_, ex), axis in zip(rows, axes, strict=True) for side in (0, 1)]
        ids = [ex.id + side for _, ex in rows for side in ("a", "b")]
        responses = iter(self._generate(prompts, ids, 1, "style"))
        out = []
        for (i, ex), axis in zip(rows, axes, strict=True):
            first, second = next(responses)[0], next(responses)[0]
            # A coin picks the style asked for; the wanted response is put first and the mixture's
            # position balance (orient, one of each pair of rows swapped) alone decides where it
            # stands. A second coin for the position drifted the A share (105 of 200).
            wants_first = seeded_unit(self.seed, "requirement", ex.id) < 0.5
            wanted, other = (first, second) if wants_first else (second, first)
            out.append((i, replace(ex, responses=[wanted, other], label="A", meta=dict(ex.meta, requirement=axis[2] if wants_first else axis[3]))))
        return out

    def chunk(self, items: list) -> list:
        """``items`` (index, JudgeExample or RejectedRow) curated: each example becomes its judged form
        (or a rejection); rejections pass through."""
        self.picks = {}
        rows = [(i, r) for i, r in items if not isinstance(r, RejectedRow)]
        role, kind = self.component.role, self.component.kind
        template = self.component.template
        n = int(self.component.options.get("teacher_n", self.cfg.sample.n if role == "rft" else 1))
        if role == "rejudge":
            recent = {i: self._recent(ex) for i, ex in rows}
            judged = self._judge([(i, ex) for i, ex in rows if recent[i] is False], template or "cj2_cot", n)
            for i, ex in rows:
                if isinstance(recent[i], RejectedRow):
                    judged[i] = recent[i]
                elif recent[i]:
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
