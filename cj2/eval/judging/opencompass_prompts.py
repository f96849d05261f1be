"""OpenCompass's pairwise "Choice" prompt: the protocol behind the paper's JudgeBench, RMB, RewardBench numbers.

The text is OpenCompass's ``prompt_choice_prefix + prompt_choice_en``, identical in
``opencompass/configs/datasets/judge/{judgebench,rmb,rewardbench}.py``, sent as one user turn
(the configs' single HUMAN round). OpenCompass fills it with ``safe_format``: plain
``str.replace`` of ``{question}``, ``{answerA}``, ``{answerB}`` and then the output column
``{judge}`` (by an empty string), in the dataset's column order, so a response that itself
contains ``{answerB}`` is filled too; :func:`choice_prompt` does the same, byte for byte.
The verdict is read by :func:`cj2.eval.judging.official_parsers.opencompass_choice`.
"""

from __future__ import annotations

from cj2.eval.judging.official_parsers import OPENCOMPASS_CHOICE

NAME = OPENCOMPASS_CHOICE

PREFIX = (
    '\n'
    'Please act as an impartial judge to evaluate the responses provided by two AI assistants to the user question below. Your evaluation should focus on the following criteria: helpfulness, relevance, accuracy, depth, creativity, and level of detail.\n'
    '\n'
    '- Do not let the order of presentation, response length, or assistant names influence your judgment.\n'
    '- Base your decision solely on how well each response addresses the user’s question and adheres to the instructions.\n'
    '\n'
    'Your final reply must be structured in the following format:\n'
    '{\n'
    '  "Choice": "[Model A or Model B]"\n'
    '}\n'
)
BODY = (
    'User Question: {question}\n'
    '\n'
    "Model A's Response: {answerA}\n"
    '\n'
    "Model B's Response: {answerB}\n"
    '\n'
    "Now it's your turn. Please provide selection result as required:\n"
)


def choice_prompt(question: str, answer_a: str, answer_b: str) -> str:
    text = PREFIX + BODY
    for key, value in (("question", question), ("answerA", answer_a), ("answerB", answer_b), ("judge", "")):
        text = text.replace("{" + key + "}", value)
    return text


def choice_messages(question: str, answer_a: str, answer_b: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": choice_prompt(question, answer_a, answer_b)}]


def opencompass_conversation(turns: list[dict[str, str]]) -> str:
    """RMB's conversation as OpenCompass's ``RMBDataset`` writes the question (ends with an open assistant turn)."""
    question = ""
    for turn in turns:
        question += ("\n\n ### User:" if turn["role"] == "user" else "\n\n ### Assistant:") + turn["content"]
    return question + "\n\n ### Assistant:"
