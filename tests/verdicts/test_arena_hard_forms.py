"""All ten Arena-Hard verdict forms: the five of Arena-Hard's judge prompt and their mirrors.

Reference: arena-hard-auto's prompt lists [[A>>B]], [[A>B]], [[A=B]], [[B>A]], [[B>>A]]; a mirrored
form states the same preference read right to left ([[A<<B]]: B is much better than A).
"""

from __future__ import annotations

import pytest

from cj2.verdicts import parse

FORMS = {
    "A>>B": "A", "A>B": "A", "A=B": "tie", "B>A": "B", "B>>A": "B",
    # mirrored
    "B<<A": "A", "B<A": "A", "B=A": "tie", "A<B": "B", "A<<B": "B",
}


@pytest.mark.parametrize("form,label", FORMS.items())
def test_every_arena_hard_form_reads_as_its_preference(form, label):
    """Catches: a mirrored form read by its first letter ([[A<<B]] -> A) in cj2/verdicts/formats.py."""
    text = f"Both answers are close; weighing accuracy first.\n\nMy final verdict is: [[{form}]]"
    verdict = parse("arena_hard", text)
    assert verdict.ok and verdict.label == label, verdict
    assert text[verdict.span[0] : verdict.span[1]] == form  # the span marks the verdict as written


@pytest.mark.parametrize("form,label", [("a << b", "B"), (" B >> A ", "B"), ("b<a", "A")])
def test_spaced_and_lowercase_forms(form, label):
    assert parse("arena_hard", f"My final verdict is [[{form}]]").label == label


def test_a_form_and_its_mirror_agree_and_opposite_preferences_conflict():
    """A judgment stating [[A<<B]] then [[B>>A]] says one thing twice; [[A<<B]] then [[A>>B]] contradicts itself."""
    assert parse("arena_hard", "[[A<<B]] ... so, again: [[B>>A]]").label == "B"
    conflicting = parse("arena_hard", "[[A<<B]] ... final: [[A>>B]]")
    assert not conflicting.ok and "conflicting" in conflicting.reason
