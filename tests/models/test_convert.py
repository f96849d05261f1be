"""launch/convert.py end to end: HF -> cj2 at TP=2 (two local ranks) -> HF, bit for bit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from tests.models.hf_fixtures import reference_logits, tiny_hf_model
from tests.models.test_hf_parity import assert_logits_close, hf_tensors


def convert(repo_root, tmp_path, src, dst, *overrides):
    command = [sys.executable, str(repo_root / "launch" / "convert.py"), f"src={src}", f"dst={dst}", f"run_dir={tmp_path / 'run'}", *overrides]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=400, cwd=repo_root, env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, f"convert failed\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


@pytest.mark.slow
def test_hf_to_cj2_to_hf_round_trip(repo_root, tmp_path, qwen_tokenizer):
    # The real Qwen2.5 vocabulary (padded like conf/model/tiny.yaml) so the tokenizer travels too.
    model = tiny_hf_model("qwen2", tied=False, vocab_size=151680, hidden_size=32)
    source = tmp_path / "hf"
    model.save_pretrained(str(source), max_shard_size="20MB")
    qwen_tokenizer.save_pretrained(str(source))

    out = convert(repo_root, tmp_path, source, tmp_path / "ckpt", "parallel.tp=2")
    assert "hf->cj2" in out and "verified" in out
    meta = json.loads((tmp_path / "ckpt" / "cj2_checkpoint.json").read_text())
    assert meta["layout"]["tp"] == 2 and meta["model"]["vocab_size"] == 151680

    out = convert(repo_root, tmp_path, tmp_path / "ckpt", tmp_path / "hf_back")
    assert "cj2->hf" in out and "verified" in out
    back = tmp_path / "hf_back"
    original, exported = hf_tensors(source), hf_tensors(back)
    assert sorted(original) == sorted(exported)
    for name, tensor in original.items():
        assert torch.equal(exported[name], tensor), name
    assert (back / "tokenizer.json").is_file() and (back / "generation_config.json").is_file()

    from transformers import AutoModelForCausalLM, AutoTokenizer

    ids = torch.tensor([AutoTokenizer.from_pretrained(str(back))("a judge compares two answers")["input_ids"]])
    reloaded = AutoModelForCausalLM.from_pretrained(str(back), dtype=torch.float32).eval()
    assert_logits_close(reference_logits(reloaded, ids), reference_logits(model, ids), "exported")


def test_direction_needs_a_known_source(tmp_path):
    from cj2.models.convert import ConvertError, direction_of

    with pytest.raises(ConvertError, match="neither a HF checkpoint"):
        direction_of(tmp_path)
    with pytest.raises(ConvertError, match="no such directory"):
        direction_of(tmp_path / "missing")


def test_converter_launch_path_imports_no_torch():
    # launch/convert.py reads src and validates before any job starts: that must stay light.
    code = "import sys, cj2.models.convert, cj2.models.convert_config; sys.exit('torch' in sys.modules or 'megatron' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
