"""Scripted models for the benchmark-build tests: answering models, judges, difficulty judge and
scenario classifier in one class, chosen by the model name (``bench.engine=tests.benchmark.scripted_models:Model``).

The world they script:
- a query carries its difficulty as a tag ``[easy]`` / ``[medium]`` / ``[hard]``; the difficulty
  prompt is answered from it;
- answers carry a quality: ``base`` 5; ``good`` 8, but 3 on hard queries; ``weak`` 2;
- judges: ``fair`` prefers the higher quality; ``biased`` always answers A; ``flip`` is fair except on
  cooking queries (they mention ``recipe``), where it prefers the lower quality. With judges
  fair + biased + flip a cooking pair splits 3:3 (a tie), every other pair goes to the better answer.
  ``longer`` prefers the longer answer (A when equal): it judges real models' answers, which carry
  no quality; ``mute`` never names a winner (every vote unparsed). ``arbiter-X`` judges as X;
- the classifier names a cluster from its sample queries' topic words.

Optional environment (the kill-and-resume test, in a subprocess): ``CJ2_BENCH_CALL_LOG`` gets one
line per answered prompt (model, sha1 of the prompt), appended as the answer is returned;
``CJ2_BENCH_KILL_AT=N`` SIGKILLs this process when its N-th answer is about to be returned (so that
call never returned: it was not made, and the resumed build must make it once).
"""

from __future__ import annotations

import hashlib
import os
import re
import signal

from tests.scripted import ScriptedEngine

QUALITY = {"base": 5, "good": 8, "weak": 2}
_answered = 0  # answers returned by this process, all engines together


def quality_of(model: str, query: str) -> int:
    if model == "good" and "[hard]" in query:
        return 3
    return QUALITY[model]


def answer(model: str, query: str) -> str:
    return f"{model} answers: {query} quality={quality_of(model, query)}"


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def judge_letter(judge: str, prompt: str) -> str:
    cn = "[模型A的回复开始]" in prompt
    if cn:
        a, b = _between(prompt, "[模型A的回复开始]", "[模型A的回复结束]"), _between(prompt, "[模型B的回复开始]", "[模型B的回复结束]")
        question = _between(prompt, "[用户问题开始]", "[用户问题结束]")
    else:
        a, b = _between(prompt, "[Model A's response starts]", "[Model A's response ends]"), _between(prompt, "[Model B's response starts]", "[Model B's response ends]")
        question = _between(prompt, "[User's question starts]", "[User's question ends]")
    if judge == "biased":
        return "A"
    if judge == "longer":
        return "A" if len(a) >= len(b) else "B"
    qa, qb = (int(re.search(r"quality=(\d+)", x).group(1)) for x in (a, b))
    higher = "A" if qa >= qb else "B"
    if judge == "flip" and "recipe" in question:
        return "B" if higher == "A" else "A"
    return higher


def topic(text: str) -> str:
    if "recipe" in text:
        return "Creation"
    if "python" in text:
        return "Code_and_AI"
    return "Reason_and_analysis"


class Model(ScriptedEngine):
    def __init__(self, model: str):
        super().__init__()
        self.name = model

    def reply(self, messages: list) -> str:
        prompt = messages[-1]["content"]
        if prompt.startswith("How hard is it"):
            tag = re.search(r"\[(easy|medium|hard)\]", prompt)
            text = f"Difficulty: {tag.group(1)}" if tag else "I cannot tell."
        elif prompt.startswith("Below are user queries that belong together"):
            queries = prompt.split("Queries:", 1)[1]
            text = f"Scenario: {topic(queries)}"
        elif "[Model A's response starts]" in prompt or "[模型A的回复开始]" in prompt:
            judge = self.name.removeprefix("arbiter-")
            key = "胜者" if "[模型A的回复开始]" in prompt else "winner"
            text = "Both are fine." if judge == "mute" else f'{{"analysis": "compared", "{key}": "{judge_letter(judge, prompt)}"}}'
        else:
            text = answer(self.name, prompt)
        self._returned(prompt)
        return text

    def _returned(self, prompt: str) -> None:
        global _answered
        _answered += 1
        if os.environ.get("CJ2_BENCH_KILL_AT") and _answered == int(os.environ["CJ2_BENCH_KILL_AT"]):
            os.kill(os.getpid(), signal.SIGKILL)
        log = os.environ.get("CJ2_BENCH_CALL_LOG")
        if log:
            with open(log, "a", encoding="utf-8") as f:
                f.write(f"{self.name}\t{hashlib.sha1(prompt.encode()).hexdigest()}\n")
