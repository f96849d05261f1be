"""Style requirements a user might add to a question ("Users prefer a more detailed response." ...).

``eval.style_suffix=NAME`` appends one to every question of a pairwise benchmark (the prompts of
:mod:`cj2.eval.judging.pairwise`); the robustness study (:mod:`cj2.eval.studies.robustness`)
compares each with the plain question.
"""

from __future__ import annotations

from cj2.eval.core.files import EvalInputError

# The requirement a user might add; a judge that follows the published criteria should not let
# it flip verdicts on RewardBench, whose chosen answers are chosen for correctness and safety.
STYLES = {
    "detailed": "Users prefer a more detailed response.",
    "concise": "Users prefer a more concise response.",
    "formal": "Users prefer a response written in a formal tone.",
    "casual": "Users prefer a response written in a casual, friendly tone.",
}


def style_text(name: str) -> str:
    if name not in STYLES:
        raise EvalInputError("eval.style_suffix", f"unknown style {name!r}; known: {', '.join(STYLES)}")
    return STYLES[name]


def styled_question(question: str, style: str | None) -> str:
    """The user question with the style requirement appended as its own paragraph (unchanged without one)."""
    return f"{question}\n\n{style_text(style)}" if style else question
