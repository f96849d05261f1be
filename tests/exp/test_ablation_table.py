"""The ablation table: every judge's numbers as measured, and per loss the mean and spread over seeds."""

from __future__ import annotations

import json

from cj2.eval.studies.ablation import write_table


def eval_output(accuracy, parsed=16, consistency=50.0, a_rate=50.0):
    return {"benchmark": "mini_heldout", "accuracy": accuracy, "overall": {"judged": 16, "parsed": parsed, "accuracy": accuracy},
            "swap": {"consistency": consistency}, "position": {"verdict_a_rate": a_rate}}


def test_table_lists_every_judge_and_the_spread_over_seeds(tmp_path):
    """Catches: a seed silently dropped from the per-loss summary (the spread the doc reports), and
    unparsed verdicts hidden from the table. Planted: keeping only ``-s1`` runs in ``markdown``'s
    per-loss rows -> the margin row reads 40.0 (seeds 1) instead of 50.0 ± 10.0 (seeds 1, 2)."""
    outputs = {"base": eval_output(0.0, parsed=0, consistency=0.0), "margin-s1": eval_output(40.0), "margin-s2": eval_output(60.0),
               "none-s1": eval_output(55.0)}
    for judge, metrics in outputs.items():
        (tmp_path / judge).mkdir()
        (tmp_path / judge / "eval_mini_heldout.json").write_text(json.dumps(metrics))
    text = write_table(tmp_path)
    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines() if line.startswith("| ")}
    assert "| base | 0.0 | 0.0 | - | 0/16 |" in text
    assert rows["margin"] == "| margin | 50.0 ± 10.0 (seeds 1, 2) |"
    assert rows["none"] == "| none | 55.0 (seeds 1) |"
    assert list(rows)[1:5] == ["base", "none-s1", "margin-s1", "margin-s2"]  # base first, then losses in Table 4 order
    assert (tmp_path / "table.md").read_text() == text and (tmp_path / "table.png").read_bytes()[:4] == b"\x89PNG"
