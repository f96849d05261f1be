"""The miniature's pairs: what every judge is trained and scored on."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cj2.data.curation.verifiable_pairs import arithmetic_questions, split_questions
from cj2.data.packed.tokenize import tokenize_sample
from cj2.miniature.task import answer_key, heldout_pairs, samples, training_pairs
from cj2.sample.engines.rule_teacher import RuleTeacher
from cj2.verdicts import parse


@pytest.fixture(scope="module")
def split():
    return split_questions(arithmetic_questions(260, seed=0), 60, 200)


def test_held_out_pairs_come_in_both_orders_with_best_of_4_groups(split):
    """Every held-out question's main pair appears in both orders, gold following the correct
    response; the first ``bon`` questions add two more pairs with other wrong numbers, and their
    five judgments share one group. Mutants killed: the swapped order keeping the gold of the
    original; a best-of-4 pair reusing the main pair's wrong number; groups on every question."""
    heldout, _ = split
    pairs = heldout_pairs(heldout, bon_questions=10)
    by_question = Counter(p.question_id for p in pairs)
    assert sorted(set(by_question.values())) == [2, 4] and sum(v == 4 for v in by_question.values()) == 10
    for q in heldout[:12]:
        mine = [p for p in pairs if p.question_id == q.id]
        main = [p for p in mine if p.item.endswith(":1")]
        assert [(p.gold, p.swapped) for p in main] == [("A", False), ("B", True)]
        assert main[0].response_a == main[1].response_b and main[0].response_b == main[1].response_a
        for p in mine:
            right = p.response_a if p.gold == "A" else p.response_b
            assert right.endswith(f"The answer is {q.gold}.")
        stated = {(p.response_b if p.gold == "A" else p.response_a).rsplit(" ", 1)[1] for p in mine}
        assert len(stated) == len({p.item for p in mine})  # every pair its own wrong number
        assert {p.group for p in mine} == ({q.id} if q in heldout[:10] else {None})


def test_seeds_draw_different_questions_the_same_for_every_loss_and_never_held_out(split):
    """Training pairs: a seed's draw is fixed (the losses of a seed train on the same pairs), two
    seeds draw different questions, half the correct responses sit at A, and no held-out question
    trains. Mutants killed: the seed ignored (every seed the same data); unbalanced positions."""
    heldout, pool = split
    one, again, two = training_pairs(pool, 40, 1), training_pairs(pool, 40, 1), training_pairs(pool, 40, 2)
    assert one == again
    assert {p.question for p in one} != {p.question for p in two}
    assert Counter(p.gold for p in one) == Counter({"A": 20, "B": 20})
    assert not {p.question for p in one} & {q.question for q in heldout}
    with pytest.raises(ValueError, match="training pool holds 200"):
        training_pairs(pool, 201, 1)


def test_teacher_targets_put_the_decision_at_the_verdict_token(split, tmp_path, qwen_tokenizer):
    """The rule teacher's targets choose the gold side, and their analysis is the same text for
    both orders of a pair up to the verdict (only the stated numbers trade places): the verdict
    token is where the two differ first. Mutant killed: a judgment whose Reasoning names the side."""
    heldout, _ = split
    key = tmp_path / "key.jsonl"
    key.write_text("".join(json.dumps(r) + "\n" for r in answer_key(heldout)))
    pairs = heldout_pairs(heldout[:4], bon_questions=0)
    out = samples(pairs, "cj2_cot_compact", RuleTeacher(str(key)))
    for sample, pair in zip(out, pairs, strict=True):
        assert parse("cj2_cot", sample.target).label == pair.gold == sample.verdict
        tokens, problem = tokenize_sample(sample, qwen_tokenizer)
        assert problem is None and tokens.verdict_index > 0
    for first, second in zip(out[::2], out[1::2], strict=True):
        a, b = json.loads(first.target), json.loads(second.target)
        assert (a["Strengths of Model A"], a["Strengths of Model B"]) == (b["Strengths of Model B"], b["Strengths of Model A"])
        assert a["Reasoning"] == b["Reasoning"] and a["Choice"] != b["Choice"]


def test_gsm8k_questions_split_one_file_or_read_a_training_file(tmp_path):
    """GSM8K family: without ``mini.train_file`` the held-out file is split by question hash (the
    held-out part the same for every seed, the rest the training pool); with one, all held-out
    questions are judged and the training file minus them is the pool. Mutants killed: the split
    letting a held-out question into the pool; the train file read when it is not set; a seed
    leaking into the held-out choice."""
    from omegaconf import OmegaConf

    from cj2.miniature.job import questions
    from tests.exp.test_verifiable_pairs import write_sources

    write_sources(tmp_path / "test", questions=20)
    write_sources(tmp_path / "train", questions=30)
    mini = {"family": "gsm8k", "heldout_file": str(tmp_path / "test" / "gsm8k" / "test.jsonl"), "train_file": None, "heldout_questions": 6, "control_questions": 0}
    heldout, pool, control = questions(OmegaConf.create({"mini": mini}))
    assert (len(heldout), len(pool), control) == (6, 14, [])
    assert not {q.question for q in heldout} & {q.question for q in pool}
    assert heldout == questions(OmegaConf.create({"mini": mini}))[0]
    heldout, pool, _ = questions(OmegaConf.create({"mini": {**mini, "train_file": str(tmp_path / "train" / "gsm8k" / "test.jsonl"), "heldout_questions": 0}}))
    assert len(heldout) == 20 and len(pool) == 10  # train's first 20 questions are test's
    assert not {q.question for q in heldout} & {q.question for q in pool}
