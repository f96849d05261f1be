"""The ``synthetic_demo`` component: judge examples generated in code, so the demo needs no files.

Each example is an arithmetic question and two responses: one answers it (with the right value),
the other declines or evades (one of several phrasings, some naming the expression). The judge
must prefer the answer, wherever it stands: a rule a tiny model can learn from a few hundred
examples, so the demo shows a judge that learns. Positions are balanced later by the build
(``data.swap_positions``), so always answering "A" scores 50%.

The target is the verdict alone, ``{"Choice": "Model A"}`` or ``"Model B"`` (the ``cj2_short``
template's format): nothing the judge reads before the verdict token names the winner, so
teacher-forced verdict accuracy measures the judging. (A CoT judgment whose analyses named the
winner first would let the verdict be copied from them.) Everything is a function of the seed
and the row index.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

from cj2.data.records import JudgeExample

_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
_OP_WORDS = {"+": "sum", "-": "difference", "*": "product"}
# Ways a response can decline or evade the question; some repeat the expression, so the judge
# cannot just look for digits.
_EVASIONS = (
    "I'm sorry, but I can't help with {expression}.",
    "I would rather not work out {expression}; please use a calculator.",
    "That is not a question I can answer.",
    "I don't know what {expression} is.",
    "Let us talk about something else instead.",
    "Sorry, I am unable to do arithmetic like {expression}.",
    "You should ask a teacher about {expression}, not me.",
    "I cannot answer that right now.",
    "Working out {expression} is outside what I can do.",
    "Please try asking me something different.",
    "I prefer not to answer math questions.",
    "There is no way for me to tell you that.",
)


def demo_examples(name: str, count: int, seed: int) -> Iterator[JudgeExample]:
    """``count`` distinct examples, the answering response first (label A); positions are randomized later."""
    rng = random.Random(f"{seed}:{name}")
    seen = set()
    while len(seen) < count:
        op = rng.choice(sorted(_OPS))
        a, b = rng.randint(2, 99), rng.randint(2, 99 if op != "*" else 12)
        if (a, op, b) in seen:
            continue
        seen.add((a, op, b))
        expression = f"{a} {op} {b}"
        right = _OPS[op](a, b)
        index = len(seen)
        yield JudgeExample(
            question=f"What is {expression}? Answer with the number and one sentence of working.",
            responses=[f"{expression} = {right}. The {_OP_WORDS[op]} of {a} and {b} is {right}.",
                       rng.choice(_EVASIONS).format(expression=expression)],
            label="A",
            source=name,
            category="arithmetic",
            id=f"{name}:{index}",
            meta={"answer": right, "expression": expression, "row": index},
        )


def demo_judgment(example: JudgeExample) -> str:
    """The verdict-only judgment choosing ``example.label``, in the ``cj2_short`` format the demo's template asks for."""
    return json.dumps({"Choice": f"Model {example.label}"})
