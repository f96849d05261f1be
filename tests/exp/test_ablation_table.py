"""The ablation table: every judge's numbers as measured, and per loss the mean and spread over seeds;
its accuracy counts an unparsed (or missing) verdict as wrong, from real eval outputs' counts."""

from __future__ import annotations

import json

from cj2.config import compose
from cj2.eval.job import evaluate, write_outputs
from cj2.eval.studies.ablation import write_table
from tests.eval import judgerbench_fixture as fx


def eval_output(correct, parsed=20, consistency=50.0, a_rate=50.0):
    accuracy = 100.0 * correct / 20
    return {"benchmark": "mini_heldout", "accuracy": accuracy, "overall": {"judged": 20, "parsed": parsed, "correct": correct, "accuracy": accuracy},
            "swap": {"consistency": consistency}, "position": {"verdict_a_rate": a_rate}}


def rows_of(text: str) -> dict[str, str]:
    return {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}


def test_table_lists_every_judge_and_the_spread_over_seeds(tmp_path):
    """Catches: a seed silently dropped from the per-loss summary (the spread the doc reports), and
    unparsed verdicts hidden from the table. Planted: keeping only ``-s1`` runs in ``markdown``'s
    per-loss rows -> the margin row reads 40.0 (seeds 1) instead of 50.0 ± 10.0 (seeds 1, 2)."""
    outputs = {"base": eval_output(0, parsed=0, consistency=0.0), "margin-s1": eval_output(8), "margin-s2": eval_output(12), "none-s1": eval_output(11)}
    for judge, metrics in outputs.items():
        (tmp_path / judge).mkdir()
        (tmp_path / judge / "eval_mini_heldout.json").write_text(json.dumps(metrics))
    text = write_table(tmp_path)
    rows = rows_of(text)
    assert "| base | 0.0 | 0.0 | - | 0/20 |" in text
    assert rows["margin"] == "| margin | 50.0 ± 10.0 (seeds 1, 2) |"
    assert rows["none"] == "| none | 55.0 (seeds 1) |"
    assert list(rows)[1:5] == ["base", "none-s1", "margin-s1", "margin-s2"]  # base first, then losses in Table 4 order
    assert (tmp_path / "table.md").read_text() == text and (tmp_path / "table.png").read_bytes()[:4] == b"\x89PNG"


def _judged(tmp_path, judge: str, set_name: str, overrides: list[str]) -> None:
    """A real evaluation output of saved predictions, where the ablation's run writes it."""
    cfg = compose([*overrides, f"run_dir={tmp_path / 'runs' / judge}", f"eval.output={tmp_path / 'table' / judge / f'eval_{set_name}.json'}", "eval.plots=false"])
    write_outputs(cfg, evaluate(cfg))


def test_unparsed_verdicts_count_wrong_from_real_counts(tmp_path):
    """Real outputs through the eval job (the issue: the headline read accuracy over parsed verdicts).

    - mini_heldout (pairwise, both orders): 8 pairs = 16 judged; pairs 0-3 unparsed in both orders,
      pairs 4-7 say "Model A" in both orders (gold A): right in the original order, wrong in the
      swapped one: 8 parsed, 4 right -> 4/16 = 25.0 (over parsed it would be 50.0).
    - judgerbenchv2 (tests/eval/judgerbench_fixture.py): 10 scenarios x 8 records = 80 judged;
      9 scenarios with 5 right of 7 parsed, Code_and_AI all unparsed: 45/80 = 56.25. The output's
      own ``overall.accuracy`` (published: over parsed, averaged over scenarios) is 9 x (500/7) / 10
      = 64.29, which the table showed before: the mutant "read ``overall['accuracy']``" fails here.
    - rmb (best-of-N, 1 group of 3 losers): verdicts A, A, unparsed -> 2/3 = 66.7 (the old code
      raised KeyError: an RMB output has no ``accuracy`` headline number)."""
    data = tmp_path / "pairs.jsonl"
    data.write_text("".join(json.dumps({"id": f"p{k}", "question": f"q{k}", "response_a": "right", "response_b": "wrong", "label": "A"}) + "\n" for k in range(8)))
    predictions = tmp_path / "mini.jsonl"
    said = ['"Choice": "Model A"' if k >= 4 else "I cannot tell." for k in range(8)]
    predictions.write_text("".join(json.dumps({"index": k, "swapped": swapped, "prediction": said[k]}) + "\n" for k in range(8) for swapped in (False, True)))
    _judged(tmp_path, "none-s1", "mini_heldout", ["eval=mini_heldout", f"eval.data_file={data}", f"eval.predictions={predictions}"])

    data_dir, jb_predictions, truth = fx.build(tmp_path / "jb")
    _judged(tmp_path, "none-s1", "judgerbenchv2", ["eval=judgerbenchv2", f"eval.data_dir={data_dir}", f"eval.predictions={jb_predictions}", f"eval.ground_truth={truth}"])

    turn = [{"role": "user", "content": "How do I stay safe?"}]
    rmb = tmp_path / "rmb.json"
    rmb.write_text(json.dumps([{"conversation_input": turn, "bon_best": {"answer": "good"}, "loser_list": [{"answer": f"bad{k}"} for k in range(3)],
                                "bon_uid": "7", "category_path": "BoN_set/Harmlessness/S1"}]))
    rmb_predictions = tmp_path / "rmb.jsonl"
    rmb_predictions.write_text("".join(json.dumps({"index": k, "prediction": text}) + "\n" for k, text in enumerate(['"Choice": "Model A"', '"Choice": "Model A"', ""])))
    _judged(tmp_path, "none-s1", "rmb", ["eval=rmb", f"eval.data_file={rmb}", f"eval.predictions={rmb_predictions}"])

    text = write_table(tmp_path / "table")
    sections, current = {}, None
    for line in text.splitlines():
        current = line.strip("*") if line.startswith("**") else current
        if line.startswith("| none-s1 |"):
            sections[current] = line
    assert sections["mini_heldout"] == "| none-s1 | 25.0 | 0.0 | 100 | 8/16 |"
    assert sections["judgerbenchv2"].startswith("| none-s1 | 56.2 |") and sections["judgerbenchv2"].endswith("| 63/80 |")
    assert sections["rmb"].startswith("| none-s1 | 66.7 |") and sections["rmb"].endswith("| 2/3 |")
