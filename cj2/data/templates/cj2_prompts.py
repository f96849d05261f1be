"""The two prompts that come with the method (docs: prompts.md), with placeholders added."""

from __future__ import annotations

from cj2.data.templates.base import JudgeTemplate

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

_DIALOGUE = """

[User's Question]
{question}

[Model A's Response]
{response_a}

[Model B's Response]
{response_b}"""

# The seven JSON keys of the CoT judgment, in order (method.md section 1).
COT_KEYS = ("User's Demand", "Strengths of Model A", "Weaknesses of Model A", "Strengths of Model B",
            "Weaknesses of Model B", "Reasoning", "Choice")

CJ2_COT = JudgeTemplate(name="cj2_cot", kind="pairwise", verdict_format="cj2_cot", user=_COT_INSTRUCTIONS + _DIALOGUE)

# The CoT prompt cut to one line, for small students on small budgets (the CPU miniature,
# docs/mini_ablation.md): the same dialogue layout and the same seven keys in the answer.
CJ2_COT_COMPACT = JudgeTemplate(
    name="cj2_cot_compact",
    kind="pairwise",
    verdict_format="cj2_cot",
    system="You are a judge.",
    user='Which response is right? Answer in JSON, "Choice" last.' + _DIALOGUE,
)

CJ2_CRITIQUE = JudgeTemplate(
    name="cj2_critique",
    kind="critique",
    verdict_format=None,
    user=(
        "Below is a user's question and a model's response. Please help identify the strengths and weaknesses of "
        "the model's reply so that it can better address the user's question.\n"
        "The user's question is as follows: {question}\n"
        "The model's response is as follows: {response}\n"
        "Now, please provide your feedback, highlighting the strengths and areas for improvement in the model's response."
    ),
)
