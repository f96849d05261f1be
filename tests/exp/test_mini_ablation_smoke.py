"""End to end on the real SmolLM2-135M-Instruct: pairs -> rule teacher -> build -> a few training steps.

Slow (about 2-4 min on 2 CPU cores, ~7 GB of memory): the preset's own stages as the
documentation runs them, on a handful of hand-made GSM8K/MMLU-style questions (no ../shared/data).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cj2.data.curation.verifiable_pairs import build_pairs
from cj2.models import bundled_smollm2
from tests.exp.test_verifiable_pairs import write_sources

ROOT = Path(__file__).resolve().parents[2]
STEP = re.compile(r"^step (\d+)/\d+ loss ([0-9.]+) \(sft ([0-9.]+) pg ([0-9.]+)\)", re.MULTILINE)


@pytest.mark.slow
def test_smollm2_trains_from_the_checkpoint_and_the_loss_moves(tmp_path):
    """Trains 3 steps with the margin loss from the converted SmolLM2 checkpoint on rule-teacher
    judgments and reads the loss of every step from the log.

    Catches: a preset that cannot start from the real checkpoint (architecture or tokenizer
    mismatch, weights not loaded: a random 135M model's token CE starts near ln(49152) ~ 10.8, the
    real one's below 3), a data path that yields no verdict samples (pg stays 0 under the margin loss), and a
    loop that does not learn (the loss on the same few samples must fall).
    Planted: ``model.hf_path=null`` (random init, same tokenizer) -> first token CE ~10.8, far above 3."""
    if bundled_smollm2.gguf_path() is None:
        pytest.skip(f"SmolLM2 GGUF not installed: {bundled_smollm2.INSTALL_HINT}")
    write_sources(tmp_path / "src", questions=6)
    build_pairs(tmp_path / "src", tmp_path / "mini" / "pairs", train_per_family=2, heldout_per_family=1)
    env = {**os.environ, "CJ2_MINI_ABLATION": str(tmp_path / "mini"), "CJ2_MODELS": str(tmp_path / "models")}
    bundled_smollm2.install(tmp_path / "models")
    common = ["+exp=mini_ablation", "cluster=local", "tracking=disabled", f"data.output_dir={tmp_path / 'data'}"]

    def launch(script, *extra):
        return subprocess.run([sys.executable, f"launch/{script}", *common, *extra], cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout

    launch("sample.py")
    accepted = [json.loads(line) for line in (tmp_path / "mini" / "teacher" / "accepted.jsonl").read_text().splitlines()]
    assert len(accepted) == 4 and sorted(s["verdict"] for s in accepted) == ["A", "A", "B", "B"]
    launch("build_data.py")
    out = launch("train.py", f"run_dir={tmp_path / 'run'}", "loss=margin", "train.max_steps=3", "train.export_hf=false")
    steps = [(int(s), float(loss), float(sft), float(pg)) for s, loss, sft, pg in STEP.findall(out)]
    assert [s[0] for s in steps] == [1, 2, 3], out[-2000:]
    # The token CE of a pretrained model on its own chat format, not a random one's (~10.8). The
    # total adds the margin term (mean hinge of gamma=10 over the top 10: 4-7 at the start).
    assert steps[0][2] < 3.0
    assert steps[-1][1] < steps[0][1] - 0.1
    assert steps[0][3] > 0  # the margin term acts on the verdict token
