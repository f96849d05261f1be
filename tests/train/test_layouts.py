"""The whole training loop gives the same losses at TP2+SP, PP2 and DP2 as in one process.

Each run starts from the same HF weights (random init differs by layout: pipeline stages draw
their layers' weights in another order), trains two steps through ``launch/train.py`` on local
gloo processes, and must end where the one-process run ends. PP2 also exercises the tied
embedding's copy on the last stage and its gradient all-reduce.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

LAYOUTS = {
    "tp2_sp": ["parallel.tp=2", "parallel.sp=true", "cluster.nproc=2"],
    "pp2": ["parallel.pp=2", "cluster.nproc=2"],
    "dp2": ["parallel.dp=2", "cluster.nproc=2"],
}


def tiny_hf_checkpoint(out_dir, *overrides: str):
    """Seeded HF weights of the model ``overrides`` compose (default: the demo's, which the runs below train)."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from cj2.config import compose

    m = compose(list(overrides or ["+exp=demo"])).model
    config = Qwen2Config(vocab_size=m.vocab_size, hidden_size=m.hidden_size, intermediate_size=m.ffn_hidden_size, num_hidden_layers=m.num_layers, num_attention_heads=m.num_attention_heads, num_key_value_heads=m.num_query_groups, max_position_embeddings=m.max_position_embeddings, rope_theta=m.rope_theta, rms_norm_eps=m.rms_norm_eps, tie_word_embeddings=m.tie_word_embeddings)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(out_dir)
    return out_dir


def build_data(repo_root, data_dir):
    proc = subprocess.run([sys.executable, "launch/build_data.py", "+exp=demo", f"data.output_dir={data_dir}"], cwd=repo_root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def train(repo_root, run_dir, data_dir, hf_dir, overrides):
    cmd = [sys.executable, "launch/train.py", "+exp=demo", f"run_dir={run_dir}", f"data.output_dir={data_dir}", f"model.hf_path={hf_dir}", "train.max_steps=2", "train.eval_interval=0", "train.export_hf=false", "tracking=disabled", *overrides]
    # Not the rendezvous of process groups this pytest process may still hold.
    env = {k: v for k, v in os.environ.items() if k not in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")}
    proc = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, f"{' '.join(overrides)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    # run.json names the attention backend that ran (on CPU, auto resolves to sdpa).
    assert json.loads((run_dir / "run.json").read_text())["attempts"][-1]["attention_backend"] == "sdpa"
    return json.loads((run_dir / "summary.json").read_text())["final"]


@pytest.mark.slow
@pytest.mark.distributed
def test_parallel_layouts_train_like_one_process(tmp_path, repo_root):
    hf_dir = tiny_hf_checkpoint(tmp_path / "hf")
    data_dir = tmp_path / "data"
    build_data(repo_root, data_dir)  # training never builds data
    reference = train(repo_root, tmp_path / "one", data_dir, hf_dir, [])
    for name, overrides in LAYOUTS.items():
        got = train(repo_root, tmp_path / name, data_dir, hf_dir, overrides)
        for part in ("loss", "sft", "pg"):
            assert got[part] == pytest.approx(reference[part], rel=1e-5, abs=1e-6), (name, part, got, reference)
