"""The conf/data presets on the real benchmark files, against counts computed here independently."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
from omegaconf import OmegaConf

from cj2.config.compose import compose
from cj2.data.records import JudgeExample, RejectedRow
from cj2.data.sources.loaders import load_examples

# The benchmark files' field mappings, as the evaluation helpers read them. They are evaluation
# sets, so no training preset holds them any more (docs/data.md, "Evaluation sets never train").
EVAL_SETS = r"""
  judgebench:
    kind: pairwise
    path: ${root}/judgebench/judgebench_gpt-4o.jsonl
    fields: {question: question, response_a: response_A, response_b: response_B, label: label, id: pair_id, category: source}
    label_map: {"A>B": A, "B>A": B}
    template: cj2_short
  pandalm:
    kind: pairwise
    path: ${root}/pandalm/testset-v1.json
    fields:
      question: "{instruction}\n\n{input}"
      response_a: response1
      response_b: response2
      label: majority:annotator1,annotator2,annotator3
      id: idx
      category: motivation_app
    label_map: {"1": A, "2": B, "0": tie}
    template: cj2_short
    # 60 of PandaLM's 999 rows have an empty or non-text response (6%, over the 5% default);
    # its ~100 ties are filtered too (a two-way template cannot state them), without counting.
    max_reject_fraction: 0.1
  llmbar_natural:
    kind: pairwise
    path: ${root}/llmbar/natural.json
    fields: {question: input, response_a: output_1, response_b: output_2, label: label}
    label_map: {"1": A, "2": B}
    template: cj2_short
  llmbar_mtbench:
    kind: pairwise
    path: ${root}/llmbar/mt-bench-human.json
    fields: {question: input, response_a: output_1, response_b: output_2, label: label}
    label_map: {"1": A, "2": B}
    template: cj2_short
  rmb_code_documentation:
    kind: pairwise
    path: ${root}/rmb/pairwise_helpfulness_code_documentation.json
    fields:
      question: chat:conversation_input
      response_a: chosen.answer
      response_b: reject.answer
      label: const:A  # chosen is always the better one; positions are randomized at build time
      id: pair_uid
      category: category_path
    template: cj2_short
    max_reject_fraction: 0.1  # 4 of the 65 code-documentation pairs are longer than 4096 tokens
"""


@pytest.fixture
def presets(shared_data, monkeypatch):
    monkeypatch.setenv("CJ2_DATA", str(shared_data))

    def components(mixture):
        if mixture == "eval_sets":
            return OmegaConf.merge(OmegaConf.create({"root": str(shared_data)}), OmegaConf.create(EVAL_SETS))
        return compose([f"data={mixture}"]).data.components

    return components


def _split(records):
    records = list(records)
    kept = [r for r in records if isinstance(r, JudgeExample)]
    return kept, [r for r in records if isinstance(r, RejectedRow)]


def test_judgebench(presets, shared_data):
    rows = [json.loads(line) for line in (shared_data / "judgebench/judgebench_gpt-4o.jsonl").read_text().splitlines()]
    kept, rejected = _split(load_examples(presets("eval_sets").judgebench, "judgebench"))
    assert not rejected and len(kept) == len(rows) == 350
    assert Counter(e.label for e in kept) == Counter({"A>B": "A", "B>A": "B"}[r["label"]] for r in rows)
    assert kept[0].responses == [rows[0]["response_A"], rows[0]["response_B"]] and kept[0].id == rows[0]["pair_id"]


def test_pandalm_majority_vote(presets, shared_data):
    rows = json.loads((shared_data / "pandalm/testset-v1.json").read_text())
    kept, rejected = _split(load_examples(presets("eval_sets").pandalm, "pandalm"))
    assert len(kept) + len(rejected) == len(rows) == 999

    def expected(r):
        if not all(isinstance(r[k], str) and r[k].strip() for k in ("response1", "response2")):
            return None
        votes = Counter([r["annotator1"], r["annotator2"], r["annotator3"]]).most_common()
        if len(votes) > 1 and votes[0][1] == votes[1][1]:
            return None
        return {1: "A", 2: "B", 0: "tie"}[votes[0][0]]

    wanted = [expected(r) for r in rows]
    assert [e.label for e in kept] == [w for w in wanted if w is not None]
    by_id = {e.id: e for e in kept}
    first = rows[0]
    assert by_id[str(first["idx"])].question == (first["instruction"] + ("\n\n" + first["input"] if first["input"] else "")).strip()
    assert Counter(r.reason for r in rejected) == Counter(
        {"empty_response": sum(1 for r in rows if any(isinstance(r[k], str) and not r[k].strip() for k in ("response1", "response2"))),
         "bad_field": sum(1 for r in rows if any(not isinstance(r[k], str) for k in ("response1", "response2")))})


@pytest.mark.parametrize("component, file", [("llmbar_natural", "llmbar/natural.json"), ("llmbar_mtbench", "llmbar/mt-bench-human.json")])
def test_llmbar(presets, shared_data, component, file):
    rows = json.loads((shared_data / file).read_text())
    kept, rejected = _split(load_examples(presets("eval_sets")[component], component))
    assert not rejected
    assert [(e.question, e.responses, e.label) for e in kept] == [(r["input"], [r["output_1"], r["output_2"]], "AB"[r["label"] - 1]) for r in rows]


def test_rmb_chosen_is_a(presets, shared_data):
    rows = json.loads((shared_data / "rmb/pairwise_helpfulness_code_documentation.json").read_text())
    kept, rejected = _split(load_examples(presets("eval_sets").rmb_code_documentation, "rmb"))
    assert not rejected and len(kept) == len(rows)
    assert all(e.label == "A" for e in kept)
    assert kept[0].responses == [rows[0]["chosen"]["answer"], rows[0]["reject"]["answer"]]
    assert kept[0].question == rows[0]["conversation_input"][0]["content"]


def test_gsm8k_and_mmlu(presets, shared_data):
    from cj2.data.curation.answers import gold_answer

    comps = presets("knowledge_public")
    gsm_rows = [json.loads(line) for line in (shared_data / "gsm8k/test.jsonl").read_text().splitlines()]
    kept, rejected = _split(load_examples(comps.gsm8k, "gsm8k"))
    assert not rejected and len(kept) == len(gsm_rows) == 1319
    assert gold_answer(kept[0].meta["gold"], "number") == gsm_rows[0]["answer"].split("####")[-1].strip().replace(",", "")

    mmlu_rows = []
    for path in sorted((shared_data / "mmlu").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            mmlu_rows += list(csv.DictReader(f))
    kept, rejected = _split(load_examples(comps.mmlu, "mmlu"))
    assert not rejected and len(kept) == len(mmlu_rows)
    assert [e.meta["gold"] for e in kept] == ["ABCD"[int(r["answer"])] for r in mmlu_rows]
    assert kept[0].question.endswith(f"(D) {mmlu_rows[0]['choice3']}")
