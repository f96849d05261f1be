"""A hand-built JudgerBenchV2 data dir: ten scenario files in the documented record format.

Each scenario has two compared models (x, y) and four queries each; the ground truth table
gives x 3 wins and y 1. The judge outputs are written from the judged SIDE of each record, turned
into the letter A/B through an independent copy of the published position rule, so a scorer
with wrong positions gets different numbers.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SCENARIOS = ["Knowledge", "Longtext", "Reason_and_analysis", "safe", "Hallucination", "chatQA", "IF", "LanTask", "Creation", "Code_and_AI"]
CATEGORY = {"Reason_and_analysis": "Reason & Analysis", "Code_and_AI": "Code & AI"}
BASE = "gpt-4o-mini-2024-07-18"
MODELS = ["x", "y"]
TRUTH = {"x": 3, "y": 1}
M, B = "model", "base"
# Per record (index 0..7: x q0..q3, y q0..q3): the true winner side and the judged side.
GOLD = [M, M, M, B, M, B, B, B]
JUDGED = [M, M, B, B, M, M, B, None]
CHINESE = "Knowledge"  # one scenario asks in Chinese; its verdicts use "胜者"
GARBAGE = "Code_and_AI"  # every output unparsable
MISSING_LAST = "Longtext"  # record 7 has no prediction line at all


def published_positions():
    rng = random.Random(0)  # same generator as random.seed(0) on the global one
    block = [0] * 50 + [1] * 50
    rng.shuffle(block)
    return block * 10


def records(scenario):
    lan = "cn" if scenario == CHINESE else "en"
    out = []
    for i, gold in enumerate(GOLD):
        model = MODELS[i // 4]
        out.append(
            {
                "prompt": f"question {i % 4} of {scenario}",
                "gold": {"category": CATEGORY.get(scenario, scenario), "lan": lan, "r1_gt": model if gold == M else BASE},
                "base_model_response": {"model_name": BASE, "response": f"base answer {i}"},
                "models_response": {"model_name": model, "response": f"{model} answer {i}"},
            }
        )
    return out


def letter_for(side, index):
    base_is_a = published_positions()[index] == 0
    picked_base = side == B
    return "A" if picked_base == base_is_a else "B"


def prediction_text(scenario, index):
    side = JUDGED[index]
    if scenario == GARBAGE or side is None:
        return "I find both answers fine and cannot decide."
    letter = letter_for(side, index)
    if scenario == CHINESE:
        return f'{{"分析": "两者都不错", "胜者": "{letter}"}}'
    # an early mention of the other letter: the LAST "winner" decides
    other = "B" if letter == "A" else "A"
    return f'I first thought "winner": "{other}" but on reflection {{"analysis": "closer look", "winner": "{letter}"}}'


def build(root: Path):
    data_dir = root / "judgerbenchv2"
    data_dir.mkdir(parents=True)
    for scenario in SCENARIOS:
        (data_dir / f"{scenario}.json").write_text(json.dumps(records(scenario), ensure_ascii=False))
    truth = root / "ground_truth.json"
    truth.write_text(json.dumps({s: TRUTH for s in SCENARIOS}))
    predictions = root / "predictions.jsonl"
    lines = []
    for scenario in SCENARIOS:
        for index in range(len(GOLD)):
            if scenario == MISSING_LAST and index == 7:
                continue
            lines.append(json.dumps({"scenario": scenario, "index": index, "prediction": prediction_text(scenario, index)}, ensure_ascii=False))
    predictions.write_text("\n".join(lines) + "\n")
    return data_dir, predictions, truth


# Hand-computed scores (see test_judgerbenchv2_rescore.py for the derivation).
REGULAR_ACC = 500 / 7
REGULAR_DIFF = 100.0
REGULAR_FINAL = 250 / 7
GARBAGE_DIFF = 200 / 3
GARBAGE_FINAL = 50 / 3
