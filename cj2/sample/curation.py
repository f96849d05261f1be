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
- ``rft`` (reward data): the teacher writes up to ``sample.n`` candidates; the first ``sample.accept_cap``
  (M) accepted ones that are not near-duplicates of each other are kept.
- ``synthesize`` on a ``knowledge`` component: the row's responses, or ``options.responses_per_question``
  answers written by ``curate.policy_models`` (else the engine), are graded against the gold answer
  by extraction; one per question is picked, steering the component's share of correct answers
  toward ``options.correct_fraction``; the teacher judges its correctness and is kept where it agrees.
- ``synthesize`` on a ``chat_style`` component: two responses written under contrasting style
  instructions; one style becomes the stated requirement, and the teacher must pick the response
  that meets it.

What a judgment costs is paid only where it can be kept (:meth:`Curator._judge`):

- the template: the component's, else for ``curate.template_share`` of the rejudge / rft rows one drawn
  per row among the community formats (JudgerBenchV2 "winner", Arena-Hard, MT-Bench, WildBench ...)
  of the row's language that can state its label, else the CJ2 CoT (``cj2_cot_cn`` for Chinese rows);
  the teacher writes in that format and its parser must read the label;
- a row whose label the template's verdict cannot state (a tie, for the CoT's "Model A" / "Model B")
  is rejected as ``label_not_in_template``, and a row whose judge prompt with ``sample.max_tokens``
  exceeds the teacher's context or ``data.seq_length`` as ``over_long``, before any teacher call;
- adaptive sampling: ``sample.n_first`` candidates first, the rest of ``n`` only for an orientation
  none of them settles;
- a prompt the server refuses (HTTP 400: longer than its context) rejects its row as
  ``prompt_refused``; the shard goes on.

On every step a judgment counts only when complete (cj2.data.curation.judgment_check: the CoT format's
seven keys, in order, non-empty); a row whose agreeing judgments are all incomplete is rejected
with the incompleteness reason instead of ``teacher_disagrees``.

Rows come in and go out chunk by chunk, in order; a curated row carries its oriented examples
with their judgments (``meta.variants``) so the build's workers only render and count tokens.
The knowledge picks steer a running share: :meth:`Curator.restore` sets it from committed rows,
so a resumed shard picks as an uninterrupted one would.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from cj2.data.curation.answers import is_correct, option_letters
from cj2.data.curation.positions import orient
from cj2.data.curation.retemplate import eligible_templates
from cj2.data.packed.tokenize import prompt_lengths, text_lengths
from cj2.data.packed.tokenizer import load_tokenizer
from cj2.data.records import INCOMPLETE_REASONS, JudgeExample, RejectedRow
from cj2.data.sources.dates import DATE_FORMATS, cutoff_date, parse_date
from cj2.data.templates import get_template
from cj2.sample.acceptance import judge_candidates, refusal
from cj2.sample.engines.base import PromptsRefused
from cj2.utils.seeded import seeded_unit
from cj2.verdicts import get_format

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
    def __init__(self, cfg, name: str, component, engine, policies: list | None = None):
        self.cfg, self.component_name, self.component, self.engine = cfg, name, component, engine
        self.policies = policies or [engine]  # who writes knowledge answers (curate.policy_models; default the teacher)
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
        self.spent: dict[int, Counter] = {}  # the last chunk's teacher work per row index (prompts, candidates, tokens)
        self.refused: dict[int, str] = {}  # the last chunk's rows whose prompt the server refused, with its message
        self._tokenizer = None
        self._limit: tuple[int, str] | None = None
        if component.role == "rejudge":
            self.cutoff = cutoff_date(cfg.data.date_cutoff)

    def restore(self, picks: list[bool]) -> None:
        """Resume the running share of correct knowledge answers from the picks already committed."""
        self.picked, self.picked_correct = len(picks), sum(picks)

    def _where(self, example: JudgeExample) -> tuple[str, int]:
        return str(example.meta.get("file", self.component_name)), int(example.meta.get("row", 0))

    def _rejected(self, example: JudgeExample, reason: str, detail: str) -> RejectedRow:
        return RejectedRow(self.component_name, *self._where(example), reason, detail)

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.cfg.model.tokenizer)
        return self._tokenizer

    def prompt_limit(self) -> tuple[int, str]:
        """The most tokens a judge prompt plus ``sample.max_tokens`` may take, and what sets it."""
        if self._limit is None:
            context = self.cfg.sample.context_length or getattr(self.engine, "context_length", None)
            seq = self.cfg.data.seq_length
            self._limit = (seq, f"data.seq_length={seq}") if not context or context >= seq else (int(context), f"the teacher's context {context}")
        return self._limit

    def _generate(self, prompts: list[list[dict]], owners: list[int], ids: list[str], n: int, purpose: str, offset: int = 0, engine=None) -> list[list[str] | None]:
        """``n`` candidates per prompt (None where the server refused the prompt: :attr:`refused` says why),
        sampled with the seeds a run asking for ``offset + n`` at once gives candidates ``offset`` on;
        the work is counted for the rows that ``owners`` name."""
        s = self.cfg.sample
        seeds = [int(seeded_unit(self.seed, purpose, i) * 2**31) + offset for i in ids]
        try:
            outputs = (engine or self.engine).generate(prompts, n=n, temperature=s.temperature, top_p=s.top_p, max_tokens=s.max_tokens, seed=seeds)
        except PromptsRefused as e:
            outputs = e.outputs
            for i, message in e.refused.items():
                self.refused.setdefault(owners[i], message)
        texts = [t for out in outputs if out for t in out]
        completion = iter(text_lengths(texts, self.tokenizer))
        who = "" if engine is None or engine is self.engine else "policy_"  # a policy model's work is counted apart from the teacher's
        for owner, length, out in zip(owners, prompt_lengths(prompts, self.tokenizer), outputs, strict=True):
            spent = self.spent.setdefault(owner, Counter())
            spent.update({f"{who}prompts": 1, f"{who}prompt_tokens": length, f"{who}candidates": len(out or ()),
                          f"{who}completion_tokens": sum(next(completion) for _ in out or ())})
        return outputs

    def _template_for(self, example: JudgeExample) -> str:
        """The component's template, else for ``curate.template_share`` of the rows one drawn per row among
        the formats a judgment can be composed in for the row's language and label, else the CJ2 CoT."""
        if self.component.template:
            return self.component.template
        if seeded_unit(self.seed, "judge_template", example.id) < self.cfg.curate.template_share:
            choices = eligible_templates(example)
            if choices:  # a format first, each as likely (Arena-Hard's four templates do not crowd out the "winner" format), then one of its templates
                formats = sorted({t.verdict_format for t in choices})
                chosen = formats[int(seeded_unit(self.seed, "judge_format", example.id) * len(formats))]
                of_format = [t for t in choices if t.verdict_format == chosen]
                return of_format[int(seeded_unit(self.seed, "judge_template_pick", example.id) * len(of_format))].name
        return "cj2_cot_cn" if example.language == "cn" else "cj2_cot"

    def _refused_prompt(self, index: int, example: JudgeExample) -> RejectedRow:
        return self._rejected(example, "prompt_refused", f"the server refused the prompt: {self.refused[index]}")

    def _judge(self, rows: list[tuple[int, JudgeExample]], template_of, n: int) -> dict[int, JudgeExample | RejectedRow]:
        """Orient each row, let the teacher judge every orientation under the row's template
        (``template_of(example)``), keep rows whose every orientation got an accepted judgment.

        Before any call: a label the template cannot state is ``label_not_in_template``, a prompt that
        with ``sample.max_tokens`` exceeds :meth:`prompt_limit` is ``over_long``. The teacher writes
        ``sample.n_first`` candidates per orientation, and the rest of ``n`` only where none of them is
        accepted; the first ``sample.accept_cap`` accepted ones that are no near-duplicates are kept."""
        result: dict[int, JudgeExample | RejectedRow] = {}
        plans = []  # (index, example, template, oriented variants)
        for index, ex in rows:
            template = get_template(template_of(ex))
            labels = get_format(template.verdict_format).labels
            if ex.label not in labels:  # no teacher call for a label no judgment can state (a tie for A/B)
                result[index] = self._rejected(ex, "label_not_in_template", f"label {ex.label!r} cannot be stated by template {template.name} ({', '.join(labels)})")
            else:
                plans.append((index, ex, template, orient(ex, self.cfg.data.swap_positions, self.seed, index, None)))
        s = self.cfg.sample
        lengths = iter(prompt_lengths([t.messages(v) for _, _, t, variants in plans for v in variants], self.tokenizer))
        limit, why = self.prompt_limit()
        fitting = []
        for plan in plans:
            longest = max(next(lengths) for _ in plan[3])
            if longest + s.max_tokens > limit:
                result[plan[0]] = self._rejected(plan[1], "over_long", f"the judge prompt is {longest} tokens: with sample.max_tokens={s.max_tokens} over {limit} ({why})")
            else:
                fitting.append(plan)
        flat = [(index, variant, template) for index, _, template, variants in fitting for variant in variants]
        first = min(s.n_first or n, n)
        texts = self._candidates(flat, first, 0)
        unsolved = [k for k, (_, variant, template) in enumerate(flat)
                    if texts[k] is not None and not any(refusal(t, variant.label, template.verdict_format) is None for t in texts[k])]
        if first < n and unsolved:
            for k, more in zip(unsolved, self._candidates([flat[k] for k in unsolved], n - first, first), strict=True):
                texts[k] = None if more is None else texts[k] + more
        judged = iter(texts)
        for index, ex, template, variants in fitting:
            kept, refused, every_order = [], Counter(), True
            for variant in variants:  # every order's candidates are read, to stay aligned with the next row's
                candidates = next(judged)
                if candidates is None:
                    every_order = False
                    continue
                verdicts = judge_candidates(candidates, variant.label, template.verdict_format, s.accept_cap, s.near_duplicate)
                refused.update(c["rejected"] for c in verdicts if c["rejected"] in INCOMPLETE_REASONS)
                every_order = every_order and any(c["kept"] for c in verdicts)
                kept += [replace(variant, template=template.name, meta=dict(variant.meta, judgment=c["text"])) for c in verdicts if c["kept"]]
            if index in self.refused:
                result[index] = self._refused_prompt(index, ex)
            elif every_order:
                result[index] = replace(ex, template=template.name, meta=dict(ex.meta, variants=kept))
            elif refused:  # the teacher agreed, but only in judgments that skip part of the analysis
                result[index] = self._rejected(ex, refused.most_common(1)[0][0], f"every teacher judgment stating {ex.label!r} is incomplete ({dict(refused)})")
            else:
                result[index] = self._rejected(ex, "teacher_disagrees", f"no teacher judgment (up to {n} per order, {template.name}) states the label {ex.label!r}")
        return result

    def _candidates(self, flat: list[tuple[int, JudgeExample, object]], n: int, offset: int) -> list[list[str] | None]:
        """``n`` judgments of each oriented example under its template, from candidate ``offset`` on."""
        ids = [variant.id + str(variant.meta.get("swapped", False)) for _, variant, _ in flat]
        return self._generate([t.messages(v) for _, v, t in flat], [i for i, _, _ in flat], ids, n, "judge", offset)

    def _recent(self, example: JudgeExample) -> bool | RejectedRow:
        """Dated on or after the cut-off; undated rows are outdated; an unreadable date rejects the row."""
        value = example.meta.get("date")
        if value is None:
            return False
        day = parse_date(value)
        if day is None:
            field = self.component.date_field or self.component.fields.get("date", "date")
            return self._rejected(example, "bad_date", f"field 'date' (column {field!r}): {value!r} is not a date ({DATE_FORMATS})")
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

    def _write_answers(self, rows: list[tuple[int, JudgeExample]]) -> dict[int, list[str] | None]:
        """``responses_per_question`` answers to each question, answer k by policy k mod len(policies)
        (None for a row whose prompt a server refused)."""
        prompts = [[{"role": "user", "content": ex.question}] for _, ex in rows]
        written: dict[int, list[str] | None] = {i: [] for i, _ in rows}
        count = len(self.policies)
        for k, policy in enumerate(self.policies):
            n = len(range(k, self.responses_per_question, count))
            if n == 0:
                continue
            purpose = "answer" if count == 1 else f"answer:{k}"
            answers = self._generate(prompts, [i for i, _ in rows], [ex.id for _, ex in rows], n, purpose, engine=policy)
            for (i, _), out in zip(rows, answers, strict=True):
                written[i] = None if out is None or written[i] is None else written[i] + out
        return written

    def _answer_knowledge(self, rows: list[tuple[int, JudgeExample]]) -> list[tuple[int, JudgeExample | RejectedRow]]:
        missing = [(i, ex) for i, ex in rows if not ex.responses]
        written = self._write_answers(missing) if missing else {}
        out = []
        self.picks = {}
        for i, ex in rows:
            if written.get(i, ()) is None:
                out.append((i, self._refused_prompt(i, ex)))
                continue
            gold = ex.meta["gold"]
            letters = option_letters(ex.question, gold, self.choices)  # read only by letter answers
            graded = [(r, is_correct(r, gold, self.answer_type, letters)) for r in (ex.responses or written[i])]
            response, correct = self._pick(ex, graded)
            self.picks[i] = correct
            out.append((i, replace(ex, responses=[response], label="correct" if correct else "incorrect")))
        return out

    def _style_pairs(self, rows: list[tuple[int, JudgeExample]]) -> list[tuple[int, JudgeExample | RejectedRow]]:
        axes = [STYLE_AXES[int(seeded_unit(self.seed, "axis", ex.id) * len(STYLE_AXES))] for _, ex in rows]
        prompts = [[{"role": "system", "content": axis[side]}, {"role": "user", "content": ex.question}] for (_, ex), axis in zip(rows, axes, strict=True) for side in (0, 1)]
        ids = [ex.id + side for _, ex in rows for side in ("a", "b")]
        responses = iter(self._generate(prompts, [i for i, _ in rows for _ in (0, 1)], ids, 1, "style"))
        out = []
        for (i, ex), axis in zip(rows, axes, strict=True):
            first, second = next(responses), next(responses)
            if first is None or second is None:
                out.append((i, self._refused_prompt(i, ex)))
                continue
            # A coin picks the style asked for; the wanted response is put first and the mixture's
            # position balance (orient, one of each pair of rows swapped) alone decides where it
            # stands. A second coin for the position drifted the A share (105 of 200).
            wants_first = seeded_unit(self.seed, "requirement", ex.id) < 0.5
            wanted, other = (first[0], second[0]) if wants_first else (second[0], first[0])
            out.append((i, replace(ex, responses=[wanted, other], label="A", meta=dict(ex.meta, requirement=axis[2] if wants_first else axis[3]))))
        return out

    def _judge_prepared(self, prepared: list[tuple[int, JudgeExample | RejectedRow]], template_of, n: int) -> dict[int, JudgeExample | RejectedRow]:
        judged = self._judge([(i, ex) for i, ex in prepared if not isinstance(ex, RejectedRow)], template_of, n)
        return {**{i: r for i, r in prepared if isinstance(r, RejectedRow)}, **judged}

    def chunk(self, items: list) -> list:
        """``items`` (index, JudgeExample or RejectedRow) curated: each example becomes its judged form
        (or a rejection); rejections pass through. :attr:`spent` then holds each row's teacher work."""
        self.picks, self.spent, self.refused = {}, {}, {}
        rows = [(i, r) for i, r in items if not isinstance(r, RejectedRow)]
        role, kind, template = self.component.role, self.component.kind, self.component.template
        n = int(self.component.options.get("teacher_n", self.cfg.sample.n if role == "rft" else 1))
        if role == "rejudge":
            recent = {i: self._recent(ex) for i, ex in rows}
            judged = self._judge([(i, ex) for i, ex in rows if recent[i] is False], self._template_for, n)
            for i, ex in rows:
                if isinstance(recent[i], RejectedRow):
                    judged[i] = recent[i]
                elif recent[i]:
                    judged[i] = replace(ex, meta=dict(ex.meta, retemplate=True))
        elif role == "rft":
            judged = self._judge(rows, self._template_for, n)
        elif kind == "knowledge":
            judged = self._judge_prepared(self._answer_knowledge(rows), lambda ex: template or ("knowledge_correctness_cn" if ex.language == "cn" else "knowledge_correctness"), n)
        elif kind == "chat_style":
            judged = self._judge_prepared(self._style_pairs(rows), lambda ex: template or "chat_style_pair", n)
        else:
            raise ValueError(f"component {self.component_name!r}: role synthesize needs kind knowledge or chat_style, not {kind!r}")
        return [(i, r if isinstance(r, RejectedRow) else judged[i]) for i, r in items]
