"""The miniature's judge pairs: training pairs per seed, held-out pairs in both orders, best-of-4 groups.

Every question has a verifiable answer (cj2.data.curation.verifiable_pairs): the correct
response ends with the number its work leads to, a wrong one with another number. The target
judgment is the rule teacher's (cj2.sample.engines.rule_teacher): position-neutral analysis,
then the Choice, so the decision is taken at the verdict token.

- Held-out: every held-out question gives its main pair (correct vs a first wrong number) in BOTH
  orders; the first ``bon_questions`` of them also give two more pairs (correct vs a second and a
  third wrong number, one seeded order each), and the five judgments of such a question form a
  best-of-4 group (RMB's rule: right only if every pair is right).
- Training (per seed): ``train_pairs`` questions drawn by the seed from the training pool, one
  pair each, the correct response at A for exactly half. Seeds differ in the questions, never in
  anything else, so the losses compared at one seed train on the same data.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from cj2.data.curation.verifiable_pairs import LETTERS, Question, wrong_numbers
from cj2.data.records import JudgeExample, TrainingSample
from cj2.data.templates import get_template


@dataclass(frozen=True)
class Pair:
    """One judgment to make: a question, two responses in the order shown, and the gold side."""

    item: str  # the pair; its two orders share it
    question_id: str  # the resampling unit of every interval (both orders, the best-of-4 pairs)
    question: str
    response_a: str
    response_b: str
    gold: str  # "A" | "B" in the order shown
    swapped: bool  # shown with the correct response where the item's original order does not put it
    group: str | None  # best-of-4 group (the question), None outside one
    family: str

    def to_dict(self) -> dict:
        return asdict(self)

    def example(self) -> JudgeExample:
        return JudgeExample(self.question, [self.response_a, self.response_b], label=self.gold, source=self.family, id=f"{self.item}:{'BA' if self.swapped else 'AB'}")


def _question_rng(q: Question, salt: str) -> random.Random:
    return random.Random(hashlib.sha256(f"{salt}:{q.question}".encode()).hexdigest())


def wrong_answers(q: Question, rng: random.Random, k: int) -> list[str]:
    """``k`` distinct wrong answers: nearby numbers, or other option letters."""
    if q.answer_type == "number":
        return wrong_numbers(q.gold, rng, k, digits=q.family == "arith")
    return rng.sample([letter for letter in LETTERS if letter != q.gold], k)


def response(q: Question, answer: str) -> str:
    """A response stating ``answer``: the worked solution ending in it, or the option it names."""
    if q.answer_type == "number":
        return f"{q.solution}\nThe answer is {answer}."
    return f"The answer is ({answer}) {q.options[LETTERS.index(answer)]}"


def _shown(q: Question, wrong: str, correct_at: str) -> tuple[str, str]:
    correct, other = response(q, q.gold), response(q, wrong)
    return (correct, other) if correct_at == "A" else (other, correct)


def heldout_pairs(questions: Sequence[Question], bon_questions: int) -> list[Pair]:
    """Main pairs in both orders, then the best-of-4 extra pairs (see the module docstring)."""
    pairs = []
    for n, q in enumerate(questions):
        rng = _question_rng(q, "heldout")
        first, *extra = wrong_answers(q, rng, 3)
        group = q.id if n < bon_questions else None
        for correct_at, swapped in (("A", False), ("B", True)):
            a, b = _shown(q, first, correct_at)
            pairs.append(Pair(f"{q.id}:1", q.id, q.question, a, b, correct_at, swapped, group, q.family))
        if group is None:
            continue
        for k, wrong in enumerate(extra, start=2):
            correct_at = rng.choice("AB")
            a, b = _shown(q, wrong, correct_at)
            pairs.append(Pair(f"{q.id}:{k}", q.id, q.question, a, b, correct_at, correct_at == "B", group, q.family))
    return pairs


def training_pairs(pool: Sequence[Question], count: int, seed: int) -> list[Pair]:
    """``count`` questions of ``pool`` drawn by ``seed``; exactly half show the correct response at A."""
    if count > len(pool):
        raise ValueError(f"{count} training pairs asked for, the training pool holds {len(pool)} questions")
    rng = random.Random(f"train:{seed}")
    chosen = rng.sample(list(pool), count)
    sides = (["A", "B"] * (count // 2 + 1))[:count]
    rng.shuffle(sides)
    pairs = []
    for q, correct_at in zip(chosen, sides, strict=True):
        a, b = _shown(q, wrong_answers(q, _question_rng(q, f"train:{seed}"), 1)[0], correct_at)
        pairs.append(Pair(f"{q.id}:1", q.id, q.question, a, b, correct_at, correct_at == "B", None, q.family))
    return pairs


def answer_key(questions: Sequence[Question]) -> list[dict]:
    """The rule teacher's answer key (its "model") for these questions."""
    return [{"question": q.question, "gold": q.gold, "answer_type": q.answer_type} for q in questions]


def samples(pairs: Sequence[Pair], template: str, teacher) -> list[TrainingSample]:
    """The pairs under ``template`` with the teacher's judgment as the target (verdict = gold).

    A pair the teacher cannot decide is an error here, not a quiet drop: the pairs are built so
    that exactly one response is right, and the rule teacher reads them back from the prompt.
    """
    tmpl = get_template(template)
    out = []
    for pair in pairs:
        messages = tmpl.messages(pair.example())
        target = teacher.judge(messages)
        if f'"Choice": "Model {pair.gold}"' not in target:
            raise ValueError(f"the rule teacher did not choose {pair.gold} for pair {pair.item} ({'swapped' if pair.swapped else 'original'} order): {target[:200]}")
        out.append(TrainingSample(messages, target, verdict=pair.gold, verdict_format=tmpl.verdict_format, source=pair.family, id=pair.example().id))
    return out
