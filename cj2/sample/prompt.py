"""The judge prompt the teacher answers: CompassJudger-2's critical-thinking CoT prompt.

Stand-in until ``cj2.data.templates`` (the data side's template registry) lands: the text is
prompts.md's pairwise prompt verbatim, with the dialogue placed after the instructions.
"""

from __future__ import annotations

from cj2.data.records import JudgeExample

CJ2_COT_INSTRUCTIONS = """Now we are reviewing a user's interaction with two models. Your task is to evaluate the responses from Model A and Model B by carefully analyzing the dialogue step by step, following a clear and structured thought process:
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

CJ2_COT_DIALOGUE = """

[User's Question]
{question}

[The Start of Model A's Answer]
{response_a}
[The End of Model A's Answer]

[The Start of Model B's Answer]
{response_b}
[The End of Model B's Answer]"""

TEMPLATES = {"cj2_cot"}


def judge_messages(example: JudgeExample, template: str = "cj2_cot") -> list[dict[str, str]]:
    """The chat conversation asking the teacher to judge ``example`` (a pairwise example)."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown judge template {template!r}; known: {', '.join(sorted(TEMPLATES))}")
    if len(example.responses) != 2:
        raise ValueError(f"the {template} template judges two responses, got {len(example.responses)}")
    a, b = example.responses
    content = CJ2_COT_INSTRUCTIONS + CJ2_COT_DIALOGUE.format(question=example.question, response_a=a, response_b=b)
    return [{"role": "user", "content": content}]
