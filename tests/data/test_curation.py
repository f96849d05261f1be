"""Teacher curation and synthesis.

Most tests use a scripted teacher (same ``generate`` interface as cj2.sample engines) because the
keep/drop logic can only be checked against verdicts known in advance; the real ``hf`` engine
with a tiny random model is exercised once for the plumbing (its outputs are noise, so every
row must be rejected and counted).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from cj2.data.curation.answers import extract_letter, extract_number, is_correct
from cj2.sample.curation import STYLE_AXES
from tests.data.helpers import ScriptedTeacher, cot_judgment, curate_and_build, data_cfg, read_jsonl, write_jsonl


def user_text(messages):
    return messages[-1]["content"]


@pytest.mark.parametrize("text, expected", [
    ("She makes $18.\n#### 18", "18"), ("So the answer is 1,234 apples; 5 left", "1234"), ("x = 3 then 4.50", "4.5"), ("none", None)])
def test_extract_number(text, expected):
    assert extract_number(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("The answer is (B).", "B"), ("Answer: C", "C"), ("so I pick D", "D"), ("A or B? The answer is **B**", "B"),
    ("I will answer a question", None), ("no idea", None)])
def test_extract_letter(text, expected):
    assert extract_letter(text) == expected


def test_is_correct_against_gold():
    assert is_correct("6 x 3 = 18, so the answer is 18.", "#### 18", "number")
    assert not is_correct("I get 17.", "#### 18", "number")
    assert is_correct("The answer is (C)", "C", "letter") and not is_correct("no letter", "C", "letter")


def test_knowledge_kept_only_where_teacher_agrees_with_gold(tmp_path, qwen_tokenizer):
    rows = [{"question": f"What is {i} + {i}?", "answer": f"{i}+{i}={2 * i}\n#### {2 * i}",
             "response": f"The answer is {2 * i + (i % 3 == 0)}."} for i in range(1, 13)]  # i = 3, 6, 9, 12 answered wrong
    path = write_jsonl(tmp_path / "gsm.jsonl", rows)
    teacher = ScriptedTeacher(lambda messages, k: 'Checked.\n{"rationale": "ok", "correctness": "correct"}')
    comp = {"kind": "knowledge", "role": "synthesize", "path": str(path), "fields": {"gold": "answer"},
            "options": {"answer_type": "number"}}
    out = curate_and_build(data_cfg(tmp_path / "out", {"gsm": comp}, validation_fraction=0.0, seq_length=2048), teacher)
    samples = read_jsonl(out / "train.jsonl")
    kept = sorted(int(s["messages"][-1]["content"].split("What is ")[1].split(" +")[0]) for s in samples)
    assert kept == [1, 2, 4, 5, 7, 8, 10, 11]
    assert all(s["verdict"] == "correct" and s["verdict_format"] == "pointwise_correctness" for s in samples)
    assert {q["row"] for q in read_jsonl(out / "quarantine.jsonl")} == {3, 6, 9, 12}
    assert len(teacher.prompts) == 12 and "[Response]\nThe answer is 2." in user_text(teacher.prompts[0])


def test_knowledge_answers_written_by_the_engine_when_missing(tmp_path, qwen_tokenizer):
    path = write_jsonl(tmp_path / "mc.jsonl", [{"question": f"Q{i}\n(A) x\n(B) y", "answer": "AB"[i % 2]} for i in range(6)])

    def reply(messages, k):
        if "[Response]" not in user_text(messages):  # asked to answer: always picks A
            return "The answer is (A)."
        verdict = "correct" if "(A)." in user_text(messages).split("[Response]")[1] else "incorrect"
        return json.dumps({"rationale": "r", "correctness": verdict})

    comp = {"kind": "knowledge", "role": "synthesize", "path": str(path), "options": {"answer_type": "letter"}, "fields": {"gold": "answer"}}
    out = curate_and_build(data_cfg(tmp_path / "out", {"mc": comp}, validation_fraction=0.0, seq_length=2048), ScriptedTeacher(reply))
    samples = read_jsonl(out / "train.jsonl")
    # Gold A for even i: the engine's "(A)" is correct; gold B for odd i: incorrect. The teacher
    # always says "correct" for "(A)", so it agrees only where gold is A.
    assert sorted(s["messages"][-1]["content"].split("[Question]\n")[1][:2] for s in samples) == ["Q0", "Q2", "Q4"]


def test_rejudge_splits_at_the_date_cutoff(tmp_path, qwen_tokenizer):
    rows = []
    for i in range(8):
        rows.append({"question": f"Q{i}", "response_a": f"first {i}", "response_b": f"second {i}", "label": "AB"[i % 2],
                     "date": "2024-03-01" if i < 4 else "2024-11-15",
                     "judgment": f"Response {'AB'[i % 2]} is better because it is right.\n[[{'A>B' if i % 2 == 0 else 'B>A'}]]"})
    path = write_jsonl(tmp_path / "public.jsonl", rows)
    teacher = ScriptedTeacher(lambda messages, k: cot_judgment("A", Reasoning="A is right"))
    comp = {"kind": "pairwise", "role": "rejudge", "path": str(path), "date_field": "date", "options": {"judgment_format": "arena_hard"}}
    out = curate_and_build(data_cfg(tmp_path / "out", {"public": comp}, validation_fraction=0.0, swap_positions="none", seq_length=2048), teacher)
    by_question = {int(re.search(r"\bQ(\d)\b", s["messages"][-1]["content"]).group(1)): s for s in read_jsonl(out / "train.jsonl")}
    assert len(teacher.prompts) == 4  # only the outdated rows reach the teacher
    # Outdated rows: the teacher always says A, so only the A-labelled ones (0, 2) survive.
    assert by_question[0]["meta"]["template"] == by_question[2]["meta"]["template"] == "cj2_cot"
    assert 1 not in by_question and 3 not in by_question
    # Recent rows: re-templated, the public reasoning kept, the verdict rewritten for the drawn template.
    for i in (4, 5, 6, 7):
        s = by_question[i]
        assert s["meta"]["template"] != "cj2_cot" and "is better because it is right" in s["target"]
        assert s["verdict"] == "AB"[i % 2]
    assert [(q["row"], q["reason"]) for q in read_jsonl(out / "quarantine.jsonl")] == [(2, "teacher_disagrees"), (4, "teacher_disagrees")]


def analysis(topic: str) -> dict[str, str]:
    """CoT values that say something of their own about ``topic`` (distinct judgments are no near-duplicates)."""
    return {"User's Demand": f"An answer about {topic}.", "Strengths of Model A": f"A touches {topic} briefly.", "Weaknesses of Model A": f"A gets {topic} wrong.",
            "Strengths of Model B": f"B explains {topic} with an example.", "Weaknesses of Model B": f"B could say more on {topic}.", "Reasoning": f"B handles {topic} better."}


RFT_CANDIDATES = ["no verdict at all", cot_judgment("A"), '{"Reasoning": "second is right", "Choice": "Model B"}', '{"Choice": "Model B"}',
                  cot_judgment("B", **analysis("photosynthesis in leaves")), cot_judgment("B", **analysis("the speed of light in glass")),
                  cot_judgment("B", **analysis("tax brackets of 2019"))]


@pytest.mark.parametrize("accept_cap, kept", [(1, [4]), (2, [4, 5]), (0, [4, 5, 6])])
def test_rft_keeps_the_first_m_complete_matching_candidates(tmp_path, qwen_tokenizer, accept_cap, kept):
    """Catches: in-build rft keeping the first match only whatever sample.accept_cap (M), and accepting a
    judgment with the right Choice but without the CoT analysis (candidates 2 and 3)."""
    path = write_jsonl(tmp_path / "reward.jsonl", [{"question": "Q", "response_a": "a", "response_b": "b", "label": "B"}])
    comp = {"kind": "pairwise", "role": "rft", "path": str(path), "options": {"teacher_n": len(RFT_CANDIDATES)}}
    cfg = data_cfg(tmp_path / "out", {"r": comp}, validation_fraction=0.0, swap_positions="none", seq_length=2048)
    cfg.sample.accept_cap = accept_cap
    out = curate_and_build(cfg, ScriptedTeacher(lambda m, k: RFT_CANDIDATES[k]))
    assert sorted(s["target"] for s in read_jsonl(out / "train.jsonl")) == sorted(RFT_CANDIDATES[k] for k in kept)


def test_a_row_whose_agreeing_judgments_are_all_incomplete_is_counted_by_reason(tmp_path, qwen_tokenizer):
    """Catches: incomplete agreeing judgments counted as teacher_disagrees (or kept)."""
    path = write_jsonl(tmp_path / "reward.jsonl", [{"question": f"Q{i}", "response_a": "a", "response_b": "b", "label": "B"} for i in range(2)])
    comp = {"kind": "pairwise", "role": "rft", "path": str(path), "options": {"teacher_n": 2}}
    replies = ['{"Choice": "Model B"}', cot_judgment("A")]
    out = curate_and_build(data_cfg(tmp_path / "out", {"r": comp}, validation_fraction=0.0, swap_positions="none", seq_length=2048), ScriptedTeacher(lambda m, k: replies[k]))
    stats = json.loads((out / "stats.json").read_text())["components"]["r"]
    assert stats["kept"] == 0 and stats["rejected"] == {"cot_missing_keys": 2}


def test_chat_style_pairs_state_the_requirement(tmp_path, qwen_tokenizer):
    path = write_jsonl(tmp_path / "prompts.jsonl", [{"question": f"Tell me about topic {i}."} for i in range(10)])

    def reply(messages, k):
        if messages[0]["role"] == "system":  # writing a response under a style instruction
            return f"[{messages[0]['content']}] about {user_text(messages)}"
        prompt = user_text(messages)
        requirement = prompt.split("style of the answer: ")[1].split("\n")[0]
        axis = next(a for a in STYLE_AXES if requirement in a[2:])
        wanted = axis[0] if requirement == axis[2] else axis[1]
        side = "A" if f"[Model A's Response]\n[{wanted}]" in prompt else "B"
        return cot_judgment(side, Reasoning="style")

    comp = {"kind": "chat_style", "role": "synthesize", "path": str(path)}
    out = curate_and_build(data_cfg(tmp_path / "out", {"style": comp}, validation_fraction=0.0, seq_length=2048), ScriptedTeacher(reply))
    samples = read_jsonl(out / "train.jsonl")
    assert len(samples) == 10  # this teacher always follows the requirement, so every pair is kept
    assert {s["verdict"] for s in samples} == {"A", "B"}
    for s in samples:
        assert s["meta"]["template"] == "chat_style_pair" and "The user has a stated preference" in s["messages"][-1]["content"]


def test_chat_style_pairs_are_exactly_position_balanced(tmp_path, qwen_tokenizer):
    """Which style the user asks for is a coin; where the wanted response stands is the mixture's
    position balance alone (data.swap_positions: one of each pair of rows swapped). Catches: the
    requirement's coin deciding the position too (two independent coins: the A share drifts with
    the draw)."""
    path = write_jsonl(tmp_path / "prompts.jsonl", [{"question": f"Tell me about topic {i}."} for i in range(200)])

    def reply(messages, k):
        if messages[0]["role"] == "system":
            return f"[{messages[0]['content']}] about {user_text(messages)}"
        prompt = user_text(messages)
        requirement = prompt.split("style of the answer: ")[1].split("\n")[0]
        axis = next(a for a in STYLE_AXES if requirement in a[2:])
        wanted = axis[0] if requirement == axis[2] else axis[1]
        return cot_judgment("A" if f"[Model A's Response]\n[{wanted}]" in prompt else "B")

    comp = {"kind": "chat_style", "role": "synthesize", "path": str(path)}
    out = curate_and_build(data_cfg(tmp_path / "out", {"style": comp}, validation_fraction=0.0, seq_length=2048), ScriptedTeacher(reply))
    stats = json.loads((out / "stats.json").read_text())["components"]["style"]
    assert stats["kept"] == 200 and stats["verdicts"] == {"A": 100, "B": 100}
    requirements = [s["messages"][-1]["content"].split("style of the answer: ")[1].split("\n")[0] for s in read_jsonl(out / "train.jsonl")]
    assert len({r for r in requirements if any(r == a[2] for a in STYLE_AXES)}) > 0 and len({r for r in requirements if any(r == a[3] for a in STYLE_AXES)}) > 0


@pytest.mark.slow
def test_real_hf_engine_plumbing(tmp_path, qwen_tokenizer):
    """A real engine (random tiny Qwen2): outputs are noise, so every row is rejected and counted."""
    from cj2.sample.engines import build_engine
    from tests.sample.tiny_models import build_tiny_qwen2

    engine = build_engine("hf", model=str(build_tiny_qwen2(tmp_path / "tiny")), device="cpu")
    path = write_jsonl(tmp_path / "reward.jsonl", [{"question": f"Q{i}", "response_a": "a", "response_b": "b", "label": "A"} for i in range(3)])
    comp = {"kind": "pairwise", "role": "rft", "path": str(path), "options": {"teacher_n": 2}, "max_reject_fraction": 1.0}
    cfg = data_cfg(tmp_path / "out", {"r": comp}, validation_fraction=0.0, seq_length=2048)
    cfg.sample.max_tokens = 8
    out = curate_and_build(cfg, engine)
    stats = json.loads((out / "stats.json").read_text())["components"]["r"]
    assert stats["rows_in"] == 3 and stats["kept"] + stats["rejected"].get("teacher_disagrees", 0) == 3
    assert engine.usage.completion_tokens > 0


def test_knowledge_letters_are_read_among_the_questions_options(tmp_path, qwen_tokenizer):
    """Catches: curation grading letter answers without the question's options (Curator._answer_knowledge
    not passing option_letters): "Answer: I believe (B)." read as "I", graded incorrect, and the
    teacher's right "correct" dropped as teacher_disagrees."""
    question = "Q{}: which number is prime?\n(A) 4\n(B) 5\n(C) 6\n(D) 8"
    rows = [{"question": question.format(i), "answer": gold, "response": "Answer: I believe (B)."} for i, gold in enumerate("BA")]
    path = write_jsonl(tmp_path / "mc.jsonl", rows)

    def reply(messages, k):  # a teacher that is right: the response picks B, gold of Q0 is B and of Q1 is A
        return json.dumps({"rationale": "checked", "correctness": "correct" if "Q0:" in user_text(messages) else "incorrect"})

    comp = {"kind": "knowledge", "role": "synthesize", "path": str(path), "fields": {"gold": "answer"}, "options": {"answer_type": "letter"}}
    out = curate_and_build(data_cfg(tmp_path / "out", {"mc": comp}, validation_fraction=0.0, seq_length=2048), ScriptedTeacher(reply))
    kept = {re.search(r"\bQ(\d):", s["messages"][-1]["content"]).group(1): s["verdict"] for s in read_jsonl(out / "train.jsonl")}
    assert kept == {"0": "correct", "1": "incorrect"}


# The engine's three answers to "What is i + i?" (gold 2i): right (r) or wrong (w, two distinct wrong values).
ANSWERS = {1: "rrr", 2: "rrr", 3: "wrw", 4: "rwr"}


def _knowledge_answer(messages, k):
    question = int(re.search(r"What is (\d+) \+", user_text(messages)).group(1))
    if "[Response]" not in user_text(messages):  # asked to answer
        return f"The answer is {2 * question if ANSWERS[question][k] == 'r' else 2 * question + 1 + 2 * k}."
    given = int(re.search(r"\[Response\]\nThe answer is (\d+)\.", user_text(messages)).group(1))
    return json.dumps({"rationale": "checked", "correctness": "correct" if given == 2 * question else "incorrect"})


@pytest.mark.parametrize("fraction, verdicts, third", [
    # 0.5: Q1 correct (the share 0/0 wants one); Q2 wants incorrect, has none, correct; Q3 and Q4 incorrect.
    (0.5, {1: "correct", 2: "correct", 3: "incorrect", 4: "incorrect"}, {"The answer is 7.", "The answer is 11."}),
    (1.0, {1: "correct", 2: "correct", 3: "correct", 4: "correct"}, {"The answer is 6."}),
])
def test_knowledge_picks_among_several_answers_toward_the_correct_fraction(tmp_path, qwen_tokenizer, fraction, verdicts, third):
    """Three engine answers per question (options.responses_per_question); one is picked per question
    so that the share of correct ones approaches options.correct_fraction, over the whole component
    (chunks of two rows here); stats.json counts both verdicts.
    Catches: one answer per question whatever responses_per_question (the first: 3 correct, 1 incorrect
    at 0.5), the target ignored (Q3's only right answer at 1.0), the running share restarted per chunk
    (Q3 picked correct at 0.5)."""
    path = write_jsonl(tmp_path / "gsm.jsonl", [{"question": f"What is {i} + {i}?", "answer": f"#### {2 * i}"} for i in ANSWERS])
    comp = {"kind": "knowledge", "role": "synthesize", "path": str(path), "fields": {"gold": "answer"},
            "options": {"answer_type": "number", "responses_per_question": 3, "correct_fraction": fraction}}
    cfg = data_cfg(tmp_path / "out", {"gsm": comp}, validation_fraction=0.0, seq_length=2048, chunk_size=2)
    out = curate_and_build(cfg, ScriptedTeacher(_knowledge_answer))
    samples = {int(re.search(r"What is (\d+) \+", s["messages"][-1]["content"]).group(1)): s for s in read_jsonl(out / "train.jsonl")}
    assert {i: s["verdict"] for i, s in samples.items()} == verdicts
    assert re.search(r"\[Response\]\n(.*)\n", samples[3]["messages"][-1]["content"]).group(1) in third
    stats = json.loads((out / "stats.json").read_text())["components"]["gsm"]
    assert stats["verdicts"] == {v: list(verdicts.values()).count(v) for v in set(verdicts.values())}


def test_knowledge_options_out_of_range_are_refused(tmp_path):
    """Catches: options.correct_fraction taken as given (a share of 1.5 steers every pick to "correct" silently)."""
    path = write_jsonl(tmp_path / "gsm.jsonl", [{"question": "What is 1 + 1?", "answer": "#### 2"}])
    comp = {"kind": "knowledge", "role": "synthesize", "path": str(path), "fields": {"gold": "answer"}, "options": {"answer_type": "number", "correct_fraction": 1.5}}
    with pytest.raises(ValueError, match=r"data\.components\.gsm\.options\.correct_fraction: must be in \[0, 1\]"):
        curate_and_build(data_cfg(tmp_path / "out", {"gsm": comp}), ScriptedTeacher(_knowledge_answer))


def test_labels_no_judgment_can_state_never_reach_the_teacher(tmp_path, qwen_tokenizer):
    """Ties go to neither template's teacher: the CJ2 CoT verdict says Model A or Model B, so a tie row
    judged 8 times comes back as teacher_disagrees after 8 paid candidates (the review measured 4 rows,
    2 ties: 32 candidates). Catches: the label checked only at build time (render.check_label), after
    the teacher has paid; the rejection counted as teacher_disagrees."""
    rows = [{"question": f"Q{i}", "response_a": f"GOOD {i}" if label == "A" else f"a{i}", "response_b": f"GOOD {i}" if label == "B" else f"b{i}",
             "label": label} for i, label in enumerate(["A", "tie", "B", "tie"])]
    comp = {"kind": "pairwise", "role": "rft", "path": str(write_jsonl(tmp_path / "reward.jsonl", rows)), "options": {"teacher_n": 8}}
    teacher = ScriptedTeacher(lambda m, k: cot_judgment("A" if "[Model A's Response]\nGOOD" in user_text(m) else "B"))
    out = curate_and_build(data_cfg(tmp_path / "out", {"r": comp}, validation_fraction=0.0, seq_length=2048), teacher)
    assert sorted(user_text(p).split("[User's Question]\n")[1][:2] for p in teacher.prompts) == ["Q0", "Q2"]  # 16 candidates, not 32
    stats = json.loads((out / "stats.json").read_text())["components"]["r"]
    assert (stats["kept"], stats["rejected"]) == (2, {"label_not_in_template": 2})


def test_knowledge_answers_come_from_the_policy_models_steered_to_the_correct_share(tmp_path, qwen_tokenizer):
    """curate.policy_models: answer k of a question by policy k mod 2 (a right and a wrong one here), the
    teacher only judges correctness; picks steer to correct_fraction 0.5. Catches: the teacher still
    writing the answers it judges (its labels then lean "correct"), one policy answering everything."""
    from cj2.sample.curate import curate
    from tests.data.teachers import reply

    path = write_jsonl(tmp_path / "gsm.jsonl", [{"question": f"What is {i} + {i}?", "answer": f"#### {2 * i}"} for i in range(1, 9)])
    comp = {"kind": "knowledge", "role": "synthesize", "path": str(path), "fields": {"gold": "answer"},
            "options": {"answer_type": "number", "responses_per_question": 4, "correct_fraction": 0.5}}
    cfg = data_cfg(tmp_path / "out", {"gsm": comp}, validation_fraction=0.0, seq_length=2048)
    cfg.curate.policy_models = [{"name": name, "engine": "tests.data.teachers:PolicyModel", "model": name} for name in ("right", "wrong")]
    teacher = ScriptedTeacher(reply)  # judges correctness by arithmetic (tests.data.teachers.reply)
    summary = curate(cfg, teacher, show_progress=False)
    assert all("[Response]" in user_text(p) for p in teacher.prompts) and len(teacher.prompts) == 8  # judging only
    picked = [re.search(r"\[Response\]\n\[(\w+) ", user_text(p)).group(1) for p in teacher.prompts]
    assert Counter(picked) == {"right": 4, "wrong": 4}
    assert summary["components"]["gsm"]["kept"] == 8
    # the policies' work is counted apart from the teacher's: 8 questions x 2 policies, 2 answers each
    work = summary["components"]["gsm"]
    assert (work["teacher"]["prompts"], work["teacher"]["candidates"], work["policies"]["prompts"], work["policies"]["candidates"]) == (8, 8, 16, 32)
