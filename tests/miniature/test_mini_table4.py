"""launch/mini_table4.py end to end, at a size that runs in a test: the plumbing and the gates, not a ranking.

Both presets run their real command: the CPU one on the real SmolLM2-135M (bottom 28 layers frozen
and cached, the top trained through the platform's loop), the GPU one on CPU with the tiny model
and a tiny shape (two workers, a negative control, generation accuracy). With a few training steps
no judge learns the task, so the gates must fire and nothing may be ranked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cj2.models import bundled_smollm2
from tests.exp.test_verifiable_pairs import write_sources

ROOT = Path(__file__).resolve().parents[2]


def mini_table4(*overrides: str, env: dict | None = None) -> str:
    proc = subprocess.run([sys.executable, "launch/mini_table4.py", *overrides], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout


def records(out: Path, judge: str, eval_set: str = "heldout") -> list[dict]:
    return [json.loads(line) for line in (out / "records" / eval_set / f"{judge}.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_cpu_preset_scores_every_judge_and_gates_an_untrained_comparison(tmp_path):
    """12 held-out questions (4 with best-of-4 groups: 12 x 2 + 4 x 2 = 32 verdicts per judge), 40
    training pairs, two losses at one seed, one epoch of a few steps each.

    Checks: every judge (base, both losses, the rule teacher) is scored on the same 32 verdicts;
    the rule teacher passes its gate (the pairs, prompt layout and scoring agree); the untrained
    comparison fails the `none` gate and prints no ranking; a rerun trains and scores nothing and
    leaves the table as it was.
    Planted: the rule teacher's records built against the flipped gold -> its gate fails;
    run_judge skipping the write of a judge's records -> the command fails at the table (both seen to
    fail, the first once the Wilson bounds were mended: before, it crashed the plot)."""
    if bundled_smollm2.gguf_path() is None:
        pytest.skip(f"SmolLM2 GGUF not installed: {bundled_smollm2.INSTALL_HINT}")
    bundled_smollm2.install(tmp_path / "models")
    out = tmp_path / "mini"
    args = ["+exp=mini_table4", f"mini.output_dir={out}", "mini.train_pairs=40", "mini.train_pool=60", "mini.heldout_questions=12",
            "mini.bon_questions=4", "mini.seeds=[1]", "mini.losses=[none,margin]", "parallel.global_batch_size=2", "train.epochs=1"]
    env = {"CJ2_MODELS": str(tmp_path / "models")}
    first = mini_table4(*args, env=env)
    assert "3 judge(s) to train and score (0 already done)" in first
    judges = {j: records(out, j) for j in ("base", "none-seed1", "margin-seed1", "rule-teacher")}
    keys = {j: [(r["item"], r["swapped"]) for r in rs] for j, rs in judges.items()}
    assert all(len(k) == 32 and k == keys["base"] for k in keys.values())
    table = (out / "loss_comparison_heldout.md").read_text()
    report = json.loads((out / "loss_comparison_heldout.json").read_text())
    assert report["judges"]["rule-teacher"]["metrics"]["accuracy"] == 100.0
    failed = {f["gate"] for f in report["gate_failures"]}
    assert "none learns the task" in failed and not any("rule teacher" in f["text"] for f in report["gate_failures"])
    assert report["ranking"] is None and "no ranking" in table
    assert (out / "loss_comparison_heldout.png").stat().st_size > 0

    again = mini_table4(*args, env=env)
    assert "0 judge(s) to train and score (3 already done)" in again
    assert (out / "loss_comparison_heldout.md").read_text() == table


@pytest.mark.slow
def test_gpu_preset_command_runs_on_cpu_at_a_tiny_shape(tmp_path):
    """The GPU preset's own command with the tiny random model on CPU: GSM8K-format files, two
    seeds, two workers (one process each, as several runs share a GPU), the MMLU negative control
    and generation accuracy of the exported judges.
    Checks: each judge's records on both sets, the control compared apart (no gates, no ranking),
    generation accuracy counted for every trained judge (its unparsed verdicts wrong), and the two
    workers both used. Planted: workers=2 ignored (in-process runs) -> one pid."""
    write_sources(tmp_path / "heldout", questions=20)  # split by the preset: 4 held out, 16 to train on
    out = tmp_path / "mini"
    stdout = mini_table4(
        "+exp=mini_table4_gpu", "model=tiny", "cluster.gpus_per_node=0", "train.precision=fp32", "model.attention=sdpa", "data.seq_length=2048",
        f"mini.output_dir={out}", f"mini.heldout_file={tmp_path / 'heldout' / 'gsm8k' / 'test.jsonl'}", f"mini.control_dir={tmp_path / 'heldout' / 'mmlu'}",
        "mini.control_questions=2", "mini.train_pairs=8", "mini.heldout_questions=4", "mini.bon_questions=2", "mini.seeds=[1,2]", "mini.losses=[none,margin]",
        "mini.generation_items=4", "mini.generation_max_tokens=8", "mini.workers=2", "parallel.global_batch_size=1",
    )
    summary = json.loads((out / "summary.json").read_text())
    assert len({j["pid"] for j in summary["judges"]}) == 2
    for judge in ("base", "none-seed1", "margin-seed1", "none-seed2", "margin-seed2", "rule-teacher"):
        assert len(records(out, judge)) == 4 * 2 + 2 * 2  # 4 questions in both orders, 2 with two more pairs
        assert len(records(out, judge, "control")) == 2 * 2
    control = json.loads((out / "loss_comparison_control.json").read_text())
    assert control["control"] and control["gate_failures"] == [] and control["ranking"] is None
    for judge in ("none-seed1", "margin-seed2"):
        generated = json.loads((out / "records" / f"{judge}.generation.json").read_text())
        assert generated["items"] == 4 and generated["correct"] <= generated["parsed"] <= 4
    assert "miniature Table 4" in stdout
