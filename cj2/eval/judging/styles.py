"""Style requirements a user might add ("users prefer a more detailed response ..."): prompt robustness.

``eval.style_suffix=NAME`` adds one to every judge prompt of a pairwise benchmark (the prompts of
:mod:`cj2.eval.judging.pairwise`); the robustness study (:mod:`cj2.eval.studies.robustness`)
compares each with the plain prompt. ``eval.style_placement`` says where: ``instruction`` (the
default, as the paper does it) appends it to the judge's prompt after everything else, ``question``
appends it to the user's question as a paragraph of its own.
"""

from __future__ import annotations

from cj2.eval.core.files import EvalInputError

# "detailed" is the paper's sentence, added to the judging prompt in its "Style Judge" robustness
# experiment (CompassJudger-2, arXiv:2507.09104, section on robustness; RISE-32B lost 10.67 points
# on RewardBench Chat Hard with it). The others follow its wording for the other styles. A judge that
# follows the published criteria should not let them flip verdicts on RewardBench, whose chosen
# answers are chosen for correctness and safety.
STYLES = {
    "detailed": "Beyond this, users prefer a more detailed response; therefore, you need to determine which model's answer provides more comprehensive and useful information when both responses are correct and have completed the user's request.",
    "concise": "Beyond this, users prefer a more concise response; therefore, you need to determine which model's answer conveys what is needed in fewer words when both responses are correct and have completed the user's request.",
    "formal": "Beyond this, users prefer a response written in a formal tone; therefore, you need to determine which model's answer is written more formally when both responses are correct and have completed the user's request.",
    "casual": "Beyond this, users prefer a response written in a casual, friendly tone; therefore, you need to determine which model's answer is friendlier when both responses are correct and have completed the user's request.",
}
PLACEMENTS = ("instruction", "question")


def style_text(name: str) -> str:
    if name not in STYLES:
        raise EvalInputError("eval.style_suffix", f"unknown style {name!r}; known: {', '.join(STYLES)}")
    return STYLES[name]


def styled_question(question: str, style: str | None) -> str:
    """The user question with the style requirement appended as its own paragraph (unchanged without one)."""
    return f"{question}\n\n{style_text(style)}" if style else question


def styled_messages(messages: list[dict], style: str | None) -> list[dict]:
    """The judge prompt with the style requirement appended to its last message as a paragraph of its own."""
    if not style:
        return messages
    return [*messages[:-1], {**messages[-1], "content": f"{messages[-1]['content']}\n\n{style_text(style)}"}]
