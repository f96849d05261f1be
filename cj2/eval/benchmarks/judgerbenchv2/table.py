"""JudgerBenchV2's fixed facts: scenarios, base model, and the published ground-truth win counts.

``GROUND_TRUTH_WINS[scenario][model]`` is s1 of the metric: how many of the model's 100 pairs
against the base model the benchmark's ground truth (the Mix-of-Judgers consensus) awards to
the model. Source: OpenCompass, ``opencompass/openicl/icl_evaluator/icl_judge_evaluator.py``,
``R1_Score_MAP`` (open-compass/opencompass @ a5acc4b, 2025). A different table can be given as
a JSON file with ``eval.ground_truth=FILE`` (same shape: {scenario: {model: wins}}).
"""

from __future__ import annotations

BASE_MODEL = "gpt-4o-mini-2024-07-18"

SCENARIOS = ("Knowledge", "Longtext", "Reason_and_analysis", "safe", "Hallucination", "chatQA", "IF", "LanTask", "Creation", "Code_and_AI")

# ``gold.category`` spells two scenarios differently from their file names.
CATEGORY_TO_SCENARIO = {"Reason & Analysis": "Reason_and_analysis", "Code & AI": "Code_and_AI"}

_MODELS = (
    "Qwen2.5-32B-Instruct",
    "Llama-3.1-70B-Instruct",
    "gemma-2-27b-it-turbomind",
    "DeepSeek-R1-Distill-Llama-70B",
    "deepseek-v2_5-1210-turbomind",
    "Llama-3.3-70B-Instruct",
    "nvidia-Llama-3.1-Nemotron-70B-Instruct-HF",
    "DeepSeek-R1-Distill-Qwen-32B",
    "mixtral-large-instruct-2407-lmdeploy",
    "Qwen2.5-72B-Instruct",
)

# One row per scenario, the wins in the order of _MODELS.
_WINS = {
    "Knowledge": (55, 28, 44, 58, 79, 46, 76, 56, 72, 80),
    "Longtext": (45, 26, 65, 58, 73, 37, 54, 52, 63, 77),
    "Reason_and_analysis": (60, 23, 46, 63, 85, 45, 68, 66, 56, 78),
    "safe": (72, 55, 72, 55, 72, 64, 76, 55, 69, 83),
    "Hallucination": (78, 50, 65, 61, 66, 48, 75, 60, 76, 74),
    "chatQA": (39, 25, 56, 53, 70, 34, 69, 48, 55, 68),
    "IF": (34, 35, 38, 50, 63, 37, 62, 41, 47, 48),
    "LanTask": (62, 29, 53, 60, 75, 46, 69, 71, 48, 74),
    "Creation": (40, 34, 55, 66, 73, 36, 73, 64, 43, 67),
    "Code_and_AI": (44, 32, 34, 56, 64, 43, 62, 43, 51, 60),
}

GROUND_TRUTH_WINS: dict[str, dict[str, int]] = {scenario: dict(zip(_MODELS, wins, strict=True)) for scenario, wins in _WINS.items()}
