"""Curation edges: a row dated ON the cut-off is recent; the teacher's "incorrect" judgments are kept.

Through the public build (cj2.data.job.build_mixture) with a scripted teacher (the sampling
engines' ``generate`` interface): keep/drop can only be checked against verdicts known in advance.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from cj2.config.validate import problems_of
from cj2.data.sources.dates import parse_date
from tests.data.helpers import cot_judgment, curate_and_build, data_cfg, read_jsonl, write_jsonl
from tests.data.test_curation import ScriptedTeacher, user_text


def test_a_row_dated_on_the_cutoff_is_retemplated_not_rejudged(tmp_path, qwen_tokenizer):
    """Catches: the cut-off compared with > instead of >= (cj2/sample/curation.py Curator._recent):
    rows from the cut-off day itself would go to the teacher as if outdated."""
    dates = {0: "2024-09-30", 1: "2024-10-01", 2: "2024-10-01T08:30:00", 3: "2024-10-02"}
    rows = [{"question": f"Q{i}", "response_a": f"first {i}", "response_b": f"second {i}", "label": "A", "date": date,
             "judgment": "Response A is right.\n[[A>B]]"} for i, date in dates.items()]
    path = write_jsonl(tmp_path / "public.jsonl", rows)
    teacher = ScriptedTeacher(lambda messages, k: cot_judgment("A", Reasoning="A is right"))
    comp = {"kind": "pairwise", "role": "rejudge", "path": str(path), "date_field": "date", "options": {"judgment_format": "arena_hard"}}
    cfg = data_cfg(tmp_path / "out", {"public": comp}, validation_fraction=0.0, swap_positions="none", seq_length=2048, date_cutoff="2024-10-01")
    out = curate_and_build(cfg, teacher)
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
    out = curate_and_build(data_cfg(tmp_path / "out", {"gsm": comp}, validation_fraction=0.0, seq_length=2048), ScriptedTeacher(teacher_reply))
    kept = {int(re.search(r"What is (\d+) \+", s["messages"][-1]["content"]).group(1)): s["verdict"] for s in read_jsonl(out / "train.jsonl")}
    assert kept == {1: "incorrect", 2: "correct", 3: "incorrect", 4: "correct"}
    assert {q["row"] for q in read_jsonl(out / "quarantine.jsonl")} == {5, 6}


@pytest.mark.parametrize("value, expected", [
    ("2024-10-01", date(2024, 10, 1)), ("2024-10-01T08:30:00Z", date(2024, 10, 1)), ("2024-10-01 08:30:00+05:00", date(2024, 10, 1)),
    ("2024/01/05", date(2024, 1, 5)), ("2024.01.05 10:00", date(2024, 1, 5)), ("2024-1-5", date(2024, 1, 5)),
    ("25/12/2024", date(2024, 12, 25)), ("12/25/2024", date(2024, 12, 25)), ("05/05/2024", date(2024, 5, 5)),
    ("Jan 5, 2024", date(2024, 1, 5)), ("January 5th, 2024", date(2024, 1, 5)), ("5 Jan 2024", date(2024, 1, 5)),
    ("Sep. 30, 2024", date(2024, 9, 30)), ("Fri, 05 Jan 2024 10:00:00 +0000", date(2024, 1, 5)),
    ("1704412800", date(2024, 1, 5)), ("1704412800000", date(2024, 1, 5)),  # 2024-01-05T00:00Z in seconds, milliseconds
    ("01/05/2024", None),  # January 5 or 1 May: not guessed
    ("2024/02/30", None), ("Jan 2024", None), ("2024", None), ("yesterday", None), ("", None),
])
def test_parse_date(value, expected):
    """Catches: a day/month order guessed for 01/05/2024, an impossible day (2024/02/30) or a month
    without a day accepted, a millisecond timestamp read as seconds."""
    assert parse_date(value) == expected


def test_dates_in_other_forms_are_compared_as_dates_and_unreadable_ones_quarantined(tmp_path, qwen_tokenizer):
    """Catches: the cut-off compared as strings (Curator._recent): "2024/01/05" and "Jan 5, 2024"
    sorted after "2024-10-01" and skipped the teacher; a row whose date does not parse filed as
    recent (or re-judged) instead of rejected as bad_date naming its value."""
    dates = {0: "2024/01/05", 1: "Jan 5, 2024", 2: "1704412800", 3: "2024/11/05", 4: "Nov 5, 2024", 5: "not a date", 6: "01/05/2024"}
    rows = [{"question": f"Q{i}", "response_a": f"first {i}", "response_b": f"second {i}", "label": "A", "when": when,
             "judgment": "Response A is right.\n[[A>B]]"} for i, when in dates.items()]
    path = write_jsonl(tmp_path / "public.jsonl", rows)
    teacher = ScriptedTeacher(lambda messages, k: cot_judgment("A", Reasoning="A is right"))
    comp = {"kind": "pairwise", "role": "rejudge", "path": str(path), "date_field": "when", "options": {"judgment_format": "arena_hard"},
            "max_reject_fraction": 0.5}
    cfg = data_cfg(tmp_path / "out", {"public": comp}, validation_fraction=0.0, swap_positions="none", seq_length=2048, date_cutoff="2024-10-01")
    out = curate_and_build(cfg, teacher)
    asked = sorted(int(re.search(r"\bQ(\d)\b", user_text(p)).group(1)) for p in teacher.prompts)
    assert asked == [0, 1, 2]  # every form of 2024-01-05 is before the cut-off
    kept = {int(re.search(r"\bQ(\d)\b", s["messages"][-1]["content"]).group(1)): s["meta"]["template"] for s in read_jsonl(out / "train.jsonl")}
    assert sorted(kept) == [0, 1, 2, 3, 4] and {kept[3], kept[4]}.isdisjoint({"cj2_cot"})
    quarantined = read_jsonl(out / "quarantine.jsonl")
    assert [(q["row"], q["reason"]) for q in quarantined] == [(6, "bad_date"), (7, "bad_date")]
    assert "'not a date'" in quarantined[0]["detail"] and "'when'" in quarantined[0]["detail"] and "'01/05/2024'" in quarantined[1]["detail"]
    stats = json.loads((out / "stats.json").read_text())["components"]["public"]
    assert stats["rows_in"] == 7 == stats["kept"] + sum(stats["rejected"].values())


def test_a_cutoff_that_is_not_a_day_is_a_config_error(tmp_path):
    """Catches: data.date_cutoff checked by its shape only (cj2/config/validate.py check_data, and
    Curator comparing against it as text): 2024-02-30 passed validation and split rows on a day
    that does not exist."""
    path = write_jsonl(tmp_path / "public.jsonl", [{"question": "Q", "response_a": "a", "response_b": "b", "label": "A", "date": "2024-01-05"}])
    comp = {"kind": "pairwise", "role": "rejudge", "path": str(path), "date_field": "date"}
    cfg = data_cfg(tmp_path / "out", {"public": comp}, date_cutoff="2024-02-30")
    assert [p.key for p in problems_of(cfg) if p.key.startswith("data.")] == ["data.date_cutoff"]
    with pytest.raises(ValueError, match=r"data\.date_cutoff: '2024-02-30' is not a YYYY-MM-DD date"):
        curate_and_build(cfg, ScriptedTeacher(lambda messages, k: cot_judgment("A")))
