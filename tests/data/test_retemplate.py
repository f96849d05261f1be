"""Re-templating public critiques: the old verdict of any format leaves, the reasoning stays."""

from __future__ import annotations

import pytest

from cj2.data.curation.retemplate import reasoning_of, retemplate, strip_verdicts
from cj2.data.records import JudgeExample

ISSUE_CRITIQUE = "Response A cites the statute; Response B misreads it. Therefore [[A]]\n\nMy final verdict is: [[A>B]]"


def critique_pair(i: int, judgment: str) -> JudgeExample:
    return JudgeExample(question=f"q{i}", responses=[f"good{i}", f"bad{i}"], label="A", source="s", id=f"s:{i}",
                        meta={"judgment": judgment})


@pytest.mark.parametrize("i, template, judgment", [
    (1, "mtbench_pair", "Response A cites the statute; Response B misreads it.\n\n[[A]]"),
    (2, "wildbench_checklist",
     '{\n "analysis": "Response A cites the statute; Response B misreads it.",\n "choice": "A+"\n}'),
    (5, "pairwise_math", "Response A cites the statute; Response B misreads it.\n\nMy final verdict is: [[A>B]]"),
    (7, "pairwise_helpfulness", 'Response A cites the statute; Response B misreads it.\n\n{"Choice": "Model A"}'),
])
def test_retemplated_target_keeps_no_verdict_of_another_format(i, template, judgment):
    """The issue's example: an MT-Bench ``[[A]]`` inside an Arena-Hard critique must not survive.

    Catches: reasoning_of stripping only the declared format's verdict line (the code before this
    fix kept "... Therefore [[A]]" in every drawn template's target)."""
    example, drawn = retemplate(critique_pair(i, ISSUE_CRITIQUE), seed=5, judgment_format="arena_hard")
    assert (drawn.name, example.meta["judgment"]) == (template, judgment)


@pytest.mark.parametrize("text, reasoning", [
    (ISSUE_CRITIQUE, "Response A cites the statute; Response B misreads it."),
    ('Both are polite; A is exact.\n{"Choice": "Model A"}', "Both are polite; A is exact."),
    ('B lists every step.\n"winner": "B"', "B lists every step."),
    ('B is vivid.\n"choice": "B++"', "B is vivid."),
    ("Helpful and correct. Rating: [[7]]", "Helpful and correct."),
    ("**My final verdict is:** [[B>>A]]\n\nResponse B is complete.", "Response B is complete."),
    ("A is fine.\n\nFinal verdict: Assistant B is slightly better: [[B>A]]\n\nThanks.", "A is fine.\n\nThanks."),
    ("The result is right. [[correct]]", "The result is right."),
    ("我认为模型A更好。最终裁决：[[A>B]]", "我认为模型A更好。"),
    ("Response B, [[B]] in short, is better.", "Response B, in short, is better."),
])
def test_every_verdict_of_every_format_is_stripped(text, reasoning):
    """Catches: strip_verdicts reading only the formats with [[...]] slots (the key/value verdicts
    "Choice", "winner", "choice" stay), and strip_verdicts removing the slot without the words that
    announce it ("My final verdict is:", "Rating:", "Therefore", "最终裁决：" stay)."""
    assert strip_verdicts(text) == reasoning


@pytest.mark.parametrize("text", [
    "The rating scale favours clarity, so Assistant A wins: [[A]]",
    "See [[Main Page]] and [[11]]: Assistant A wins: [[A]]",
])
def test_ordinary_text_next_to_a_verdict_stays(text):
    """Only the verdict and its announcing words go; a sentence that merely contains a verdict word,
    a wiki link and an out-of-range score are not verdicts.

    Catches: the lead-in taking any sentence that starts with a verdict word (no colon / "is"
    required: the whole first line is eaten), and slot_spans without the interpret check (every
    [[...]] is cut)."""
    assert strip_verdicts(text) == text.removesuffix(" [[A]]")


def test_reasoning_field_of_a_json_judgment_is_stripped_too():
    """Catches: reasoning_of returning a JSON reasoning field as is (its inline "[[A]]" stays)."""
    judgment = '{"analysis": "Response A is exact. Hence [[A]]", "winner": "A"}'
    assert reasoning_of(judgment) == "Response A is exact."
