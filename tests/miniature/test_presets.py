"""+exp=mini_table4: the losses of a seed share one data build, seeds do not, and SmolLM2's preset matches its checkpoint."""

from __future__ import annotations

import pytest

from cj2.config.compose import compose
from cj2.data.job import config_hash
from cj2.miniature.runs import run_config

LOSSES = ("none", "dpo_noref", "temperature", "margin")


@pytest.mark.parametrize("exp", ["mini_table4", "mini_table4_gpu"])
def test_the_losses_of_a_seed_share_one_data_build(exp):
    """Catches: anything loss-dependent in a run's data section (which would give every loss its
    own build, and the comparison four training sets), and a seed that does not change the data.
    Planted: ``run.data.output_dir`` naming the loss in run_config -> four directories."""
    cfg = compose([f"+exp={exp}"])
    runs = {(loss, seed): run_config(cfg, loss, seed) for loss in LOSSES for seed in (1, 2)}
    assert {r.loss.name for r in runs.values()} == set(LOSSES)
    assert runs[("margin", 1)].loss.gamma == 10.0 and runs[("dpo_noref", 1)].loss.beta == 0.1 and runs[("temperature", 1)].loss.tau == 5.0
    for seed in (1, 2):
        same = [runs[(loss, seed)] for loss in LOSSES]
        assert len({config_hash(r) for r in same}) == 1 and len({r.data.output_dir for r in same}) == 1
        assert len({r.run_dir for r in same}) == len(LOSSES)
    assert config_hash(runs[("none", 1)]) != config_hash(runs[("none", 2)])


def test_model_preset_matches_the_converted_checkpoint(tmp_path):
    """Catches: an architecture number that differs from SmolLM2's config.json (training would
    stop at the checkpoint check), or a tokenizer that is not the checkpoint's own.
    Planted: ``num_query_groups: 9`` (MHA instead of 3 KV heads) -> a listed mismatch."""
    from cj2.models import bundled_smollm2
    from cj2.models.hf_config import config_mismatches, model_config_from_hf

    if bundled_smollm2.gguf_path() is None:
        pytest.skip(f"SmolLM2 GGUF not installed: {bundled_smollm2.INSTALL_HINT}")
    hf_dir = bundled_smollm2.install(tmp_path / "models")
    cfg = compose(["+exp=mini_table4", f"model.hf_path={hf_dir}"])
    assert config_mismatches(model_config_from_hf(hf_dir), cfg.model) == []
    assert cfg.model.tokenizer == str(hf_dir)
