"""Critique-guided revision end to end with a scripted policy and judge whose answers are known,
through the same stored stages as a server run, plus GSM8K answer extraction on the real test set."""

from __future__ import annotations

import json

import pytest

from cj2.config import compose, finalize
from cj2.eval.core.files import EvalInputError
from cj2.eval.studies.revision import is_correct, numeric_answer, run_revision
from tests.scripted import ScriptedEngine

# (question, gold or None, the judge's hint in its critique)
TASKS = [
    ("Tom has 3 boxes of 4 apples. How many apples?", "#### 12", "The answer should be 12."),  # wrong, then fixed
    ("What is 10 - 7?", "#### 3", "Looks fine."),  # wrong, critique unhelpful: stays wrong
    ("What is 6 * 7?", "#### 42", "The answer should be 41."),  # right, misled: broken
    ("Write a greeting.", None, "Be warmer."),  # no gold: rated by the judge
]
FIRST_ANSWERS = {0: "3 * 4 = 7. #### 7", 1: "10 - 7 = 4", 2: "6 * 7 = 42\n#### 42", 3: "hi"}


class ScriptedPolicy(ScriptedEngine):
    def reply(self, messages):
        if len(messages) == 1:  # the first answer
            return FIRST_ANSWERS[next(i for i, t in enumerate(TASKS) if t[0] == messages[0]["content"])]
        # revise: follow a numeric hint, else repeat; a greeting gets warmer
        critique, previous = messages[-1]["content"], messages[1]["content"]
        hint = critique.split("should be ")[1].split(".")[0] if "should be " in critique else None
        return f"Revised. #### {hint}" if hint else ("Hello, dear friend!" if previous == "hi" else previous)


class ScriptedJudge(ScriptedEngine):
    def reply(self, messages):
        text = "\n".join(m["content"] for m in messages)
        if "[[5]]" in messages[0]["content"]:  # the mtbench_single rating instruction
            return "Rating: [[8]]" if "dear friend" in text else "Rating: [[3]]"
        return next(hint for q, _, hint in TASKS if q in text)


@pytest.fixture
def cfg(tmp_path):
    data = tmp_path / "tasks.jsonl"
    data.write_text("".join(json.dumps({"id": f"t{i}", "question": q, **({"answer": g} if g else {})}) + "\n" for i, (q, g, _) in enumerate(TASKS)))
    return finalize(compose([f"eval.data_file={data}", "eval.model=judge", "eval.policy_model=policy", "eval.policy_base_url=http://unused/v1", "eval.progress=false", f"run_dir={tmp_path / 'run'}"]))


def test_revision_scores_answers_before_and_after_the_critique(cfg):
    """Catches: the revision prompt without the critique (REVISE_INSTRUCTION formatted with "":
    nothing fixed), the first answer scored as the revised one (correct_after from the answer)."""
    policy, judge = ScriptedPolicy(), ScriptedJudge()
    report, items = run_revision(cfg, policy=lambda: policy, judge=lambda: judge)
    # Hand-computed: before, only task 2 is right (1 of 3); after, task 0 is fixed and task 2 broken (1 of 3).
    assert report["gold"] == {"tasks": 3, "accuracy_before": 100 / 3, "accuracy_after": 100 / 3, "fixed": 1, "broken": 1}
    assert [(i["correct_before"], i["correct_after"]) for i in items[:3]] == [(False, True), (False, False), (True, False)]
    assert report["judged"] == {"tasks": 1, "rated_both": 1, "unparsed_before": 0, "unparsed_after": 0, "mean_rating_before": 3.0, "mean_rating_after": 8.0, "improved": 1, "worsened": 0}
    assert items[0]["critique"] == "The answer should be 12." and items[0]["revised"] == "Revised. #### 12"
    assert (policy.calls, judge.calls) == (8, 6)  # 4 answers + 4 revisions; 4 critiques + 2 ratings

    again_policy, again_judge = ScriptedPolicy(), ScriptedJudge()
    assert run_revision(cfg, policy=lambda: again_policy, judge=lambda: again_judge) == (report, items)
    assert (again_policy.calls, again_judge.calls) == (0, 0)


def test_gsm8k_answers_are_read_after_the_marker_or_as_the_last_number(shared_data):
    """Catches: numbers read from the whole text instead of after '####' (the last '####' marker
    ignored). Every gold answer of the real GSM8K test set must parse."""
    assert numeric_answer("She has 3 + 4 = 7 apples.\n#### 1,234") == 1234.0
    assert numeric_answer("so 5 - 2 = 3 and the answer is 3.") == 3.0
    assert numeric_answer("no number") is None
    assert is_correct("The total is $18.", "#### 18") and not is_correct("#### 17", "#### 18")
    lines = (shared_data / "gsm8k/test.jsonl").read_text().splitlines()
    golds = [json.loads(line)["answer"] for line in lines]
    assert len(golds) == 1319 and all(numeric_answer(g) is not None for g in golds)
    first = golds[0]  # Janet's ducks: 16 - 3 - 4 = 9 eggs at $2 each
    assert numeric_answer(first) == 18.0 and is_correct(first.split("####")[0], first) is True


def test_a_task_without_a_question_is_named(cfg, tmp_path):
    """Catches: a malformed task silently skipped."""
    from cj2.eval.studies.revision import read_tasks

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Q"}\n{"answer": "#### 1"}\n')
    with pytest.raises(EvalInputError, match="bad.jsonl line 2 field 'question'"):
        read_tasks(str(bad), None)
