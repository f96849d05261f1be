"""A small synthetic query pool: three topics (arithmetic, cooking, python code), English and
Chinese, difficulty tags for the scripted difficulty judge, and a handful of bad rows."""

from __future__ import annotations

import json
from pathlib import Path

LEVELS = ("easy", "medium", "hard")
MATH = [f"Compute the sum of {a} and {b} and explain the arithmetic step by step" for a, b in ((3, 4), (12, 30), (7, 9), (15, 27), (8, 81), (44, 6))]
COOKING = [f"Give me a recipe for {dish} with {extra}, cooking time and oven temperature" for dish, extra in (("tomato soup", "basil"), ("onion soup", "cheese"), ("pumpkin pie", "cinnamon"), ("apple cake", "walnuts"), ("potato gratin", "cream"), ("lentil stew", "cumin"))]
CODE = [f"Write a python function that {task}, with a docstring and python unit tests" for task in ("reverses a list", "counts words in a string", "merges two sorted lists", "parses a CSV line", "computes a factorial", "checks for palindromes")]
CHINESE = {
    "math": "计算 {a} 和 {b} 的和 Compute the sum of {a} and {b} and explain the arithmetic step by step",
    "cooking": "请给我一个 recipe for {a} {b}, cooking time and oven temperature 食谱",
    "code": "请写一个 python function that {a} {b}, with a docstring and python unit tests 代码",
}
CHINESE_ROWS = [("math", 5, 6), ("math", 9, 11), ("cooking", "carrot", "soup"), ("cooking", "bean", "soup"), ("code", "sorts", "numbers"), ("code", "finds", "primes")]

BAD_ROWS = [
    '"just a string"',  # not an object
    '{"prompt": "wrong field"}',  # no "query"
    '{"query": "   "}',  # empty
    '{"query": 42}',  # not a string
    '{"query": "Compute the sum of 1 and 2 [easy]", "lan": "fr"}',  # unknown language
    "{not json",
]


def good_rows() -> list[dict]:
    rows = []
    for topic in (MATH, COOKING, CODE):
        for i, text in enumerate(topic):
            rows.append({"query": f"{text} [{LEVELS[i % 3]}]"})
    for i, (topic, a, b) in enumerate(CHINESE_ROWS):
        rows.append({"query": CHINESE[topic].format(a=a, b=b) + f" [{LEVELS[i % 3]}]", "lan": "cn"})
    return rows


def write_pool(path: Path, with_bad_rows: bool = True) -> Path:
    """The pool as JSONL: 24 good rows, then (optionally) 6 bad ones and a duplicate of row 0."""
    rows = good_rows()
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    if with_bad_rows:
        lines += BAD_ROWS + [json.dumps(rows[0])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
