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
