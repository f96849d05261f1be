"""The ``synthetic_demo`` component: judge examples generated in code, so the demo needs no files.

Each example is an arithmetic question with one right and one wrong answer; the target is a CJ2
CoT judgment (the seven keys, ending ``"Choice": "Model A"`` or ``"Model B"``) that picks the
right one. Everything is a function of the seed and the row index.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

from cj2.data.records import JudgeExample

_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
_OP_WORDS = {"+": "sum", "-": "difference", "*": "product"}


def demo_examples(name: str, count: int, seed: int) -> Iterator[JudgeExample]:
    """``count`` distinct examples, the right answer first (label A); positions are randomized later."""
    rng = random.Random(f"{seed}:{name}")
    seen = set()
    while len(seen) < count:
        op = rng.choice(sorted(_OPS))
        a, b = rng.randint(2, 99), rng.randint(2, 99 if op != "*" else 12)
        if (a, op, b) in seen:
            continue
        seen.add((a, op, b))
        right = _OPS[op](a, b)
        wrong = right + rng.choice([-10, -2, -1, 1, 2, 10])
        index = len(seen)
        yield JudgeExample(
            question=f"What is {a} {op} {b}? Answer with the number and one sentence of working.",
            responses=[f"{a} {op} {b} = {right}. The {_OP_WORDS[op]} of {a} and {b} is {right}.",
                       f"{a} {op} {b} = {wrong}. The {_OP_WORDS[op]} of {a} and {b} is {wrong}."],
            label="A",
            source=name,
            category="arithmetic",
            id=f"{name}:{index}",
            meta={"answers": [right, wrong], "expression": f"{a} {op} {b}", "row": index},
        )


def demo_judgment(example: JudgeExample) -> str:
    """The CJ2 CoT judgment preferring the response that holds the right answer (``example.label``)."""
    expression = example.meta["expression"]
    right = example.meta["answers"][0]
    winner, loser = ("A", "B") if example.label == "A" else ("B", "A")
    loser_value = example.meta["answers"][1]
    strengths = {winner: f"Gives {right}, which is the correct value of {expression}, with a short explanation.",
                 loser: "Answers in the requested form: a number and one sentence."}
    weaknesses = {winner: "None that matter; the working could show an intermediate step.",
                  loser: f"States {loser_value}, but {expression} = {right}; the answer is wrong."}
    judgment = {
        "User's Demand": f"The user wants the value of {expression} with one sentence of working.",
        "Strengths of Model A": strengths["A"],
        "Weaknesses of Model A": weaknesses["A"],
        "Strengths of Model B": strengths["B"],
        "Weaknesses of Model B": weaknesses["B"],
        "Reasoning": f"Only Model {winner} gives the correct result {right}; a wrong number fails the user's request.",
        "Choice": f"Model {winner}",
    }
    return json.dumps(judgment, ensure_ascii=False, indent=0)
