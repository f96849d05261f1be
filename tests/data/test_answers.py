"""Final-answer extraction (cj2/data/curation/answers.py): letters among the question's options, the last stated answer."""

from __future__ import annotations

import pytest

from cj2.data.curation.answers import extract_letter, extract_number, is_correct, option_letters

MMLU_QUESTION = "Which number is prime?\n(A) 4\n(B) 5\n(C) 6\n(D) 8"


def test_a_letter_outside_the_options_is_not_an_answer():
    """A four-option question: "I" (the pronoun) is no option, so the statement "Answer: I ..."
    names none and the option the response does name is read.
    Catches: letters read from A-J whatever the question offers (extract_letter ignoring
    ``letters``): "Answer: I think (B) is wrong" gave "I", "Answer: I pick (D)." graded wrong."""
    letters = option_letters(MMLU_QUESTION)
    assert letters == "ABCD"
    assert extract_letter("Answer: I think (B) is wrong", letters) == "B"
    assert extract_letter("The answer is (A). Wait, no: the answer is (C). Answer: I am sure.", letters) == "C"
    assert is_correct("Answer: I pick (D).", "D", "letter", letters)
    assert not is_correct("Answer: I pick (D).", "B", "letter", letters)


@pytest.mark.parametrize("question, gold, choices, expected", [
    (MMLU_QUESTION, "B", None, "ABCD"),
    ("Pick one.\nA. red\nB) green\nC: blue", "", None, "ABC"),  # markers at line starts
    ("Statement (I) holds.\n(A) yes\n(B) no", "A", None, "AB"),  # (I) is no option: the run stops at B
    ("What is 2 + 2?", "", None, "ABCD"),  # no options marked: A-D
    ("What is 2 + 2?", "F", None, "ABCDEF"),  # ... widened to reach the gold letter
    (MMLU_QUESTION, "", 10, "ABCDEFGHIJ"),  # declared: options.choices, a count
    (MMLU_QUESTION, "", "abc", "ABC"),  # ... or the letters
])
def test_option_letters(question, gold, choices, expected):
    """Catches: every capital in parentheses taken as an option (the "(I)" row), the gold letter
    left outside the options (the "F" row), a declared options.choices ignored."""
    assert option_letters(question, gold, choices) == expected


def test_the_last_stated_number_wins():
    """Catches: the first "answer is" number taken (re.search in extract_number): a response that
    corrects itself was graded on the answer it abandoned."""
    assert extract_number("First try: the answer is 12. That ignores the tax. So the answer is 15.") == "15"
    assert extract_number("The answer is 1,200 at first, then the answer is: $1,350.50 in total") == "1350.5"
    assert extract_number("the answer is 5\n#### 7") == "7"  # GSM8K's marker still decides
    assert is_correct("the answer is 12 ... So the answer is 15.", "#### 15", "number")
