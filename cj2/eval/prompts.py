"""Judge prompts used by evaluation and ``launch/judge.py``: pairwise, pointwise and critique.

The pairwise CoT and the critique text are the project's two given prompts (docs/prompts.md in
the brief) with placeholders for the question and responses. They live here until the data
package's template registry covers them; each template names the verdict format its answer
is parsed with.
"""

from __future__ import annotations

from dataclasses import dataclass

Messages = list[dict[str, str]]

_COT_INSTRUCTIONS = """Now we are reviewing a user's interaction with two models. Your task is to evaluate the responses from Model A and Model B by carefully analyzing the dialogue step by step, following a clear and structured thought process:
1. User's Demand:
- Carefully analyze the user's request. What is the user specifically asking for? What are the key aspects of the request that need to be fulfilled? Identify any constraints (e.g., time, format, quantity) the user has provided.
2. Strengths of Model A:
- Identify the strengths of Model A's response. Consider how well it addresses the user's demand, meets the user's constraints, and how well it serves the intended purpose.
3. Weaknesses of Model A:
- Identify the weaknesses of Model A's response. What aspects of the response fail to meet the user's request or constraints? What could have been improved?
4. Strengths of Model B:
- Identify the strengths of Model B's response. Consider how well it addresses the user's demand, meets the user's constraints, and how well it serves the intended purpose.
5. Weaknesses of Model B:
- Identify the weaknesses of Model B's response. What aspects of the response fail to meet the user's request or constraints? What could have been improved?
6. Reasoning:
- Based on your analysis of both responses, explain which model better addresses the user's needs. Discuss which model's response is more suitable given the user's request and constraints.
7. Choice:
- Conclude with a choice between Model A and Model B based on your reasoning. Indicate which model provides the more appropriate and useful response for the user's request.
Your final reply must be structured in the following format:
{"User's Demand":"[The user's request or need]",
"Strengths of Model A":"[Summary of the strengths of Model A]",
"Weaknesses of Model A":"[Summary of the weaknesses of Model A]",
"Strengths of Model B":"[Summary of the strengths of Model B]",
"Weaknesses of Model B":"[Summary of the weaknesses of Model B]",
"Reasoning":"[Explanation of which model is more suitable for the user's demand]",
"Choice":"[Model A or Model B]"
}"""

_PAIR_BODY = """

[User's Question]
{question}

[Model A's Response]
{response_a}
[End of Model A's Response]

[Model B's Response]
{response_b}
[End of Model B's Response]"""

_POINTWISE = """Please act as an impartial judge and evaluate the quality of the response an AI assistant gave to the user question below. Consider helpfulness, relevance, accuracy, depth and level of detail. Explain your evaluation briefly, then rate the response on a scale of 1 to 10 in exactly this format: "[[rating]]", for example "Rating: [[5]]".

[User's Question]
{question}

[Assistant's Response]
{response}
[End of Assistant's Response]"""

_CRITIQUE = """Below is a user's question and a model's response. Please help identify the strengths and weaknesses of the model's reply so that it can better address the user's question.
The user's question is as follows: {question}
The model's response is as follows: {response}
Now, please provide your feedback, highlighting the strengths and areas for improvement in the model's response."""


@dataclass(frozen=True)
class JudgeTemplate:
    name: str
    mode: str  # pairwise | pointwise | critique
    text: str
    verdict_format: str | None  # None: free text (critiques have no verdict)


TEMPLATES = {
    # The instructions' JSON braces are literal text, not format fields.
    "cj2_cot": JudgeTemplate("cj2_cot", "pairwise", _COT_INSTRUCTIONS.replace("{", "{{").replace("}", "}}") + _PAIR_BODY, "cj2_cot"),
    "pointwise_score": JudgeTemplate("pointwise_score", "pointwise", _POINTWISE, "mtbench_single"),
    "critique": JudgeTemplate("critique", "critique", _CRITIQUE, None),
}
DEFAULT_FOR_MODE = {"pairwise": "cj2_cot", "pointwise": "pointwise_score", "critique": "critique"}


def get_template(name: str) -> JudgeTemplate:
    if name not in TEMPLATES:
        raise ValueError(f"unknown judge template {name!r}; known: {', '.join(TEMPLATES)}")
    return TEMPLATES[name]


def render(template: JudgeTemplate, question: str, responses: list[str]) -> Messages:
    """The chat messages asking ``template``'s question about one or two responses."""
    needed = 2 if template.mode == "pairwise" else 1
    if len(responses) != needed:
        raise ValueError(f"template {template.name!r} ({template.mode}) needs {needed} response(s), got {len(responses)}")
    if needed == 2:
        content = template.text.format(question=question, response_a=responses[0], response_b=responses[1])
    else:
        content = template.text.format(question=question, response=responses[0])
    return [{"role": "user", "content": content}]
