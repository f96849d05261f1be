"""Judgments written the way real judges write them, with the verdict read off by hand."""

from __future__ import annotations

import pytest

from cj2.verdicts import FORMATS, UnknownVerdictFormat, parse

CJ2_COT_OUTPUT = """```json
{"User's Demand":"The user wants a haiku about autumn with a 5-7-5 syllable count.",
"Strengths of Model A":"Follows 5-7-5 exactly; vivid imagery.",
"Weaknesses of Model A":"Slightly generic wording.",
"Strengths of Model B":"Creative metaphor.",
"Weaknesses of Model B":"Second line has nine syllables, so the form is broken.",
"Reasoning":"The user's main constraint is the syllable count; Model A meets it and Model B does not.",
"Choice":"Model A"
}
```"""

JUDGERBENCH_EN_OUTPUT = """Let me compare. Response A is accurate; B hallucinates a date.
{"analysis": "A answers the question with the right year; B invents one.", "winner": "A"}"""

# A judge that first drafts a verdict and then corrects itself: the benchmark takes the last one.
JUDGERBENCH_CN_OUTPUT = """{"分析": "回答A更完整", "胜者": "A"}
仔细复核后发现A的计算有误。
{"分析": "回答B的计算正确，A有错误", "胜者": "B"}"""

ARENA_OUTPUT = """My own answer: the integral is 1/3.

Assistant A computes 1/3 correctly and explains each step. Assistant B gets 1/2.

My final verdict is Assistant A is significantly better: [[A>>B]]"""

MTBENCH_PAIR_OUTPUT = "Both assistants give the same correct list, equally well formatted. [[C]]"
MTBENCH_SINGLE_OUTPUT = "The answer is helpful and correct but terse.\n\nRating: [[7]]"
WILDBENCH_OUTPUT = """{
    "analysis of A": "Covers every checklist item.",
    "analysis of B": "Misses the unit conversion.",
    "reason of A=B": "Not equal: B is wrong.",
    "reason of B>A": "None.",
    "choice": "A+"
}"""
CORRECTNESS_OUTPUT = 'The response says 42, but 6 x 8 = 48.\n{"rationale": "arithmetic slip", "correctness": "incorrect"}'


@pytest.mark.parametrize(
    "fmt, text, label, raw",
    [
        ("cj2_cot", CJ2_COT_OUTPUT, "A", "A"),
        ("cj2_short", '{"Choice": "Model B"}', "B", "B"),
        ("judgerbench_en", JUDGERBENCH_EN_OUTPUT, "A", "A"),
        ("judgerbench_cn", JUDGERBENCH_CN_OUTPUT, "B", "B"),
        ("arena_hard", ARENA_OUTPUT, "A", "A>>B"),
        ("arena_hard", "Final verdict: [[B>A]]", "B", "B>A"),
        ("arena_hard", "Tie, relatively the same: [[A=B]]", "tie", "A=B"),
        ("mtbench_pair", MTBENCH_PAIR_OUTPUT, "tie", "C"),
        ("mtbench_pair", "Assistant B follows the instruction. [[B]]", "B", "B"),
        ("mtbench_single", MTBENCH_SINGLE_OUTPUT, "7", "7"),
        ("mtbench_single", "Rating: [[8.5]]", "8.5", "8.5"),
        ("wildbench", WILDBENCH_OUTPUT, "A", "A+"),
        ("wildbench", '{"choice": "B++"}', "B", "B++"),
        ("wildbench", '{"choice": "A=B"}', "tie", "A=B"),
        ("pointwise_correctness", CORRECTNESS_OUTPUT, "incorrect", "incorrect"),
        ("pointwise_correctness", "Verdict: [[Correct]]", "correct", "Correct"),
    ],
)
def test_real_looking_outputs(fmt, text, label, raw):
    verdict = parse(fmt, text)
    assert verdict.ok, verdict.reason
    assert (verdict.label, verdict.raw) == (label, raw)
    start, end = verdict.span
    assert text[start:end] == raw


def test_cj2_span_is_the_letter_after_model():
    text = CJ2_COT_OUTPUT
    start, end = parse("cj2_cot", text).span
    assert text[start - len('"Choice":"Model '):end] == '"Choice":"Model A'


def test_echoed_template_placeholder_is_not_a_verdict():
    prompt_echo = '"Choice":"[Model A or Model B]"'
    assert not parse("cj2_cot", prompt_echo).ok
    assert "inadmissible" in parse("cj2_cot", prompt_echo).reason
    # ... but the real answer after the echo still counts.
    assert parse("cj2_cot", prompt_echo + '\n{"Choice": "Model B"}').label == "B"


@pytest.mark.parametrize(
    "fmt, text, reason",
    [
        ("cj2_cot", "I think Model A is better.", "no verdict found"),
        ("cj2_cot", '"Choice": "Model A" ... on reflection "Choice": "Model B"', "two conflicting verdicts"),
        ("arena_hard", "[[A>B]] but later [[B>>A]]", "two conflicting verdicts"),
        ("mtbench_pair", "[[A]] or maybe [[B]]", "two conflicting verdicts"),
        ("judgerbench_en", '"winner": "A" then "winner": "C"', "inadmissible"),
        ("mtbench_single", "Rating: [[11]]", "inadmissible"),
        ("mtbench_single", "Rating: [[0]]", "inadmissible"),
        ("wildbench", '{"choice": "A+++"}', "inadmissible"),
        ("pointwise_correctness", '"correctness": "partially correct"', "inadmissible"),
    ],
)
def test_unparsed_outputs_say_why(fmt, text, reason):
    verdict = parse(fmt, text)
    assert not verdict.ok and verdict.label is None and verdict.span is None
    assert reason in verdict.reason


def test_agreeing_repeats_are_not_a_conflict():
    # Arena-Hard: both slots say A (different strengths), so A; the later slot marks the span.
    text = "[[A>B]] ... final: [[A>>B]]"
    verdict = parse("arena_hard", text)
    assert verdict.label == "A" and verdict.raw == "A>>B" and verdict.span == (text.index("A>>B"), text.index("A>>B") + 4)


def test_first_and_last_policies():
    assert parse("mtbench_single", "[[3]] and later [[9]]").label == "3"  # FastChat's re.search
    assert parse("judgerbench_en", '"winner": "B" ... "winner": "A"').label == "A"
    assert parse("wildbench", '"choice": "B+" ... "choice": "A++"').label == "A"


def test_lenient_spellings():
    assert parse("cj2_cot", "\u201cChoice\u201d\uff1a\u201cModel B\u201d").label == "B"  # curly quotes, full-width colon
    assert parse("judgerbench_cn", '"胜者"：" B "').label == "B"
    assert parse("arena_hard", "[[ B >> A ]]").label == "B"
    assert parse("arena_hard", "[[B<A]]").label == "A"  # mirrored form
    assert parse("cj2_cot", '"choice": "model a"').label == "A"


@pytest.mark.parametrize(
    "fmt, text, expected",
    [
        ("cj2_cot", "A", "B"), ("cj2_cot", "b", "a"),
        ("judgerbench_cn", "B", "A"),
        ("arena_hard", "A>>B", "B>>A"), ("arena_hard", "B>A", "A>B"), ("arena_hard", "A=B", None),
        ("arena_hard", "B<<A", "A<<B"),
        ("mtbench_pair", "A", "B"), ("mtbench_pair", "C", None),
        ("mtbench_single", "7", None),
        ("wildbench", "A+", "B+"), ("wildbench", "B++", "A++"), ("wildbench", "A=B", None),
        ("pointwise_correctness", "correct", "incorrect"), ("pointwise_correctness", "Incorrect", "Correct"),
        ("cj2_cot", "Model", None),
    ],
)
def test_opposite(fmt, text, expected):
    assert FORMATS[fmt].opposite(text) == expected


@pytest.mark.parametrize(
    "fmt, label, text",
    [
        ("cj2_cot", "A", '"Choice": "Model A"'),
        ("cj2_short", "B", '{"Choice": "Model B"}'),
        ("judgerbench_en", "B", '"winner": "B"'),
        ("judgerbench_cn", "A", '"胜者": "A"'),
        ("arena_hard", "A", "[[A>B]]"), ("arena_hard", "B>>A", "[[B>>A]]"), ("arena_hard", "tie", "[[A=B]]"),
        ("mtbench_pair", "tie", "[[C]]"),
        ("mtbench_single", "7", "[[7]]"),
        ("wildbench", "B", '"choice": "B+"'), ("wildbench", "A++", '"choice": "A++"'),
        ("pointwise_correctness", "correct", '"correctness": "correct"'),
    ],
)
def test_render(fmt, label, text):
    assert FORMATS[fmt].render(label) == text


def test_required_formats_exist():
    assert {"cj2_cot", "cj2_short", "judgerbench_en", "judgerbench_cn", "arena_hard", "mtbench_pair",
            "mtbench_single", "wildbench", "pointwise_correctness"} <= set(FORMATS)


def test_unknown_format_is_a_loud_error():
    with pytest.raises(UnknownVerdictFormat, match="cj2_cot"):
        parse("cj2-cot", "whatever")


@pytest.mark.parametrize("value", [None, 3, b'"Choice": "Model A"'])
def test_non_strings_are_unparsed(value):
    assert parse("cj2_cot", value).reason == "not a string"


def test_a_quoted_key_is_not_taken_for_a_value():
    # Found by hypothesis: "CHOICE:\n" before the real slot used to swallow its key as a value.
    for text in ('CHOICE:\n"Choice": "Model A"', 'Choice: "Choice": "Model A"'):
        assert parse("cj2_cot", text).label == "A"
    assert parse("pointwise_correctness", 'correctness: "correctness": "incorrect"').label == "incorrect"
