"""Where a style requirement goes in a pairwise judge prompt (eval.style_placement)."""

from __future__ import annotations

import pytest

from cj2.config import compose
from cj2.eval.core.files import EvalInputError
from cj2.eval.judging.pairwise import PairItem, pair_requests
from cj2.eval.judging.styles import STYLES

ITEM = PairItem(id="0", question="What is 2 + 2?", response_a="4", response_b="5", gold="A", group="g")


def prompt(*overrides: str) -> str:
    cfg = compose(["eval=rewardbench", "eval.style_suffix=detailed", *overrides]).eval
    [request] = pair_requests([ITEM], cfg)
    return request["messages"][-1]["content"]


def test_the_paper_places_the_requirement_in_the_judge_instruction():
    """Default: after the whole judge prompt (the paper's "Style Judge" text); question: right after the
    user's question. Catches: the short sentence or the question placement kept as the default, and
    a placement setting that is not read."""
    assert prompt().endswith("\n\n" + STYLES["detailed"]) and STYLES["detailed"].startswith("Beyond this, users prefer a more detailed response;")
    in_question = prompt("eval.style_placement=question")
    assert "What is 2 + 2?\n\n" + STYLES["detailed"] in in_question and not in_question.endswith(STYLES["detailed"])
    with pytest.raises(EvalInputError, match="eval.style_placement: 'system' is not one of instruction, question"):
        prompt("eval.style_placement=system")
