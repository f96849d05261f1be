"""What a judge backend is asked (a :class:`Job`: one prompt in one order) and what it answers.

A backend (``cj2.judge.hf_backend``, ``cj2.judge.openai_backend``) turns a list of jobs into one
:class:`Judgment` per job, in order, and never raises for one job's failure: a job that could not
be judged carries ``error`` and the others are unaffected.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cj2.verdicts import get_format

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class Job:
    messages: Messages
    verdict_format: str | None  # None: a critique, no verdict to read
    labels: tuple[str, ...] | None = None  # the labels a verdict may take (ties excluded when ties are off)
    constrained: bool = False  # decode only the verdict itself: one of ``choices``
    deadline: float | None = None  # time.monotonic() after which the job is not worth finishing

    @property
    def choices(self) -> list[str]:
        """The whole answers constrained decoding may write: each label as the format writes a verdict."""
        fmt = get_format(self.verdict_format)
        return [fmt.render(label) for label in self.labels or fmt.labels]

    def expired(self, now: float | None = None) -> bool:
        return self.deadline is not None and (time.monotonic() if now is None else now) > self.deadline


@dataclass
class Judgment:
    text: str | None = None  # the judge's whole answer (the critique), None on error
    probabilities: dict[str, float] | None = None  # label -> probability at the verdict token
    mass: float | None = None  # the label tokens' share of the whole distribution there
    probability_note: str = ""  # why there are no probabilities ("" when there are)
    error: str | None = None  # why this job has no answer (backend down, timed out ...)


TIMED_OUT = "timed out: the request's timeout passed before this judgment finished"
