"""Position debiasing and the judge templates."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cj2.data.curation.positions import SwapError, orient, swap_judgment
from cj2.data.curation.retemplate import COMPOSABLE, compose_judgment, eligible_templates, reasoning_of, retemplate
from cj2.data.records import JudgeExample
from cj2.data.templates import COT_KEYS, TEMPLATES, get_template
from cj2.verdicts import FORMATS, parse


def pair(i: int, label: str = "A", judgment: str | None = None) -> JudgeExample:
    meta = {"judgment": judgment} if judgment else {}
    return JudgeExample(question=f"q{i}", responses=[f"good{i}", f"bad{i}"], label=label, source="s", id=f"s:{i}", meta=meta)


def test_random_mode_is_balanced_in_pairs_and_seeded():
    labels = [orient(pair(i), "random", 7, i, None)[0].label for i in range(100)]
    assert Counter(labels) == {"A": 50, "B": 50}
    assert all({labels[2 * k], labels[2 * k + 1]} == {"A", "B"} for k in range(50))
    assert labels == [orient(pair(i), "random", 7, i, None)[0].label for i in range(100)]
    assert labels != [orient(pair(i), "random", 8, i, None)[0].label for i in range(100)]


def test_swapped_example_exchanges_responses_and_label():
    both = orient(pair(1), "both", 0, 1, None)
    assert [(e.responses, e.label) for e in both] == [(["good1", "bad1"], "A"), (["bad1", "good1"], "B")]
    assert orient(pair(1), "none", 0, 1, None)[0].label == "A"


def test_cot_judgment_swap_keeps_key_order_and_exchanges_analyses():
    text = json.dumps({
        "User's Demand": "The value of 3 + 4.", "Strengths of Model A": "Gives 7.", "Weaknesses of Model A": "None.",
        "Strengths of Model B": "Polite.", "Weaknesses of Model B": "Declines to answer.",
        "Reasoning": "Only Model A gives the value.", "Choice": "Model A"})
    swapped = swap_judgment(text, "cj2_cot", "A")
    original, flipped = json.loads(text), json.loads(swapped)
    assert list(flipped) == list(COT_KEYS)
    assert flipped["Strengths of Model B"] == original["Strengths of Model A"]
    assert flipped["Weaknesses of Model A"] == original["Weaknesses of Model B"]
    assert flipped["Choice"] == "Model B" and "Only Model B gives" in flipped["Reasoning"]


@pytest.mark.parametrize("fmt, text, label, expected", [
    ("arena_hard", "Assistant A is right and Assistant B is wrong.\nMy final verdict is: [[A>>B]]", "A",
     "Assistant B is right and Assistant A is wrong.\nMy final verdict is: [[B>>A]]"),
    ("judgerbench_en", '{"analysis": "Response A cites the law; response B does not.", "winner": "A"}', "A",
     '{"analysis": "Response B cites the law; response A does not.", "winner": "B"}'),
    ("mtbench_pair", "Both fine. [[C]]", "tie", "Both fine. [[C]]"),
])
def test_judgment_swap(fmt, text, label, expected):
    assert swap_judgment(text, fmt, label) == expected


def test_swap_renames_numbered_and_ordinal_mentions_in_one_pass():
    """Both directions at once: "Assistant 1" and "Assistant 2" in one text trade places.

    Catches: a mention pattern that knows only lettered names ("Model A": the first/second response,
    Assistant 1/2, Response #1, Output (a) and 第一个回答 stayed as they were), and ordinals swapped by two
    sequential replaces (first->second, then second->first: every ordinal ends up "first")."""
    text = ("The first response (Assistant 1) is exact; the Second Answer and Response #2 guess. "
            "Output (a) beats Output (b); response 1.5 s is fast. 第一个回答优于回答2。\n[[A>B]]")
    assert swap_judgment(text, "arena_hard", "A") == (
        "The second response (Assistant 2) is exact; the First Answer and Response #1 guess. "
        "Output (b) beats Output (a); response 1.5 s is fast. 第二个回答优于回答1。\n[[B>A]]")


_COT_PROMPT_LAYOUT = (  # the layout of prompts.md's answer format
    '{"User\'s Demand":"3 + 4",\n"Strengths of Model A":"Gives 7, as the first response should.",\n'
    '"Weaknesses of Model A":"None.",\n"Strengths of Model B":"Polite.",\n"Weaknesses of Model B":"Declines.",\n'
    '"Reasoning":"Only Model A gives the value.",\n"Choice":"Model A"\n}')


@pytest.mark.parametrize("text, expected", [
    (_COT_PROMPT_LAYOUT,
     '{"User\'s Demand":"3 + 4",\n"Strengths of Model A":"Polite.",\n"Weaknesses of Model A":"Declines.",\n'
     '"Strengths of Model B":"Gives 7, as the second response should.",\n"Weaknesses of Model B":"None.",\n'
     '"Reasoning":"Only Model B gives the value.",\n"Choice":"Model B"\n}'),
    ('Analysis:\n{\n  "Strengths of Model A": "Exact, caf\\u00e9 and all.",\n  "Strengths of Model B": "Short.",\n'
     '  "Reasoning": "Model A writes caf\\u00e9.",\n  "Choice": "Model A"\n}\nModel A wins.',
     'Analysis:\n{\n  "Strengths of Model A": "Short.",\n  "Strengths of Model B": "Exact, caf\\u00e9 and all.",\n'
     '  "Reasoning": "Model B writes caf\\u00e9.",\n  "Choice": "Model B"\n}\nModel B wins.'),
    ('{"Reasoning": "Model A: café.", "Choice": "Model A"}', '{"Reasoning": "Model B: café.", "Choice": "Model B"}'),
])
def test_swapped_cot_judgment_keeps_the_source_layout(text, expected):
    """A swapped target is formatted exactly like the unswapped one: same line breaks, indentation,
    separators and escapes; only the string values differ.

    Catches: re-serializing the swapped object with json.dumps (one line, ", "/": " separators: the
    swapped half of the data is told apart by its layout), text around the object left unswapped
    ("Model A wins." after it), and re-encoding changed values with a fixed
    ensure_ascii (False: "café" next to an unchanged "caf\\u00e9" in an ASCII-escaped source; True:
    "caf\\u00e9" in a source that writes "café")."""
    assert swap_judgment(text, "cj2_cot", "A") == expected


def test_unswappable_judgment_is_an_error():
    with pytest.raises(SwapError):
        swap_judgment("Model A wins, no JSON here", "cj2_cot", "A")


def test_at_least_twenty_templates_each_stating_its_verdict_syntax():
    signature = {"cj2_cot": '"Choice"', "cj2_short": '{"Choice": "Model A"}', "judgerbench_en": '"winner"', "judgerbench_cn": '"胜者"',
                 "arena_hard": "[[A>B]]", "mtbench_pair": "[[C]]", "mtbench_single": "[[5]]", "wildbench": '"choice"',
                 "pointwise_correctness": '"correctness"'}
    assert len(TEMPLATES) >= 20
    assert len({(t.system, t.user) for t in TEMPLATES.values()}) == len(TEMPLATES)
    for template in TEMPLATES.values():
        if template.verdict_format is None:
            continue
        assert template.verdict_format in FORMATS
        prompt = (template.system or "") + template.user
        assert signature[template.verdict_format] in prompt, template.name


def test_placeholders_are_filled_once():
    tricky = JudgeExample(question="Explain {response_b} and JSON {\"a\": 1}", responses=["A says {question}", "B"], label="A")
    text = get_template("cj2_cot").fill(tricky)
    assert "Explain {response_b} and JSON {\"a\": 1}" in text and "A says {question}" in text
    assert text.index("A says {question}") < text.index("[Model B's Response]\nB")


def test_rendered_through_the_chat_template(qwen_tokenizer):
    messages = get_template("arena_hard").messages(pair(3))
    text = qwen_tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    assert text.startswith("<|im_start|>system\nYou are an impartial referee")
    assert "<|The Start of Assistant A's Answer|>\ngood3\n" in text and text.endswith("<|im_start|>assistant\n")


@pytest.mark.parametrize("fmt", COMPOSABLE)
def test_composed_judgments_state_their_label(fmt):
    for label in FORMATS[fmt].labels:
        text = compose_judgment(fmt, "Response A is accurate.", label)
        assert parse(fmt, text).label == label


def test_retemplate_draws_many_templates_and_keeps_the_reasoning():
    critique = "Response A handles the edge case; B crashes on empty input.\nFinal: [[A>B]]"
    drawn = Counter()
    for i in range(200):
        example, template = retemplate(pair(i, judgment=critique), seed=5, judgment_format="arena_hard")
        drawn[template.name] += 1
        assert parse(template.verdict_format, example.meta["judgment"]).label == "A"
        assert "B crashes on empty input" in example.meta["judgment"]
    assert set(drawn) == {t.name for t in eligible_templates(pair(0))} and len(drawn) >= 8
    assert reasoning_of(critique) == "Response A handles the edge case; B crashes on empty input."
