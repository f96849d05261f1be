"""Acceptance with the real cj2_cot parser: verdict == label, the per-item cap, unparsed reasons."""

from __future__ import annotations

import json

import pytest

from cj2.sample.acceptance import judge_candidates
from cj2.verdicts import get_format


def judgment(choice: str) -> str:
    return json.dumps({"User's Demand": "sum", "Strengths of Model A": "right", "Weaknesses of Model A": "none", "Strengths of Model B": "short", "Weaknesses of Model B": "wrong", "Reasoning": "A is correct", "Choice": f"Model {choice}"})


def test_accepts_matching_verdicts_up_to_the_cap():
    texts = [judgment("B"), judgment("A"), "I cannot decide.", judgment("A"), judgment("A")]
    candidates = judge_candidates(texts, "A", "cj2_cot", accept_cap=2)
    assert [c["verdict"] for c in candidates] == ["B", "A", None, "A", "A"]
    assert [c["accepted"] for c in candidates] == [False, True, False, True, True]
    assert [c["kept"] for c in candidates] == [False, True, False, True, False]
    assert [c["index"] for c in candidates] == list(range(5)) and [c["text"] for c in candidates] == texts
    unparsed = candidates[2]
    assert not unparsed["parsed"] and unparsed["reason"]  # the parser's reason, kept for curation
    assert all(c["reason"] is None for c in candidates if c["parsed"])


def test_cap_zero_keeps_every_accepted_candidate_and_rendered_verdicts_parse():
    rendered = get_format("cj2_cot").render("B")  # the format's own verdict text
    candidates = judge_candidates([rendered, judgment("B"), judgment("A")], "B", "cj2_cot", accept_cap=0)
    assert [c["kept"] for c in candidates] == [False, True, False]  # the bare rendered verdict is no judgment
    assert [c["rejected"] for c in candidates] == ["cot_not_one_object", None, "wrong_verdict"]


def complete(**change):
    obj = json.loads(judgment("A"))
    obj.update(change)
    return obj


@pytest.mark.parametrize("text, reason", [
    ('{"Choice": "Model A"}', "cot_missing_keys"),
    ('Model A is better. {"Choice": "Model A"', "cot_not_one_object"),  # the lenient parser reads the verdict
    ("I cannot decide.", "unparsed"),
    (json.dumps(dict(reversed(list(complete().items())))), "cot_key_order"),
    (json.dumps(complete(**{"Weaknesses of Model B": "  "})), "cot_empty_value"),
    (json.dumps(complete(Confidence="high")), "cot_extra_keys"),
    (json.dumps(complete(), indent=1), None),
])
def test_only_a_complete_cot_judgment_is_accepted(text, reason):
    """Catches: any text whose Choice matches accepted as a target (a bare {"Choice": "Model A"}), keys
    out of the prompt's order, an empty analysis, and a rejection without its reason."""
    (candidate,) = judge_candidates([text], "A", "cj2_cot", accept_cap=0)
    assert candidate["rejected"] == reason and candidate["accepted"] == candidate["kept"] == (reason is None)


def test_an_item_without_any_accepted_candidate_has_none_kept():
    candidates = judge_candidates(["", judgment("B")], "A", "cj2_cot", accept_cap=1)
    assert not any(c["accepted"] or c["kept"] for c in candidates)
