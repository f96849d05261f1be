"""Prompt robustness end to end: RewardBench judged plain and with each style requirement, by a
scripted judge whose answers are known, through the same store and scoring as launch/eval.py."""

from __future__ import annotations

import json

import pytest

from cj2.config import compose, finalize
from cj2.eval.core.files import EvalInputError
from cj2.eval.studies.robustness import STYLES, run_robustness, write_report
from tests.scripted import ScriptedEngine

# (subset, chosen, rejected): every chosen answer says "correct"; lengths decide the styled verdicts.
ROWS = [
    ("alpacaeval-easy", "correct, and explained at length", "wrong"),
    ("alpacaeval-easy", "correct", "wrong but explained at length"),
    ("mt-bench-hard", "correct", "a long wrong answer"),
    ("mt-bench-hard", "correct", "another long wrong answer"),
    ("refusals-dangerous", "correct: I will not help with that, because ...", "sure"),
    ("math-prm", "correct: 2 + 2 = 4, since ...", "5"),
]


class StyleFollowingJudge(ScriptedEngine):
    """Picks the "correct" response, unless the question asks for detail (then the longer one) or
    concision (the shorter one); answers in OpenCompass's Choice format."""

    def reply(self, messages):
        content = messages[-1]["content"]
        a = content.split("Model A's Response: ")[1].split("\n\nModel B's Response: ")[0]
        b = content.split("Model B's Response: ")[1].split("\n\nNow it's your turn")[0]
        if STYLES["detailed"] in content:
            pick = "A" if len(a) > len(b) else "B"
        elif STYLES["concise"] in content:
            pick = "A" if len(a) < len(b) else "B"
        else:
            pick = "A" if "correct" in a else "B"
        return '{"Choice": "Model ' + pick + '"}'


@pytest.fixture
def cfg(tmp_path):
    data = tmp_path / "rewardbench.jsonl"
    data.write_text("".join(json.dumps({"id": i, "prompt": f"Q{i}", "chosen": c, "rejected": r, "subset": s}) + "\n" for i, (s, c, r) in enumerate(ROWS)))
    return finalize(compose(["eval=rewardbench", f"eval.data_file={data}", "eval.model=scripted", "eval.progress=false", "eval.plots=false", f"run_dir={tmp_path / 'run'}"]))


def test_robustness_reports_accuracy_with_and_without_each_style_and_the_drop(cfg):
    """Catches: the style sentence not appended to the judge prompt (prompt check), the drop computed
    styled - plain (sign), a finished store ignored so a rerun re-judges everything (call count)."""
    judge = StyleFollowingJudge()
    report = run_robustness(cfg, judge=lambda: judge)
    assert len(judge.prompts) == len(ROWS) * (1 + len(STYLES))
    # The paper's sentence, appended to the judge's prompt (eval.style_placement=instruction), not to the question (#27).
    detailed = [p[-1]["content"] for p in judge.prompts if "User Question: Q0\n\nModel A's Response: correct, and" in p[-1]["content"] and STYLES["detailed"] in p[-1]["content"]]
    assert len(detailed) == 1 and detailed[0].endswith("\n\nBeyond this, users prefer a more detailed response; therefore, you need to determine which model's "
                                                        "answer provides more comprehensive and useful information when both responses are correct and have completed the user's request.")

    # Hand-computed: plain judging is always right (chosen shown as A). "detailed" picks the longer
    # answer: alpacaeval-easy 1 of 2, mt-bench-hard 0 of 2, the other two 1 of 1; "concise" the reverse.
    assert report["plain"]["groups"] == {s: {"items": n, "accuracy": 100.0} for s, n in [("alpacaeval-easy", 2), ("mt-bench-hard", 2), ("refusals-dangerous", 1), ("math-prm", 1)]}
    detailed, concise = report["styles"]["detailed"], report["styles"]["concise"]
    assert detailed["drop"]["groups"] == {"alpacaeval-easy": 50.0, "mt-bench-hard": 100.0, "refusals-dangerous": 0.0, "math-prm": 0.0}
    assert concise["drop"]["groups"] == {"alpacaeval-easy": 50.0, "mt-bench-hard": 0.0, "refusals-dangerous": 100.0, "math-prm": 100.0}
    assert detailed["sections"] == {"Chat": 50.0, "Chat Hard": 0.0, "Safety": 100.0, "Reasoning": 100.0}
    assert (report["plain"]["headline"], detailed["headline"], detailed["drop"]["headline"]) == (100.0, 62.5, 37.5)
    assert (concise["headline"], concise["drop"]["headline"]) == (37.5, 62.5)
    assert report["styles"]["formal"]["drop"]["headline"] == 0.0  # a requirement this judge ignores
    assert (report["protocol"]["prompt"], report["protocol"]["parser"]) == ("opencompass_choice", "official")

    output = write_report(cfg, report)
    assert json.loads(output.read_text()) == report
    table = output.with_suffix(".md").read_text()
    assert "| overall | score | 100.00 | 62.50 | 37.50 | 37.50 | 62.50 |" in table
    assert "| subset | mt-bench-hard | 100.00 | 0.00 | 100.00 | 100.00 | 0.00 |" in table

    again = StyleFollowingJudge()
    assert run_robustness(cfg, judge=lambda: again) == report and again.prompts == []  # every judgment was stored


def test_an_unknown_style_is_named_with_the_known_ones(cfg):
    """Catches: an unknown style silently judged as the plain prompt."""
    from cj2.eval.studies.robustness import with_style

    cfg = with_style(cfg, "verbose")
    with pytest.raises(EvalInputError, match="eval.style_suffix: unknown style 'verbose'; known: detailed, concise"):
        run_robustness(cfg, judge=StyleFollowingJudge)
