"""Judge pairs with a verifiable winner, from questions with gold answers (GSM8K, MMLU).

Each question gives one pair: a correct response and an incorrect one.

- GSM8K (``test.jsonl``: ``question``, ``answer`` = worked solution ending ``#### <number>``):
  the correct response is the gold solution (calculator notes ``<<...>>`` removed) ending
  ``The answer is N.``; the incorrect one is the same solution ending with a wrong number (a
  seeded nearby value: N +- 1, 2, 10, or 2N), so the two differ only in the final answer and a
  judge has to check it against the work shown.
- MMLU (``*_test.csv``: ``question, choice0..choice3, answer`` 0-3): the options are written into
  the question as ``(A) ... (D)``; the correct response states the gold option, the incorrect
  one a seeded other option.

Questions are split by a hash of their text, independent of the seed: the held-out pairs (the
first ``heldout_per_family`` questions in hash order) never train whatever the other settings.
Within each split and family, exactly half of the pairs have the correct response at A.

Outputs (``out_dir``, each written atomically):

- ``train_pairs.jsonl``, ``heldout_pairs.jsonl``: flat judge pairs (``id, question, response_a,
  response_b, label, source``), the input of ``launch/sample.py`` and of a generic pairwise eval;
- ``answer_key.jsonl``: ``question, gold, answer_type`` for every question, the answer key of the
  ``rule`` teacher engine (cj2/sample/engines/rule_teacher.py); the pairs do not show the gold;
- ``manifest.json``: sources, settings and counts.

    python -m cj2.data.curation.verifiable_pairs --data-dir $CJ2_DATA --out outputs/mini_ablation/pairs
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cj2.data.curation.answers import normalize_number
from cj2.utils.atomic import atomic_write_text
from cj2.utils.jsonl import JsonlError, jsonl_rows, require_text

LETTERS = "ABCD"
_CALCULATOR_NOTE = re.compile(r"<<[^>]*>>")


class SourceError(JsonlError):
    """A source file that is missing or has a bad row; the message names the file, row and field."""


@dataclass(frozen=True)
class Question:
    family: str  # gsm8k | mmlu
    question: str
    gold: str  # a normalized number, or a letter
    answer_type: str  # number | letter
    solution: str = ""  # GSM8K: the worked solution without its #### line
    options: tuple[str, ...] = ()  # MMLU: the four option texts

    @property
    def id(self) -> str:
        return f"{self.family}-{hashlib.sha256(self.question.encode()).hexdigest()[:12]}"


def read_gsm8k(path: Path) -> Iterator[Question]:
    if not path.is_file():
        raise SourceError(path, "no GSM8K file (expected test.jsonl with question / answer fields)")
    for row, record in jsonl_rows(path, error=SourceError, objects=True):
        require_text(record, ("question", "answer"), path, row, error=SourceError)
        work, sep, final = record["answer"].rpartition("####")
        gold = normalize_number(final) if sep else None
        if gold is None:
            raise SourceError(path, "no number after '####'", row=row, field="answer")
        solution = _CALCULATOR_NOTE.sub("", work).strip()
        yield Question("gsm8k", record["question"].strip(), gold, "number", solution=solution)


def read_mmlu(directory: Path) -> Iterator[Question]:
    files = sorted(directory.glob("*_test.csv")) if directory.is_dir() else []
    if not files:
        raise SourceError(directory, "no MMLU *_test.csv files (columns question, choice0..choice3, answer 0-3)")
    for path in files:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            for row, record in enumerate(reader, 2):  # row 1 is the header
                for field in ("question", "choice0", "choice1", "choice2", "choice3", "answer"):
                    if not (record.get(field) or "").strip():
                        raise SourceError(path, "missing or empty", row=row, field=field)
                if record["answer"].strip() not in ("0", "1", "2", "3"):
                    raise SourceError(path, f"{record['answer']!r} is not 0-3", row=row, field="answer")
                options = tuple(record[f"choice{i}"].strip() for i in range(4))
                written = "\n".join(f"({letter}) {text}" for letter, text in zip(LETTERS, options, strict=True))
                question = f"{record['question'].strip()}\n{written}"
                yield Question("mmlu", question, LETTERS[int(record["answer"])], "letter", options=options)


_NAMES = ("Ann", "Ben", "Cara", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo", "Kai", "Lena", "Milo", "Nia", "Omar", "Pia",
          "Quin", "Rosa", "Sam", "Tia", "Uma", "Vic", "Wes", "Xena", "Yuri", "Zoe")
_THINGS = ("pens", "apples", "books", "coins", "cups", "hats", "keys", "lamps", "maps", "nuts", "pears", "rings", "shells",
           "socks", "stamps", "toys", "vases", "bowls", "cards", "seeds")


def arithmetic_questions(count: int, seed: int) -> list[Question]:
    """``count`` distinct generated word problems with a one-digit answer ("Ann has 3 pens and gets
    4 more. How many pens does Ann have now?") and their worked solution ("3 + 4 = 7.").

    A family that needs no files and no knowledge: a judge only has to read the answer each
    response states and compare it with the answer its shown work ends at, and one-digit answers
    make that comparison one token against one token. The same ``(count, seed)`` always gives
    the same questions; split them with :func:`split_questions`.
    """
    if count > len(_NAMES) * len(_THINGS) * 45:
        raise ValueError(f"{count} arithmetic questions asked for, {len(_NAMES) * len(_THINGS) * 45} distinct ones exist")
    rng = random.Random(f"arith:{seed}")
    questions: dict[str, Question] = {}
    while len(questions) < count:
        x = rng.randint(0, 9)
        y = rng.randint(0, 9 - x)
        name, thing = rng.choice(_NAMES), rng.choice(_THINGS)
        text = f"{name} has {x} {thing} and gets {y} more. How many {thing} does {name} have now?"
        questions.setdefault(text, Question("arith", text, str(x + y), "number", solution=f"{x} + {y} = {x + y}."))
    return list(questions.values())


def wrong_numbers(gold: str, rng: random.Random, k: int, digits: bool = False) -> list[str]:
    """``k`` distinct wrong answers near ``gold`` (+-1, +2, +-10, x2; never negative for a positive
    gold), or with ``digits`` other one-digit numbers."""
    value = float(gold)
    if digits:
        return rng.sample([str(d) for d in range(10) if d != value], k)
    candidates = [value + 1, value - 1, value + 2, value + 10, value - 10, value * 2]
    allowed = list(dict.fromkeys(normalize_number(str(c)) for c in candidates if c != value and (c >= 0 or value < 0)))
    return rng.sample(allowed, k)


def wrong_number(gold: str, rng: random.Random) -> str:
    return wrong_numbers(gold, rng, 1)[0]


def responses(q: Question, rng: random.Random) -> tuple[str, str]:
    """(correct, incorrect) responses to ``q``."""
    if q.answer_type == "number":
        wrong = wrong_number(q.gold, rng)
        return f"{q.solution}\nThe answer is {q.gold}.", f"{q.solution}\nThe answer is {wrong}."
    other = rng.choice([letter for letter in LETTERS if letter != q.gold])
    return (f"The answer is ({q.gold}) {q.options[LETTERS.index(q.gold)]}",
            f"The answer is ({other}) {q.options[LETTERS.index(other)]}")


def make_pairs(questions: Sequence[Question], seed: int, split: str) -> list[dict]:
    """One pair per question, the correct response at A for exactly half of them (seeded)."""
    rng = random.Random(f"{seed}:{split}:{questions[0].family if questions else ''}")
    positions = (["A", "B"] * (len(questions) // 2 + 1))[: len(questions)]
    rng.shuffle(positions)
    pairs = []
    for q, label in zip(questions, positions, strict=True):
        correct, incorrect = responses(q, rng)
        a, b = (correct, incorrect) if label == "A" else (incorrect, correct)
        pairs.append({"id": q.id, "question": q.question, "response_a": a, "response_b": b, "label": label, "source": q.family})
    return pairs


def split_questions(questions: Sequence[Question], heldout: int, train: int) -> tuple[list[Question], list[Question]]:
    """(held-out, train): hash order, so the held-out questions do not depend on the seed or ``train``."""
    unique = {q.question: q for q in questions}.values()
    ordered = sorted(unique, key=lambda q: hashlib.sha256(q.question.encode()).hexdigest())
    if len(ordered) < heldout + train:
        raise SourceError(ordered[0].family if ordered else "source", f"{len(ordered)} questions, fewer than held-out {heldout} + train {train}")
    return ordered[:heldout], ordered[heldout : heldout + train]


def _jsonl(rows: Sequence[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def build_pairs(data_dir: str | Path, out_dir: str | Path, train_per_family: int, heldout_per_family: int, seed: int = 0,
                families: Sequence[str] = ("gsm8k", "mmlu")) -> dict:
    """Write the pair files of the module docstring; return the manifest."""
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    readers = {"gsm8k": lambda: read_gsm8k(data_dir / "gsm8k" / "test.jsonl"), "mmlu": lambda: read_mmlu(data_dir / "mmlu")}
    unknown = [f for f in families if f not in readers]
    if unknown:
        raise SourceError("families", f"unknown {unknown}; known: {', '.join(readers)}")
    train, heldout, key, counts = [], [], [], {}
    for family in families:
        held_q, train_q = split_questions(list(readers[family]()), heldout_per_family, train_per_family)
        train += make_pairs(train_q, seed, "train")
        heldout += make_pairs(held_q, seed, "heldout")
        key += [{"question": q.question, "gold": q.gold, "answer_type": q.answer_type, "split": split}
                for split, qs in (("heldout", held_q), ("train", train_q)) for q in qs]
        counts[family] = {"train": len(train_q), "heldout": len(held_q)}
    # Interleave the families in a seeded order (the sampling run shards and balances by row).
    random.Random(seed).shuffle(train)
    manifest = {"data_dir": str(data_dir), "seed": seed, "families": list(families), "counts": counts,
                "train_a_share": sum(p["label"] == "A" for p in train) / max(len(train), 1),
                "heldout_a_share": sum(p["label"] == "A" for p in heldout) / max(len(heldout), 1)}
    atomic_write_text(out_dir / "train_pairs.jsonl", _jsonl(train))
    atomic_write_text(out_dir / "heldout_pairs.jsonl", _jsonl(heldout))
    atomic_write_text(out_dir / "answer_key.jsonl", _jsonl(key))
    atomic_write_text(out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("CJ2_DATA", "data"), help="holds gsm8k/test.jsonl and mmlu/*_test.csv (default $CJ2_DATA)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--train-per-family", type=int, default=32)
    parser.add_argument("--heldout-per-family", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--families", default="gsm8k,mmlu")
    args = parser.parse_args(argv)
    try:
        manifest = build_pairs(args.data_dir, args.out, args.train_per_family, args.heldout_per_family, args.seed, args.families.split(","))
    except SourceError as e:
        raise SystemExit(f"verifiable_pairs: {e}") from None
    print(json.dumps(manifest, indent=2))
    return manifest


if __name__ == "__main__":
    main()
