"""Which teacher judgments are complete CJ2 CoT targets, on hand-written outputs in the shapes a 72B
teacher writes (tests/data/fixtures/teacher_outputs.jsonl: numbered lists with raw line breaks,
unescaped inner quotes, Chinese, code fences, and genuinely incomplete judgments)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cj2.sample.acceptance import judge_candidates

OUTPUTS = [json.loads(line) for line in (Path(__file__).parent / "fixtures" / "teacher_outputs.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("output", OUTPUTS, ids=[o["id"] for o in OUTPUTS])
def test_each_teacher_output_is_accepted_or_refused_for_its_reason(output):
    """Before #27 strict JSON refused t09-t19 as cot_not_one_object (16 of 30 refused so, 8 accepted;
    now 3 and 19). Catches: no fallback for the seven keys in order (unescaped inner quotes, a
    full-width colon: t14-t19), JSON read strictly (the fallback then reads t09-t13, but a key
    missing beside raw line breaks is misreported as not one object, t29), a fallback that takes a
    key found anywhere (t28: a verdict-only draft before the object) or a value without its closing
    brace (t27)."""
    [candidate] = judge_candidates([output["text"]], output["label"], "cj2_cot", accept_cap=0)
    assert candidate["rejected"] == output["expected"], output["pattern"]

