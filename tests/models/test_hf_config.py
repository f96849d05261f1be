"""HF config.json <-> cj2 ModelConfig (no torch): presets match the published configs."""

from __future__ import annotations

import json

import pytest

from cj2.config import compose
from cj2.models.hf_config import HFConfigError, check_hf_config, hf_config_dict, model_config_from_hf

# The published Qwen2.5-7B-Instruct config.json (transformers 4.x layout), verbatim fields.
QWEN25_7B = {
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643, "eos_token_id": 151645,
    "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 18944,
    "max_position_embeddings": 32768, "max_window_layers": 28, "model_type": "qwen2", "num_attention_heads": 28,
    "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
    "sliding_window": 131072, "tie_word_embeddings": False, "torch_dtype": "bfloat16", "transformers_version": "4.43.1",
    "use_cache": True, "use_sliding_window": False, "vocab_size": 152064,
}


def test_published_qwen25_7b_config_matches_the_preset():
    preset = compose(["model=qwen2.5-7b"]).model
    parsed = model_config_from_hf(QWEN25_7B)
    assert check_hf_config(QWEN25_7B, preset) == parsed
    assert (parsed.family, parsed.num_query_groups, parsed.qkv_bias, parsed.rope_theta) == ("qwen2", 4, True, 1e6)


def test_mismatches_are_all_listed_with_both_values(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(QWEN25_7B))
    preset = compose(["model=qwen2.5-14b"]).model
    with pytest.raises(HFConfigError) as error:
        check_hf_config(tmp_path, preset)
    message = str(error.value)
    assert str(tmp_path) in message
    for line in ("model.num_layers=48 but the checkpoint has num_hidden_layers=28", "model.hidden_size=5120 but the checkpoint has hidden_size=3584", "model.num_query_groups=8 but the checkpoint has num_key_value_heads=4"):
        assert line in message


def test_transformers5_rope_parameters_and_llama():
    from transformers import LlamaConfig

    hf = LlamaConfig(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, rope_theta=500000.0).to_dict()
    assert "rope_theta" not in hf  # transformers 5 moved it into rope_parameters
    parsed = model_config_from_hf(hf)
    assert (parsed.family, parsed.qkv_bias, parsed.rope_theta, parsed.num_query_groups) == ("llama", False, 500000.0, 2)


@pytest.mark.parametrize(
    "change, field",
    [({"model_type": "mistral"}, "model_type"), ({"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}, "rope"), ({"hidden_act": "gelu"}, "hidden_act"), ({"use_sliding_window": True}, "use_sliding_window")],
)
def test_unsupported_features_fail_clearly(change, field):
    with pytest.raises(HFConfigError, match=field):
        model_config_from_hf({**QWEN25_7B, **change})


def test_written_config_reads_back_in_transformers():
    from transformers import AutoConfig

    preset = compose(["model=qwen2.5-7b"]).model
    written = hf_config_dict(preset, "bfloat16", {"eos_token_id": 151645})
    assert model_config_from_hf(written) == model_config_from_hf(QWEN25_7B)
    loaded = AutoConfig.for_model(**written)
    assert (loaded.num_key_value_heads, loaded.intermediate_size, loaded.vocab_size) == (4, 18944, 152064)
