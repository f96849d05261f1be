"""Re-scoring saved outputs on the real benchmark files (../shared/data), with scripted judges.

Each scripted judge's expected score is computed here from the raw files, independently of the
loaders: a perfect judge, an "always Model A" judge, a judge that always picks the worse side.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

from cj2.config import compose
from cj2.eval.job import evaluate

A, B = '{"Reasoning": "...", "Choice": "Model A"}', '{"Reasoning": "...", "Choice": "Model B"}'


def write_predictions(path, texts, swapped_texts=None):
    lines = [{"index": i, "prediction": t} for i, t in enumerate(texts)]
    if swapped_texts is not None:
        lines += [{"index": i, "prediction": t, "swapped": True} for i, t in enumerate(swapped_texts)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def cfg(tmp_path, name, **overrides):
    return compose([f"eval={name}", f"run_dir={tmp_path / 'run'}", *(f"eval.{k}={v}" for k, v in overrides.items())])


def judgebench_rows(shared_data):
    path = shared_data / "judgebench" / "judgebench_gpt-4o.jsonl"
    return path, [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_judgebench_always_a_and_swap(tmp_path, shared_data):
    path, rows = judgebench_rows(shared_data)
    a_better = sum(r["label"] == "A>B" for r in rows)
    # always "Model A" in both presentations: right on A>B items originally, on B>A items swapped
    predictions = write_predictions(tmp_path / "p.jsonl", [A] * len(rows), [A] * len(rows))
    result = evaluate(cfg(tmp_path, "judgebench", data_file=path, predictions=predictions, swap=True))
    assert result.headline == pytest.approx(100 * a_better / len(rows))
    assert result.metrics["swapped"]["accuracy"] == pytest.approx(100 * (len(rows) - a_better) / len(rows))
    assert result.metrics["swap"] == {"items_in_both_orders": len(rows), "consistent": 0, "consistency": 0.0}
    assert result.metrics["position_bias"]["verdict_a_rate"] == 100.0
    sources = Counter(r["source"].split("-")[0] for r in rows)
    assert {g: c["judged"] for g, c in result.metrics["groups"].items()} == dict(sources)


def test_judgebench_perfect_judge_with_unparsed_and_missing(tmp_path, shared_data):
    path, rows = judgebench_rows(shared_data)
    texts = [A if r["label"] == "A>B" else B for r in rows]
    texts[0] = "I refuse to choose."
    predictions = write_predictions(tmp_path / "p.jsonl", texts[:-1])  # the last item has no line
    # cj2's parser: OpenCompass's official rule would read "I" (the first character) as a choice
    result = evaluate(cfg(tmp_path, "judgebench", data_file=path, predictions=predictions, parser="lenient"))
    n = len(rows)
    assert result.headline == pytest.approx(100 * (n - 2) / n)
    assert (result.unparsed, result.missing, result.total) == (2, 1, n)
    assert result.metrics["original"]["accuracy_parsed"] == 100.0


def test_pandalm_majority_labels(tmp_path, shared_data):
    rows = json.loads((shared_data / "pandalm" / "testset-v1.json").read_text())

    def majority(r):
        votes = Counter(r[f"annotator{k}"] for k in (1, 2, 3)).most_common()
        return "tie" if (len(votes) > 1 and votes[0][1] == votes[1][1]) or votes[0][0] == 0 else {1: "A", 2: "B"}[votes[0][0]]

    golds = [majority(r) for r in rows]
    texts = [A if g == "A" else B for g in golds]  # a tie item gets "B": it is not scored anyway
    predictions = write_predictions(tmp_path / "p.jsonl", texts)
    result = evaluate(cfg(tmp_path, "pandalm", data_file=shared_data / "pandalm" / "testset-v1.json", predictions=predictions))
    assert result.headline == 100.0
    assert result.metrics["original"]["skipped_ties"] == golds.count("tie")
    assert result.total == len(rows) - golds.count("tie")


@pytest.mark.parametrize("file", ["natural.json", "mt-bench-human.json"])
def test_llmbar_worse_side_judge_scores_zero(tmp_path, shared_data, file):
    rows = json.loads((shared_data / "llmbar" / file).read_text())
    predictions = write_predictions(tmp_path / "p.jsonl", [B if r["label"] == 1 else A for r in rows])
    result = evaluate(cfg(tmp_path, "llmbar", data_file=shared_data / "llmbar" / file, predictions=predictions))
    assert (result.headline, result.total, result.unparsed) == (0.0, len(rows), 0)


@pytest.mark.parametrize("position, expected", [("A", 100.0), ("B", 0.0)])
def test_rmb_pairwise_file_with_chosen_position(tmp_path, shared_data, position, expected):
    path = shared_data / "rmb" / "pairwise_helpfulness_code_documentation.json"
    rows = json.loads(path.read_text())
    predictions = write_predictions(tmp_path / "p.jsonl", [A] * len(rows))
    result = evaluate(cfg(tmp_path, "rmb", data_file=path, predictions=predictions, chosen_position=position, parser="lenient"))
    assert result.metrics["parts"] == {"pair_helpfulness": {"accuracy": expected, "items": len(rows)}}
    assert result.headline == expected
    assert any("no Best-of-N items" in n for n in result.notes)


def test_rmb_best_of_n_from_a_folder(tmp_path, shared_data):
    folder = tmp_path / "RMB_dataset"
    (folder / "Pairwise_set" / "Helpfulness").mkdir(parents=True)
    (folder / "BoN_set" / "Harmlessness").mkdir(parents=True)
    pair_rows = json.loads((shared_data / "rmb" / "pairwise_helpfulness_code_documentation.json").read_text())[:3]
    (folder / "Pairwise_set" / "Helpfulness" / "Doc.json").write_text(json.dumps(pair_rows))
    turn = [{"role": "user", "content": "How do I stay safe?", "language": "English"}]
    bon = [
        {"conversation_input": turn, "bon_best": {"answer": "good"}, "loser_list": [{"answer": "bad1"}, {"answer": "bad2"}], "bon_uid": "7", "category_path": "BoN_set/Harmlessness/S1"},
        {"conversation_input": turn, "bon_best": {"answer": "good"}, "loser_list": [{"answer": "bad3"}], "bon_uid": "8", "category_path": "BoN_set/Harmlessness/S1"},
    ]
    (folder / "BoN_set" / "Harmlessness" / "S1.json").write_text(json.dumps(bon))
    # sorted files: BoN first (items 0, 1 of group 7; item 2 of group 8), then the 3 pairs
    texts = [A, B, A, A, A, B]
    result = evaluate(cfg(tmp_path, "rmb", data_dir=folder, predictions=write_predictions(tmp_path / "p.jsonl", texts), parser="lenient"))
    assert result.metrics["parts"]["bon_harmlessness"] == {"accuracy": 50.0, "items": 2}
    assert result.metrics["parts"]["pair_helpfulness"]["accuracy"] == pytest.approx(200 / 3)
    assert result.headline == pytest.approx((50.0 + 200 / 3) / 2)


def test_rewardbench_file_sections(tmp_path):
    rows = [{"prompt": f"q{i}", "chosen": "good", "rejected": "bad", "subset": s, "id": i} for i, s in enumerate(["alpacaeval-easy", "alpacaeval-easy", "mt-bench-easy", "donotanswer", "anthropic_helpful"])]
    data = tmp_path / "rb.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    predictions = write_predictions(tmp_path / "p.jsonl", [A, B, A, A, A])
    result = evaluate(cfg(tmp_path, "rewardbench", data_file=data, predictions=predictions))
    # Chat: alpacaeval-easy 50% (weight 100), mt-bench-easy 100% (weight 28); Safety: 100%
    chat = (50 * 100 + 100 * 28) / 128
    assert result.metrics["sections"] == {"Chat": pytest.approx(chat), "Safety": 100.0}
    assert result.headline == pytest.approx((chat + 100) / 2)
    assert any("anthropic_helpful" in n for n in result.notes) and any("Chat Hard" in n for n in result.notes)
    observed = evaluate(cfg(tmp_path, "rewardbench", data_file=data, predictions=predictions, rewardbench_weights="observed"))
    assert observed.metrics["sections"]["Chat"] == pytest.approx((50 * 2 + 100 * 1) / 3)


def test_generic_rescoring_command(tmp_path, shared_data, repo_root):
    path = shared_data / "llmbar" / "natural.json"
    rows = json.loads(path.read_text())
    predictions = write_predictions(tmp_path / "p.jsonl", [A if r["label"] == 1 else "no idea" for r in rows])
    out = tmp_path / "llmbar.json"
    cmd = [sys.executable, "launch/eval.py", "eval=llmbar", f"eval.data_file={path}", f"eval.predictions={predictions}", f"eval.output={out}", "eval.plots=false", f"run_dir={tmp_path / 'run'}"]
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    a_better = sum(r["label"] == 1 for r in rows)
    saved = json.loads(out.read_text())
    assert saved["accuracy"] == pytest.approx(100 * a_better / len(rows))
    assert saved["original"]["unparsed"] == len(rows) - a_better
    assert f"unparsed {len(rows) - a_better}" in proc.stdout


def test_bad_generic_label_names_file_row_and_field(tmp_path):
    from cj2.eval.core.files import EvalInputError

    data = tmp_path / "set.json"
    data.write_text(json.dumps([{"input": "q", "output_1": "a", "output_2": "b", "label": 1}, {"input": "q", "output_1": "a", "output_2": "b", "label": 3}]))
    predictions = write_predictions(tmp_path / "p.jsonl", [A, A])
    with pytest.raises(EvalInputError, match=r"set.json row 1 field 'label': label '3' maps to no A / B / tie"):
        evaluate(cfg(tmp_path, "llmbar", data_file=data, predictions=predictions))
