"""Verifiable judge pairs: the labelled side holds the gold answer, positions balance, held-out stays out."""

from __future__ import annotations

import csv
import json

import pytest

from cj2.data.curation.answers import is_correct
from cj2.data.curation.verifiable_pairs import SourceError, build_pairs


def write_sources(root, questions=12):
    (root / "gsm8k").mkdir(parents=True)
    with (root / "gsm8k" / "test.jsonl").open("w") as f:
        for i in range(questions):
            f.write(json.dumps({"question": f"Ann has {i} pens and buys {i + 2} more. How many now?",
                                "answer": f"She has {i} + {i + 2} = <<{i}+{i + 2}={2 * i + 2}>>{2 * i + 2} pens.\n#### {2 * i + 2}"}) + "\n")
    (root / "mmlu").mkdir()
    with (root / "mmlu" / "toy_test.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["question", "choice0", "choice1", "choice2", "choice3", "answer"])
        for i in range(questions):
            writer.writerow([f"Which number is {i}?", f"{i}", f"{i + 1}", f"{i + 2}", f"{i + 3}", "0"])


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_labels_name_the_correct_response_and_positions_balance(tmp_path):
    """Catches: a label that does not point at the correct response (e.g. the label drawn but the
    responses not swapped to match), an unbalanced position share, calculator notes left in.
    Planted: ``a, b = (correct, incorrect)`` whatever the label -> half the labels are wrong."""
    write_sources(tmp_path / "src")
    build_pairs(tmp_path / "src", tmp_path / "out", train_per_family=6, heldout_per_family=4, seed=3)
    key = {row["question"]: row for row in read(tmp_path / "out" / "answer_key.jsonl")}
    for split in ("train", "heldout"):
        pairs = read(tmp_path / "out" / f"{split}_pairs.jsonl")
        for family in ("gsm8k", "mmlu"):
            mine = [p for p in pairs if p["source"] == family]
            assert sum(p["label"] == "A" for p in mine) * 2 == len(mine)
        for p in pairs:
            gold = key[p["question"]]
            right, wrong = (p["response_a"], p["response_b"]) if p["label"] == "A" else (p["response_b"], p["response_a"])
            assert is_correct(right, gold["gold"], gold["answer_type"]) and not is_correct(wrong, gold["gold"], gold["answer_type"])
            assert "<<" not in right and "gold" not in p  # the prompt side never shows the gold answer


def test_heldout_questions_never_train_and_do_not_move(tmp_path):
    """Catches: held-out questions that depend on the seed or the train size (a bigger run would
    train on the smaller run's evaluation items), and overlap between the splits.
    Planted: splitting after a seeded shuffle -> the held-out sets of seeds 1 and 2 differ."""
    write_sources(tmp_path / "src")
    build_pairs(tmp_path / "src", tmp_path / "a", train_per_family=4, heldout_per_family=3, seed=1)
    build_pairs(tmp_path / "src", tmp_path / "b", train_per_family=8, heldout_per_family=3, seed=2)
    held = [{p["question"] for p in read(tmp_path / d / "heldout_pairs.jsonl")} for d in ("a", "b")]
    assert held[0] == held[1] and len(held[0]) == 6
    for d in ("a", "b"):
        assert not held[0] & {p["question"] for p in read(tmp_path / d / "train_pairs.jsonl")}


def test_bad_source_row_names_file_row_and_field(tmp_path):
    """Catches: a GSM8K row without its '####' gold silently dropped or crashing deep inside.
    Planted: ``continue`` (skip the row) in place of the SourceError -> nothing is raised."""
    write_sources(tmp_path / "src", questions=3)
    with (tmp_path / "src" / "gsm8k" / "test.jsonl").open("a") as f:
        f.write(json.dumps({"question": "Broken?", "answer": "no gold here"}) + "\n")
    with pytest.raises(SourceError, match=r"test\.jsonl, row 4: field 'answer'"):
        build_pairs(tmp_path / "src", tmp_path / "out", train_per_family=1, heldout_per_family=1)
    with pytest.raises(SourceError, match="fewer than held-out 2 \\+ train 5"):
        build_pairs(tmp_path / "src", tmp_path / "out", train_per_family=5, heldout_per_family=2, families=["mmlu"])
