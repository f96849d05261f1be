"""A HF checkpoint that does not fit the config fails before any weight loads, naming file and field."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file, save_file

from cj2.models.hf_config import HFConfigError, model_config_from_hf
from cj2.models.hf_io import CheckpointMismatch, check_hf_checkpoint
from tests.models.hf_fixtures import tiny_hf_model


@pytest.fixture
def hf_dir(tmp_path):
    out = tmp_path / "hf"
    tiny_hf_model("qwen2", tied=False).save_pretrained(str(out))  # one model.safetensors
    return out


def test_matching_checkpoint_passes(hf_dir):
    model_cfg = model_config_from_hf(hf_dir)
    assert "model.layers.1.self_attn.k_proj.bias" in check_hf_checkpoint(hf_dir, model_cfg).tensors


def test_vocabulary_mismatch_is_a_config_error(hf_dir):
    model_cfg = model_config_from_hf(hf_dir)
    model_cfg.vocab_size = 512
    with pytest.raises(HFConfigError, match="model.vocab_size=512 but the checkpoint has vocab_size=256"):
        check_hf_checkpoint(hf_dir, model_cfg)


def test_wrong_shape_and_dtype_name_the_file_and_tensor(hf_dir):
    path = hf_dir / "model.safetensors"
    tensors = load_file(str(path))
    tensors["model.layers.0.mlp.up_proj.weight"] = tensors["model.layers.0.mlp.up_proj.weight"][:-1].contiguous()
    tensors["model.norm.weight"] = torch.ones(64, dtype=torch.int32)
    del tensors["model.layers.1.self_attn.v_proj.bias"]
    save_file(tensors, str(path))
    with pytest.raises(CheckpointMismatch) as error:
        check_hf_checkpoint(hf_dir, model_config_from_hf(hf_dir))
    message = str(error.value)
    assert "3 problem(s)" in message
    assert "model.safetensors: model.layers.0.mlp.up_proj.weight has shape [95, 64], the config needs [96, 64]" in message
    assert "model.norm.weight has dtype I32" in message
    assert "model.layers.1.self_attn.v_proj.bias: missing" in message


def test_pickle_checkpoints_are_refused(hf_dir):
    (hf_dir / "model.safetensors").rename(hf_dir / "pytorch_model.bin")
    with pytest.raises(CheckpointMismatch, match="pickle checkpoints are not loaded"):
        check_hf_checkpoint(hf_dir, model_config_from_hf(hf_dir))
