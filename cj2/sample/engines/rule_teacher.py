"""The ``rule`` engine: a teacher for verifiable pairs that checks final answers against gold.

A small student cannot be its own teacher (SmolLM2-135M wrote 0 parseable verdicts out of 192
candidates), and a large one is not always at hand. For questions with a gold answer (GSM8K
numbers, MMLU letters) the verdict does not need a model: this engine reads the judge prompt,
takes the question and both responses out of it, extracts each response's final answer
(``cj2.data.curation.answers``), compares it with the gold answer, and writes a complete CJ2 CoT judgment
(the seven keys of prompts.md, in order, each non-empty) whose verdict names the response with
the gold answer. Everything about it is deterministic: the ``n`` candidates of a prompt are the
same text, and the sampling settings are accepted and ignored.

The gold answers come from a JSONL file (``sample.model`` / ``eval.model`` = its path, the
"model" of a rule teacher is its answer key), one object per question::

    {"question": "...", "gold": "18", "answer_type": "number"}     # or "letter" with "B"

Questions are matched after whitespace is collapsed; the prompt never shows the gold answer, so
the same pairs can be judged by a model teacher unchanged.

When the rule cannot decide (the question is not in the answer key, both or neither response is
right, or the prompt is not laid out as the CJ2 CoT prompt) it answers a short text that states
why and carries no verdict: the sampling run counts it as unparsed (visible in its summary) and
nothing is accepted, rather than a guess becoming a training target.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from cj2.data.curation.answers import extract_letter, extract_number, gold_answer, option_letters
from cj2.data.curation.judgment_check import COT_KEYS
from cj2.sample.engines.base import Messages, Seed, Usage, check_sampling_args
from cj2.utils.jsonl import JsonlError, jsonl_rows, require_text

# The dialogue part of the cj2_cot prompt (cj2/data/templates/cj2_prompts.py), which the rule reads back.
QUESTION_HEAD = "[User's Question]\n"
RESPONSE_HEADS = ("\n[Model A's Response]\n", "\n[Model B's Response]\n")
ANSWER_TYPES = ("number", "letter")


class AnswerKeyError(JsonlError):
    """The gold-answer file is missing or has a bad row (the message names the file, row and field)."""


def normalize_question(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Gold:
    answer: str
    answer_type: str  # number | letter


def load_answer_key(path: str | Path) -> dict[str, Gold]:
    path = Path(path)
    if not path.is_file():
        raise AnswerKeyError(path, "no gold-answer file (the rule engine's model is a JSONL answer key; see cj2/sample/engines/rule_teacher.py)")
    key: dict[str, Gold] = {}
    for row, record in jsonl_rows(path, error=AnswerKeyError, objects=True):
        require_text(record, ("question", "gold", "answer_type"), path, row, error=AnswerKeyError)
        if record["answer_type"] not in ANSWER_TYPES:
            raise AnswerKeyError(path, f"{record['answer_type']!r} is not one of {ANSWER_TYPES}", row=row, field="answer_type")
        gold = gold_answer(record["gold"], record["answer_type"])
        if gold is None:
            raise AnswerKeyError(path, f"{record['gold']!r} holds no {record['answer_type']}", row=row, field="gold")
        key[normalize_question(record["question"])] = Gold(gold, record["answer_type"])
    return key


def split_prompt(text: str) -> tuple[str, str, str] | None:
    """``(question, response_a, response_b)`` from a filled cj2_cot user message, or None."""
    start = text.rfind(QUESTION_HEAD)
    if start < 0:
        return None
    rest = text[start + len(QUESTION_HEAD) :]
    a_at, b_at = rest.find(RESPONSE_HEADS[0]), rest.rfind(RESPONSE_HEADS[1])
    if a_at < 0 or b_at < a_at:
        return None
    return rest[:a_at], rest[a_at + len(RESPONSE_HEADS[0]) : b_at], rest[b_at + len(RESPONSE_HEADS[1]) :]


def final_answer(response: str, question: str, gold: Gold) -> str | None:
    if gold.answer_type == "number":
        return extract_number(response)
    return extract_letter(response, option_letters(question, gold.answer))


def _shown(answer: str | None, gold: Gold) -> str:
    if answer is None:
        return "none that can be read"
    return f"({answer})" if gold.answer_type == "letter" else answer


def write_judgment(question: str, answers: tuple[str | None, str | None], gold: Gold, winner: str) -> str:
    """A complete CJ2 CoT judgment (seven keys, in order) for answers A and B, choosing ``winner``.

    Position-neutral up to the verdict: the analysis states what each response answers and what
    the right answer is, in words that are the same whichever side is right, so which of "Model A"
    and "Model B" holds it is decided at the Choice token and nowhere before (a judgment that
    says "A is wrong" early leaves the verdict token nothing to decide: every loss on it then
    trains the same thing). Short on purpose: a small student spends its few training tokens (and
    its evaluation its few generated ones) on the judgment, not on filler.
    """
    kind = "number" if gold.answer_type == "number" else "option"
    values = {"User's Demand": f"The right final {kind}."}
    # Each side: the answer it states and the answer the question leads to (for a number, where the
    # shown work ends), in the same words whichever side is right.
    leads_to = f"its work leads to {gold.answer}" if kind == "number" else f"the right option is {_shown(gold.answer, gold)}"
    for side, answer in zip("AB", answers, strict=True):
        values[f"Strengths of Model {side}"] = f"States {_shown(answer, gold)}; {leads_to}."
        values[f"Weaknesses of Model {side}"] = "Right only if the two agree."
    values["Reasoning"] = f"The right response states what {'its work leads to' if kind == 'number' else 'the right option is'}."
    values["Choice"] = f"Model {winner}"
    # The prompt's own layout: one key per line, the object opening on the first key's line.
    return json.dumps({key: values[key] for key in COT_KEYS}, ensure_ascii=False, indent=0).replace("{\n", "{", 1)


def undecided(reason: str) -> str:
    return f"No verdict: {reason}."


class RuleTeacher:
    """``generate`` judges each prompt by gold answer; see the module docstring."""

    def __init__(self, model: str, **model_engine_settings):
        # ``model_engine_settings`` (tp, seed, device ... that the runners pass every engine) do not apply to a rule.
        self.answer_key = load_answer_key(model)
        self.usage = Usage()

    def judge(self, messages: Messages) -> str:
        user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), None)
        parts = split_prompt(user) if user is not None else None
        if parts is None:
            return undecided("the prompt is not laid out as the cj2_cot prompt ([User's Question], [Model A's Response], [Model B's Response])")
        question, response_a, response_b = parts
        gold = self.answer_key.get(normalize_question(question))
        if gold is None:
            return undecided("the question is not in the answer key")
        answers = (final_answer(response_a, question, gold), final_answer(response_b, question, gold))
        right = [side for side, answer in zip("AB", answers, strict=True) if answer == gold.answer]
        if len(right) != 1:
            return undecided("both responses are right" if right else "neither response is right")
        return write_judgment(question, answers, gold, right[0])

    def generate(self, prompts: list[Messages], n: int, temperature: float, top_p: float, max_tokens: int, seed: Seed) -> list[list[str]]:
        check_sampling_args(n, temperature, top_p, max_tokens)
        out = []
        for messages in prompts:
            text = self.judge(messages)
            out.append([text] * n)
            self.usage.requests += 1
            self.usage.prompt_tokens += sum(len(m.get("content", "").split()) for m in messages)  # words: a rule has no tokenizer
            self.usage.completion_tokens += n * len(text.split())
        return out

    def close(self) -> None:
        pass
