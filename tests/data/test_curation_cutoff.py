"""Curation edges: a row dated ON the cut-off is recent; the teacher's "incorrect" judgments are kept.

Through the public build (cj2.data.build.build_mixture) with a scripted teacher (the sampling
engines' ``generate`` interface): keep/drop can only be checked against verdicts known in advance.
"""

from __future__ import annotations

import json
import re

from cj2.data.build import build_mixture
from tests.data.helpers import cot_judgment, data_cfg, read_jsonl, write_jsonl
from tests.data.test_curation import ScriptedTeacher, user_text


def test_a_row_dated_on_the_cutoff_is_retemplated_not_rejudged(tmp_path, qwen_tokenizer):
    """Catches: the cut-off compared with > instead of >= (cj2/data/curation.py Curator._recent):
    rows from the cut-off day itself would go to the teacher as if outdated."""
    dates = {0: "2024-09-30", 1: "2024-10-01", 2: "2024-10-01T08:30:00", 3: "2024-10-02"}
    rows = [{"question": f"Q{i}", "response_a": f"first {i}", "response_b": f"second {i}", "label": "A", "date": date,
             "judgment": "Response A is right.\n[[A>B]]"} for i, date in dates.items()]
    path = write_jsonl(tmp_path / "public.jsonl", rows)
    teacher = ScriptedTeacher(lambda messages, k: cot_judgment("A", Reasoning="A is right"))
    comp = {"kind": "pairwise", "role": "rejudge", "path": str(path), "date_field": "date", "options": {"judgment_format": "arena_hard"}}
    cfg = data_cfg(tmp_path / "out", {"public": comp}, validation_fraction=0.0, swap_positions="none", seq_length=2048, date_cutoff="2024-10-01")
    out = build_mixture(cfg, teacher=teacher, show_progress=False)
    asked = sorted(int(re.search(r"\bQ(\d)\b", user_text(p)).group(1)) for p in teacher.prompts)
    assert asked == [0]  # only the row dated before the cut-off is re-judged
    samples = {int(re.search(r"\bQ(\d)\b", s["messages"][-1]["content"]).group(1)): s for s in read_jsonl(out / "train.jsonl")}
    assert sorted(samples) == [0, 1, 2, 3]
    assert samples[0]["meta"]["template"] == "cj2_cot"
    assert all("Response A is right." in samples[i]["target"] for i in (1, 2, 3))  # public judgment re-templated


def test_knowledge_keeps_the_teachers_incorrect_judgments(tmp_path, qwen_tokenizer):
    """Both knowledge outcomes reach the training data: a wrong answer judged "incorrect" is kept
    with the verdict "incorrect" (the label comes from grading against gold, not from the teacher).
    Catches: knowledge rows labelled "correct" whatever the grading says, and a curation that only
    keeps "correct" judgments."""
    rows = [{"question": f"What is {i} + {i}?", "answer": f"#### {2 * i}", "response": f"The answer is {2 * i + (i % 2)}."} for i in range(1, 7)]
    path = write_jsonl(tmp_path / "gsm.jsonl", rows)  # odd i answered wrong

    def teacher_reply(messages, k):
        question = int(re.search(r"What is (\d+) \+", user_text(messages)).group(1))
        # The teacher is right on 1..4 and wrong on 5 and 6 (which must then be dropped).
        says_correct = (question % 2 == 0) != (question >= 5)
        return json.dumps({"rationale": "checked", "correctness": "correct" if says_correct else "incorrect"})

    comp = {"kind": "knowledge", "role": "synthesize", "path": str(path), "fields": {"gold": "answer"}, "options": {"answer_type": "number"}}
    out = build_mixture(data_cfg(tmp_path / "out", {"gsm": comp}, validation_fraction=0.0, seq_length=2048), teacher=ScriptedTeacher(teacher_reply), show_progress=False)
    kept = {int(re.search(r"What is (\d+) \+", s["messages"][-1]["content"]).group(1)): s["verdict"] for s in read_jsonl(out / "train.jsonl")}
    assert kept == {1: "incorrect", 2: "correct", 3: "incorrect", 4: "correct"}
    assert {q["row"] for q in read_jsonl(out / "quarantine.jsonl")} == {5, 6}
