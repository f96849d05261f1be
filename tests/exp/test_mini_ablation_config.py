"""+exp=mini_ablation: the four losses compose onto one data build, and the model preset is SmolLM2's."""

from __future__ import annotations

import pytest

from cj2.config.compose import compose
from cj2.data.job import config_hash

LOSSES = ("none", "dpo_noref", "temperature", "margin")


@pytest.mark.parametrize("exp", ["mini_ablation", "mini_ablation_gpu"])
def test_four_losses_share_one_data_build(exp):
    """Catches: anything loss-dependent in the data section (e.g. data.output_dir naming the
    loss), which would give four builds and four different training sets for one comparison.
    Planted: ``output_dir: outputs/data/mini_ablation-${loss.name}`` -> four hashes."""
    configs = {loss: compose([f"+exp={exp}", f"loss={loss}"]) for loss in LOSSES}
    assert [c.loss.name for c in configs.values()] == list(LOSSES)
    assert len({config_hash(c) for c in configs.values()}) == 1
    assert len({c.data.output_dir for c in configs.values()}) == 1
    # A seed is its own build (data.seed orders the rows), again shared by the four losses.
    other = [compose([f"+exp={exp}", f"loss={loss}", "seed=2"]) for loss in LOSSES]
    assert len({config_hash(c) for c in other}) == 1 and config_hash(other[0]) != config_hash(configs["none"])
    assert other[0].data.output_dir != configs["none"].data.output_dir


def test_model_preset_matches_the_converted_checkpoint(tmp_path):
    """Catches: an architecture number that differs from SmolLM2's config.json (training would
    stop at the checkpoint check), or a tokenizer that is not the checkpoint's own.
    Planted: ``num_query_groups: 9`` (MHA instead of 3 KV heads) -> a listed mismatch."""
    from cj2.models import bundled_smollm2
    from cj2.models.hf_config import config_mismatches, model_config_from_hf

    if bundled_smollm2.gguf_path() is None:
        pytest.skip(f"SmolLM2 GGUF not installed: {bundled_smollm2.INSTALL_HINT}")
    hf_dir = bundled_smollm2.install(tmp_path / "models")
    cfg = compose(["+exp=mini_ablation", f"model.hf_path={hf_dir}"])
    assert config_mismatches(model_config_from_hf(hf_dir), cfg.model) == []
    assert cfg.model.tokenizer == str(hf_dir)
    from cj2.data.packed.tokenizer import load_tokenizer

    tokenizer = load_tokenizer(cfg.model.tokenizer)
    assert len(tokenizer) <= cfg.model.vocab_size and tokenizer.convert_tokens_to_ids("<|im_end|>") == 2
