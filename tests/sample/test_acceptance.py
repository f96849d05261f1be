"""Acceptance with the real cj2_cot parser: verdict == label, the per-item cap, unparsed reasons."""

from __future__ import annotations

import json

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
    assert [c["kept"] for c in candidates] == [True, True, False]


def test_an_item_without_any_accepted_candidate_has_none_kept():
    candidates = judge_candidates(["", judgment("B")], "A", "cj2_cot", accept_cap=1)
    assert not any(c["accepted"] or c["kept"] for c in candidates)
