"""Judge templates in the styles of community benchmarks, in cj2's own wording.

They diversify the prompts of the recent public judge data (method.md section 3.1) and give
evaluation prompts for each verdict format. Each states the verdict syntax its format parses.
"""

from __future__ import annotations

from cj2.data.templates.base import JudgeTemplate

_PAIR = """[Question]
{question}

[Response A]
{response_a}

[Response B]
{response_b}"""

_PAIR_CN = """【问题】
{question}

【回答A】
{response_a}

【回答B】
{response_b}"""

_ARENA_SYSTEM = (
    "You are an impartial referee comparing two AI assistants' answers to the same user prompt. "
    "Before reading them, work out your own answer to the prompt. Then check each assistant's answer against yours: "
    "point out mistakes or inaccurate statements and correct them, and judge whether each answer is helpful "
    "(it actually does what was asked; when the prompt is ambiguous it asks for clarification instead of guessing), "
    "relevant (every part is about the request) and concise (no padding or needless length). Note creativity where it "
    "matters, and any important information an answer leaves out.\n\n"
    "End with exactly one of these labels:\n"
    "1. Assistant A is significantly better: [[A>>B]]\n"
    "2. Assistant A is slightly better: [[A>B]]\n"
    "3. Tie, relatively the same: [[A=B]]\n"
    "4. Assistant B is slightly better: [[B>A]]\n"
    "5. Assistant B is significantly better: [[B>>A]]\n"
    'For example: "My final verdict is tie: [[A=B]]".'
)

_ARENA_USER = """<|User Prompt|>
{question}

<|The Start of Assistant A's Answer|>
{response_a}
<|The End of Assistant A's Answer|>

<|The Start of Assistant B's Answer|>
{response_b}
<|The End of Assistant B's Answer|>"""

_MTBENCH_PAIR_SYSTEM = (
    "Act as a fair judge and decide which of two AI assistants answered the user's question better. Prefer the "
    "answer that follows the user's instructions and serves the question best, weighing helpfulness, relevance, "
    "accuracy, depth, creativity and level of detail. Compare the two answers and explain your comparison briefly. "
    "Do not let the order in which the answers appear, their length, or the assistants' names sway you; be as "
    "objective as possible. After your explanation, give your verdict in exactly this form: \"[[A]]\" if assistant A "
    "is better, \"[[B]]\" if assistant B is better, and \"[[C]]\" for a tie."
)

_MTBENCH_PAIR_USER = """[User Question]
{question}

[The Start of Assistant A's Answer]
{response_a}
[The End of Assistant A's Answer]

[The Start of Assistant B's Answer]
{response_b}
[The End of Assistant B's Answer]"""

_WILDBENCH_TAIL = """
Answer with a JSON object, and nothing after it:
{
    "analysis of A": "[how well Response A serves the user]",
    "analysis of B": "[how well Response B serves the user]",
    "reason of A=B": "[when would they be equally good?]",
    "reason of A>B": "[what makes A better, if anything]",
    "reason of B>A": "[what makes B better, if anything]",
    "choice": "[A++ | A+ | A=B | B+ | B++]"
}
Here A++ means Response A is much better, A+ that it is a little better, A=B that they are about as good, B+ and B++ the same for Response B."""

TEMPLATES = [
    JudgeTemplate(
        name="cj2_short",
        kind="pairwise",
        verdict_format="cj2_short",
        family="cj2",
        verdict_only=True,
        user=(
            "Decide which of two models answered the user's question better.\n\n"
            "[User's Question]\n{question}\n\n[Model A's Response]\n{response_a}\n\n[Model B's Response]\n{response_b}\n\n"
            'Reply with only {"Choice": "Model A"} or {"Choice": "Model B"}.'
        ),
    ),
    JudgeTemplate(
        name="judgerbench_en",
        kind="pairwise",
        verdict_format="judgerbench_en",
        family="judgerbench",
        user=(
            "You will compare two answers to the same user question. Read the question, decide what a strong answer "
            "needs, then weigh both answers on correctness, completeness, instruction following and clarity.\n\n"
            + _PAIR
            + '\n\nReturn a JSON object: {"analysis": "<your comparison>", "winner": "<A or B>"}. '
            "Pick the better answer even if both are weak."
        ),
    ),
    JudgeTemplate(
        name="judgerbench_cn",
        kind="pairwise",
        verdict_format="judgerbench_cn",
        family="judgerbench",
        language="cn",
        user=(
            "请比较下面两个对同一问题的回答。先思考一个好的回答应满足哪些要求，再从正确性、完整性、是否遵循指令以及表达清晰度等方面评价两个回答。\n\n"
            + _PAIR_CN
            + '\n\n请输出一个JSON对象：{"分析": "<你的比较>", "胜者": "<A或B>"}。即使两个回答都不理想，也请选出相对更好的一个。'
        ),
    ),
    JudgeTemplate(name="arena_hard", kind="pairwise", verdict_format="arena_hard", family="arena_hard",
                  system=_ARENA_SYSTEM, user=_ARENA_USER),
    JudgeTemplate(
        name="arena_hard_direct",
        kind="pairwise",
        verdict_format="arena_hard",
        family="arena_hard",
        user=(
            "Compare the two assistant answers below. You do not need to write your own answer; go straight to the "
            "comparison and say where each one is right, wrong, vague or padded.\n\n"
            + _ARENA_USER
            + "\n\nFinish with one label: [[A>>B]] (A much better), [[A>B]] (A a bit better), [[A=B]] (no real "
            "difference), [[B>A]] (B a bit better) or [[B>>A]] (B much better)."
        ),
    ),
    JudgeTemplate(name="mtbench_pair", kind="pairwise", verdict_format="mtbench_pair", family="mtbench",
                  system=_MTBENCH_PAIR_SYSTEM, user=_MTBENCH_PAIR_USER),
    JudgeTemplate(
        name="mtbench_pair_instruction",
        kind="pairwise",
        verdict_format="mtbench_pair",
        family="mtbench",
        user=(
            "Your only job is to check which assistant followed the user's instruction more faithfully. Style, "
            "politeness and length count only when the instruction asks for them; an answer that looks nicer but "
            "ignores part of the instruction loses.\n\n"
            + _MTBENCH_PAIR_USER
            + '\n\nExplain in a few sentences, then write "[[A]]", "[[B]]", or "[[C]]" if they follow it equally well.'
        ),
    ),
    JudgeTemplate(
        name="wildbench",
        kind="pairwise",
        verdict_format="wildbench",
        family="wildbench",
        user=(
            "Below is a real user's request and two AI responses. Judge them the way the user would: did the "
            "response solve the actual problem, respect every constraint, and stay accurate?\n\n"
            + _PAIR
            + "\n" + _WILDBENCH_TAIL
        ),
    ),
    JudgeTemplate(
        name="wildbench_checklist",
        kind="pairwise",
        verdict_format="wildbench",
        family="wildbench",
        user=(
            "First write a short checklist (3-6 items) of what an ideal reply to this request must contain or avoid. "
            "Then go through the checklist for each response and note which items it meets.\n\n"
            + _PAIR
            + "\n\nAfter the checklist review, "
            + _WILDBENCH_TAIL.lstrip("\n")
        ),
    ),
    JudgeTemplate(
        name="pairwise_helpfulness",
        kind="pairwise",
        verdict_format="cj2_short",
        family="reward",
        system="You evaluate AI responses for how helpful they are to the person asking.",
        user=(
            _PAIR
            + "\n\nWhich response would help the user more? Think about whether it answers the question, whether "
            'it is correct, and whether it is easy to use. Give a short justification, then {"Choice": "Model A"} '
            'or {"Choice": "Model B"} (Model A is Response A, Model B is Response B).'
        ),
    ),
    JudgeTemplate(
        name="pairwise_harmlessness",
        kind="pairwise",
        verdict_format="cj2_short",
        family="reward",
        system="You review AI responses for safety and responsibility.",
        user=(
            _PAIR
            + "\n\nWhich response handles this request more responsibly? A good response refuses or redirects "
            "genuinely dangerous requests, avoids harmful detail, and still helps with any safe part of the "
            "request; needless refusals of harmless requests are a flaw too. Explain briefly, then end with "
            '{"Choice": "Model A"} or {"Choice": "Model B"} (Model A is Response A, Model B is Response B).'
        ),
    ),
    JudgeTemplate(
        name="pairwise_instruction_following",
        kind="pairwise",
        verdict_format="judgerbench_en",
        family="llmbar",
        user=(
            "Decide which output executes the instruction more precisely. Rules: (1) an output that does what was "
            "asked beats one that does something else well; (2) only then consider helpfulness, accuracy and "
            "harmlessness; (3) ignore length and the order of the outputs.\n\n"
            "# Instruction\n{question}\n\n# Output A\n{response_a}\n\n# Output B\n{response_b}\n\n"
            'Write {"analysis": "...", "winner": "A"} or {"analysis": "...", "winner": "B"}.'
        ),
    ),
    JudgeTemplate(
        name="pairwise_factuality",
        kind="pairwise",
        verdict_format="judgerbench_en",
        family="judgerbench",
        user=(
            "Check both answers for factual errors. List every claim you can verify or refute, and prefer the answer "
            "with fewer or less serious errors; if both are accurate, prefer the more complete one.\n\n"
            + _PAIR
            + '\n\nReply as JSON: {"analysis": "<claims checked>", "winner": "<A or B>"}'
        ),
    ),
    JudgeTemplate(
        name="pairwise_code",
        kind="pairwise",
        verdict_format="arena_hard",
        family="arena_hard",
        user=(
            "Two assistants answered a programming request. Trace each solution by hand on a small input, look for "
            "bugs, unhandled edge cases and inefficiency, and check that it does what the user asked in the "
            "language they asked for.\n\n"
            + _ARENA_USER
            + "\n\nConclude with [[A>>B]], [[A>B]], [[A=B]], [[B>A]] or [[B>>A]]."
        ),
    ),
    JudgeTemplate(
        name="pairwise_math",
        kind="pairwise",
        verdict_format="arena_hard",
        family="arena_hard",
        user=(
            "Solve the problem yourself first and state the final answer. Then check each assistant's final answer "
            "and the soundness of its steps; a correct final answer reached by invalid reasoning is only partly "
            "correct.\n\n"
            + _ARENA_USER
            + "\n\nVerdict, one of: [[A>>B]], [[A>B]], [[A=B]], [[B>A]], [[B>>A]]."
        ),
    ),
    JudgeTemplate(
        name="pairwise_creative",
        kind="pairwise",
        verdict_format="wildbench",
        family="wildbench",
        user=(
            "The user asked for a piece of creative writing. Compare the two responses on how well they meet the "
            "stated form and constraints, originality, vividness and coherence.\n\n"
            + _PAIR
            + "\n" + _WILDBENCH_TAIL
        ),
    ),
    JudgeTemplate(
        name="cj2_cot_cn",
        kind="pairwise",
        verdict_format="cj2_cot",
        family="cj2",
        language="cn",
        user=(
            "下面是一位用户与两个模型的对话。请逐步分析，评价模型A和模型B的回答：\n"
            "1. 用户需求：用户具体想要什么？有哪些限制条件（时间、格式、数量等）？\n"
            "2. 模型A的优点；3. 模型A的不足；4. 模型B的优点；5. 模型B的不足；\n"
            "6. 推理：综合以上分析，说明哪个模型更好地满足了用户需求；\n"
            "7. 选择：在模型A和模型B之间做出选择。\n"
            "请严格按以下JSON格式输出（键名保持英文）：\n"
            '{"User\'s Demand":"...", "Strengths of Model A":"...", "Weaknesses of Model A":"...", '
            '"Strengths of Model B":"...", "Weaknesses of Model B":"...", "Reasoning":"...", "Choice":"Model A 或 Model B"}\n\n'
            "【用户问题】\n{question}\n\n【模型A的回答】\n{response_a}\n\n【模型B的回答】\n{response_b}"
        ),
    ),
    JudgeTemplate(
        name="chat_style_pair",
        kind="pairwise",
        verdict_format="cj2_cot",
        family="cj2",
        user=(
            "The user has a stated preference about the style of the answer: {requirement}\n"
            "Evaluate Model A and Model B with that preference in mind: content still has to be correct, but between "
            "two sound answers the one that matches the requested style wins. Analyse step by step and reply in the "
            'JSON format {"User\'s Demand": ..., "Strengths of Model A": ..., "Weaknesses of Model A": ..., '
            '"Strengths of Model B": ..., "Weaknesses of Model B": ..., "Reasoning": ..., "Choice": "Model A" or "Model B"}.'
            "\n\n[User's Question]\n{question}\n\n[Model A's Response]\n{response_a}\n\n[Model B's Response]\n{response_b}"
        ),
    ),
    JudgeTemplate(
        name="mtbench_single",
        kind="single",
        verdict_format="mtbench_single",
        family="mtbench",
        system=(
            "Act as a fair judge and rate the quality of an AI assistant's answer to the user's question, weighing "
            "helpfulness, relevance, accuracy, depth, creativity and level of detail. Explain your assessment "
            "briefly and objectively, then rate the answer from 1 to 10 in exactly this form: \"Rating: [[5]]\"."
        ),
        user="[Question]\n{question}\n\n[The Start of Assistant's Answer]\n{response}\n[The End of Assistant's Answer]",
    ),
    JudgeTemplate(
        name="single_rating_cn",
        kind="single",
        verdict_format="mtbench_single",
        family="mtbench",
        language="cn",
        user=(
            "请作为公正的评审，评价下面AI助手对用户问题的回答质量，综合考虑有用性、相关性、准确性、深度和细节。"
            "先简要说明理由，再按1到10分打分，格式严格为：\"评分：[[5]]\"。\n\n【问题】\n{question}\n\n【助手的回答】\n{response}"
        ),
    ),
    JudgeTemplate(
        name="knowledge_correctness",
        kind="correctness",
        verdict_format="pointwise_correctness",
        family="cj2",
        user=(
            "Check whether the response below answers the question correctly. Work the problem out yourself, "
            "compare your result with the response's final answer, and explain any discrepancy.\n\n"
            "[Question]\n{question}\n\n[Response]\n{response}\n\n"
            'End with a JSON object: {"rationale": "<your check>", "correctness": "correct"} or '
            '{"rationale": "<your check>", "correctness": "incorrect"}.'
        ),
    ),
    JudgeTemplate(
        name="knowledge_correctness_cn",
        kind="correctness",
        verdict_format="pointwise_correctness",
        family="cj2",
        language="cn",
        user=(
            "请判断下面的回答是否正确地解答了问题。请先自己求解，再与回答的最终答案比较，并说明差异。\n\n"
            "【问题】\n{question}\n\n【回答】\n{response}\n\n"
            '最后输出JSON：{"rationale": "<你的核对过程>", "correctness": "correct"} 或 '
            '{"rationale": "<你的核对过程>", "correctness": "incorrect"}。'
        ),
    ),
]
