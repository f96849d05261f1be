"""A teacher engine that subprocesses and SLURM jobs can load (``sample.engine=tests.data.teachers:MarkerTeacher``).

The curation stage runs in its own process, so the tests' scripted teachers cannot be handed to
it; this one is an engine class (the cj2.sample.engines protocol) whose answers are known:

- a pairwise judge prompt gets a complete CJ2 CoT judgment choosing the response that contains
  ``GOOD`` (response A when neither does);
- a knowledge-correctness prompt about "What is i + i?" gets "correct" exactly when the response
  states 2i;
- any other prompt (a knowledge question, a style instruction) gets an answer: candidate k to
  "What is i + i?" says 2i when k is even and 2i + 1 when it is odd.

Every prompt is logged to ``$CJ2_TEST_CALL_LOG`` (one line each) after its batch is generated, so
a test counts the calls across killed and resumed runs; ``$CJ2_TEST_TEACHER_DELAY_S`` makes each
batch take that long, the latency that lets a test kill a run between two commits.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time

from cj2.data.curation.retemplate import compose_judgment
from cj2.data.templates import TEMPLATES, JudgeTemplate
from cj2.sample.engines.base import Usage
from tests.data.helpers import cot_judgment

QUESTION = re.compile(r"What is (\d+) \+ \1\?")


def reply(messages: list[dict], k: int) -> str:
    text = messages[-1]["content"]
    if "[Model A's Response]" in text:
        first = text.split("[Model A's Response]", 1)[1].split("[Model B's Response]", 1)[0]
        second = text.split("[Model B's Response]", 1)[1]
        return cot_judgment("B" if "GOOD" in second and "GOOD" not in first else "A")
    question = QUESTION.search(text)
    if "[Response]" in text and question:
        stated = re.findall(r"-?\d+", text.split("[Response]", 1)[1])
        correct = bool(stated) and int(stated[-1]) == 2 * int(question.group(1))
        return json.dumps({"rationale": "checked by arithmetic", "correctness": "correct" if correct else "incorrect"})
    if question:
        return f"The answer is {2 * int(question.group(1)) + k % 2}."
    return f"An answer in the asked style ({k})."


class MarkerTeacher:
    def __init__(self, model=None):
        self.usage = Usage()
        self.log = os.environ.get("CJ2_TEST_CALL_LOG")
        self.delay_s = float(os.environ.get("CJ2_TEST_TEACHER_DELAY_S", "0"))

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed):
        time.sleep(self.delay_s)  # the teacher's latency (see the module docstring)
        out = [[reply(p, k) for k in range(n)] for p in prompts]
        if self.log:
            with open(self.log, "a", encoding="utf-8") as f:
                f.writelines(hashlib.sha256(json.dumps(p).encode()).hexdigest()[:16] + "\n" for p in prompts)
        return out

    def close(self):
        pass


def _pattern(template: JudgeTemplate) -> re.Pattern:
    """The template's user message as a regular expression whose groups are its placeholders."""
    escaped = re.escape(template.user)
    for field in ("question", "response_a", "response_b"):
        escaped = escaped.replace(re.escape("{" + field + "}"), f"(?P<{field}>.*)", 1)
    return re.compile(escaped, re.DOTALL)


PAIRWISE = [(t, _pattern(t)) for t in TEMPLATES.values() if t.kind == "pairwise" and not t.needs_requirement]


def read_judge_prompt(messages: list[dict]) -> tuple[JudgeTemplate, dict[str, str]] | None:
    """Which pairwise template wrote ``messages``, and its question and responses; None for another prompt."""
    system = messages[0]["content"] if messages[0]["role"] == "system" else None
    for template, pattern in PAIRWISE:
        found = pattern.fullmatch(messages[-1]["content"]) if template.system == system else None
        if found:
            return template, found.groupdict()
    return None


def judge_in_its_format(messages: list[dict], winner) -> str | None:
    """A judgment in the format the prompt's template asks for, choosing ``winner(question, response_a,
    response_b)`` ("A", "B" or "tie"; a tie is said only where the format can say it, else A): a complete
    CJ2 CoT for the CoT templates, a composed judgment (cj2.data.curation.retemplate) for the others.
    None when ``messages`` is no pairwise judge prompt."""
    read = read_judge_prompt(messages)
    if read is None:
        return None
    template, values = read
    side = winner(values["question"], values["response_a"], values["response_b"])
    if template.verdict_format == "cj2_cot":
        return cot_judgment("A" if side == "tie" else side)
    side = side if side != "tie" or template.verdict_format in ("arena_hard", "mtbench_pair", "wildbench") else "A"
    return compose_judgment(template.verdict_format, f"Comparing the two answers to: {values['question'][:60]}", side)


class PolicyModel:
    """A policy model for knowledge answers (``curate.policy_models`` entry ``{engine: tests.data.teachers:PolicyModel,
    model: right | wrong}``): to "What is i + i?" the right one says 2i, the wrong one 2i + 1, each in its own words."""

    def __init__(self, model=None):
        self.model, self.usage, self.prompts = model, Usage(), []

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed):
        self.prompts += prompts
        out = []
        for p in prompts:
            i = int(QUESTION.search(p[-1]["content"]).group(1))
            out.append([f"[{self.model} {k}] The answer is {2 * i + (self.model == 'wrong')}." for k in range(n)])
        return out

    def close(self):
        pass


class OracleTeacher:
    """A teacher for the public-pool fixture build: it knows each pair's better response (``oracle``:
    (question, response A, response B) -> "A" | "B" | "tie", both orders) and judges in the format the
    prompt's template asks for, but errs on a seeded 30% of its candidates (it names the other side),
    so that some pairs need more than the first candidates; every candidate argues in its own words,
    and every other CoT judgment writes its numbered analysis with raw line breaks, as large teachers
    do. Any other prompt (knowledge answers and their correctness) goes to ``other(messages, k)``.
    Candidate ``j`` of a prompt is the one for seed ``s + j`` (tests.data.helpers.ScriptedTeacher)."""

    def __init__(self, oracle: dict, other):
        from tests.data.helpers import ScriptedTeacher

        self.oracle, self.other = oracle, other
        self._scripted = ScriptedTeacher(self.reply)
        self.usage, self.prompts = self._scripted.usage, self._scripted.prompts

    def reply(self, messages, k):
        read = read_judge_prompt(messages)
        if read is None:
            return self.other(messages, k)
        template, values = read
        side = self.oracle[(values["question"], values["response_a"], values["response_b"])]
        if int(hashlib.sha256(f"{values['question']}|{values['response_a']}|{k}".encode()).hexdigest(), 16) % 10 < 3:
            side = {"A": "B", "B": "A", "tie": "A"}[side]  # a wrong judgment
        if template.verdict_format == "cj2_cot":
            side = "A" if side == "tie" else side
            if k % 2:
                return cot_judgment(side, **{key: f"Point {k}.1 on {key.lower()}.\n2. A second point, take {k}." for key in
                                             ("User's Demand", "Strengths of Model A", "Weaknesses of Model A", "Strengths of Model B", "Weaknesses of Model B", "Reasoning")}).replace("\\n", "\n")
            return cot_judgment(side, Reasoning=f"Take {k}: the {'first' if side == 'A' else 'second'} response serves the request better.")
        tie_capable = template.verdict_format in ("arena_hard", "mtbench_pair", "wildbench")
        return compose_judgment(template.verdict_format, f"Take {k}: weighing both answers to {values['question'][:40]}", side if side != "tie" or tie_capable else "A")

    def generate(self, prompts, n, temperature, top_p, max_tokens, seed):
        return self._scripted.generate(prompts, n, temperature, top_p, max_tokens, seed)

    def close(self):
        pass
