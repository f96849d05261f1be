"""The rule teacher: complete CJ2 CoT judgments whose verdict is the gold side, in both positions."""

from __future__ import annotations

import json

import pytest

from cj2.data.curation.judgment_check import COT_KEYS, incomplete_reason
from cj2.data.records import JudgeExample
from cj2.data.templates import get_template
from cj2.sample.engines import build_engine
from cj2.sample.engines.rule_teacher import AnswerKeyError
from cj2.verdicts import parse

MATH_Q = "Tom has 3 bags of 6 apples. How many apples does he have?"
MATH_RIGHT = "3 bags * 6 apples = 18 apples.\nThe answer is 18."
MATH_WRONG = "3 bags * 6 apples = 18 apples.\nThe answer is 20."
MC_Q = "Which planet is known as the Red Planet?\n(A) Venus\n(B) Mars\n(C) Jupiter\n(D) Saturn"
MC_RIGHT = "The answer is (B) Mars"
MC_WRONG = "The answer is (C) Jupiter"


@pytest.fixture
def teacher(tmp_path):
    key = tmp_path / "answer_key.jsonl"
    key.write_text(json.dumps({"question": MATH_Q, "gold": "18", "answer_type": "number"}) + "\n"
                   + json.dumps({"question": MC_Q, "gold": "B", "answer_type": "letter"}) + "\n")
    return build_engine("rule", model=str(key), tp=1, seed=0)  # the settings runners pass every engine are accepted


def prompt(question: str, a: str, b: str):
    return get_template("cj2_cot").messages(JudgeExample(question, [a, b]))


@pytest.mark.parametrize(("question", "right", "wrong"), [(MATH_Q, MATH_RIGHT, MATH_WRONG), (MC_Q, MC_RIGHT, MC_WRONG)])
def test_verdict_is_the_gold_side_in_both_positions(teacher, question, right, wrong):
    """Catches: a verdict that does not follow the correct response when positions swap (a rule
    that always names A, or reads A's answer for B), and a judgment missing, reordering or
    emptying one of the seven keys (the build would drop every sample as incomplete).
    Planted: ``winner = "A"`` in RuleTeacher.judge -> the B case fails."""
    outputs = teacher.generate([prompt(question, right, wrong), prompt(question, wrong, right)], n=2, temperature=1.0, top_p=0.95, max_tokens=64, seed=0)
    for texts, gold_side in zip(outputs, "AB", strict=True):
        assert len(texts) == 2 and texts[0] == texts[1]
        verdict = parse("cj2_cot", texts[0])
        assert verdict.ok and verdict.label == gold_side
        assert incomplete_reason("cj2_cot", texts[0]) is None
        assert list(json.loads(texts[0])) == list(COT_KEYS)


def test_undecidable_pairs_get_no_verdict(teacher):
    """Catches: a guess becoming a training target. Both right, neither right, a question the key
    does not hold and a prompt in another layout all answer without a parseable verdict.
    Planted: defaulting to ``right[0] if right else "A"`` -> the neither-right case states A."""
    cases = [prompt(MATH_Q, MATH_RIGHT, MATH_RIGHT), prompt(MATH_Q, MATH_WRONG, MATH_WRONG),
             prompt("An unknown question?", MATH_RIGHT, MATH_WRONG),
             [{"role": "user", "content": f"{MATH_Q}\nFirst: {MATH_RIGHT}\nSecond: {MATH_WRONG}\nWhich is better?"}]]
    for texts in teacher.generate(cases, n=1, temperature=0.0, top_p=1.0, max_tokens=64, seed=0):
        assert not parse("cj2_cot", texts[0]).ok, texts[0]


def test_bad_answer_key_names_file_row_and_field(tmp_path):
    """Catches: a malformed answer key failing later as an unexplained KeyError (or silently
    skipping rows). Planted: dropping the answer_type check -> no error for row 2."""
    key = tmp_path / "key.jsonl"
    key.write_text(json.dumps({"question": MATH_Q, "gold": "18", "answer_type": "number"}) + "\n"
                   + json.dumps({"question": MC_Q, "gold": "B", "answer_type": "essay"}) + "\n")
    with pytest.raises(AnswerKeyError, match=r"key\.jsonl, row 2: field 'answer_type'"):
        build_engine("rule", model=str(key))
    with pytest.raises(AnswerKeyError, match="no gold-answer file"):
        build_engine("rule", model=str(tmp_path / "missing.jsonl"))


def test_the_analysis_does_not_decide_before_the_choice(tmp_path):
    """The same two responses judged against two answer keys (gold 18, then gold 20): each side's
    fields hold only its own answer and the answer the work leads to, in the same words whether
    the side is right or not, so the judgments differ only there and in the Choice: nothing before
    the verdict token says which side is right.
    Planted: the old texts ("Final number 18 is correct." / "20 is wrong; the answer is 18") -> the
    Weaknesses fields differ between the two keys."""
    twin = MATH_Q + " Count them again."
    key = tmp_path / "answer_key.jsonl"
    key.write_text(json.dumps({"question": MATH_Q, "gold": "18", "answer_type": "number"}) + "\n"
                   + json.dumps({"question": twin, "gold": "20", "answer_type": "number"}) + "\n")
    teacher = build_engine("rule", model=str(key))
    gold18, gold20 = (json.loads(t[0]) for t in teacher.generate([prompt(MATH_Q, MATH_RIGHT, MATH_WRONG), prompt(twin, MATH_RIGHT, MATH_WRONG)],
                                                                    n=1, temperature=0.0, top_p=1.0, max_tokens=64, seed=0))
    assert (gold18["Choice"], gold20["Choice"]) == ("Model A", "Model B")
    # Each side's fields: its own answer and the answer the work leads to, in the same words.
    assert gold18["Strengths of Model A"] == "States 18; its work leads to 18." and gold18["Strengths of Model B"] == "States 20; its work leads to 18."
    assert gold20["Strengths of Model A"] == "States 18; its work leads to 20." and gold20["Strengths of Model B"] == "States 20; its work leads to 20."
    assert [k for k in COT_KEYS if gold18[k] != gold20[k]] == ["Strengths of Model A", "Strengths of Model B", "Choice"]
