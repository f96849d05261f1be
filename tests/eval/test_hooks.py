"""The training-time evaluation hook on a scripted judge."""

from __future__ import annotations

import pytest

from cj2.data.records import JudgeExample
from cj2.eval.judging.hooks import evaluate_pairwise


def always_a(conversations):
    return ['{"Choice": "Model A"}' for _ in conversations]


def examples():
    return [
        JudgeExample("q1", ["right", "wrong"], label="A", id="1"),
        JudgeExample("q2", ["wrong", "right"], label="B", id="2"),
        JudgeExample("q3", ["right", "wrong"], label="A", id="3"),
        JudgeExample("q4", ["same", "same"], label="tie", id="4"),
    ]


def test_position_biased_judge_is_exposed_by_swap():
    metrics = evaluate_pairwise(always_a, examples(), swap=True)
    assert metrics["accuracy"] == pytest.approx(200 / 3)
    assert metrics["accuracy_swapped"] == pytest.approx(100 / 3)
    assert metrics["consistency"] == 0.0
    assert metrics["verdict_a_rate"] == 100.0


def test_content_judge_with_an_unparsable_answer():
    def picks_right(conversations):
        out = []
        for messages in conversations:
            text = messages[-1]["content"]
            a = text.split("[Model A's Response]")[1].split("[Model B's Response]")[0]
            out.append("no idea" if "q3" in text else '{"Choice": "Model %s"}' % ("A" if "right" in a else "B"))
        return out

    metrics = evaluate_pairwise(picks_right, examples(), swap=True)
    assert metrics["accuracy"] == pytest.approx(200 / 3)  # q3 unparsed counts as wrong
    assert metrics["accuracy_parsed"] == 100.0
    assert metrics["unparsed"] == 2.0  # q3 in both orders
    # q1, q2 agree across orders; q3 never parsed; on the identical pair q4 the judge picks
    # whichever response is shown as B, so its two verdicts disagree
    assert metrics["consistency"] == pytest.approx(50.0)


def test_wrong_number_of_texts_is_an_error():
    with pytest.raises(ValueError, match="returned 0 texts"):
        evaluate_pairwise(lambda conversations: [], examples())
