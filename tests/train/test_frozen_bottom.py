"""A frozen bottom with cached hidden states computes what the whole model computes.

The reference is transformers' forward of the whole checkpoint, one sample at a time. cj2's
top model (``model.frozen_layers=2`` of 4) reads the cached output of layers 0-1 for packed rows
(several samples per row, positions restarting per sample) and must give the same logits at
every verdict position: the gold and other label logits, the log-sum-exp and the argmax.
"""

from __future__ import annotations

import os
import random

import pytest
import torch

from cj2.config.schema import ModelConfig, ParallelConfig
from cj2.data.packed.packing import write_tokenized
from cj2.data.packed.stream import PackedDataset
from cj2.data.packed.tokenize import TokenizedSample
from tests.dist import free_port
from tests.models.hf_fixtures import save_tiny

VOCAB, LAYERS, FROZEN = 256, 4, 2


def tiny_llama(out_dir):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=96, num_hidden_layers=LAYERS, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=500_000.0, tie_word_embeddings=True)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            param.copy_(1 + 0.1 * torch.randn_like(param) if "norm" in name else 0.2 * torch.randn_like(param))
    save_tiny(model, out_dir)
    return model


def model_config(hf_dir, frozen: int) -> ModelConfig:
    return ModelConfig(name="tiny-llama", family="llama", num_layers=LAYERS, hidden_size=64, ffn_hidden_size=96, num_attention_heads=4,
                       num_query_groups=2, vocab_size=VOCAB, max_position_embeddings=128, rope_theta=500_000.0, rms_norm_eps=1e-6,
                       qkv_bias=False, tie_word_embeddings=True, hf_path=str(hf_dir), tokenizer=str(hf_dir), attention="sdpa", frozen_layers=frozen)


def samples(count: int, seed: int = 3) -> list[TokenizedSample]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        n = rng.randint(5, 14)
        ids = [rng.randrange(VOCAB) for _ in range(n)]
        verdict = rng.randint(2, n - 1)
        label, opposite = rng.sample(range(VOCAB), 2)
        ids[verdict] = label
        mask = [0] * verdict + [1] * (n - verdict)
        out.append(TokenizedSample(ids, mask, verdict_index=verdict, label_id=label, opposite_id=opposite))
    return out


@pytest.fixture
def one_rank():
    from megatron.core import parallel_state

    from cj2 import cpu_shims

    cpu_shims.apply()
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ["MASTER_PORT"] = str(free_port())
    torch.distributed.init_process_group("gloo", rank=0, world_size=1)
    parallel_state.initialize_model_parallel(1, 1)
    yield
    parallel_state.destroy_model_parallel()
    torch.distributed.destroy_process_group()


def reference(hf_model, sample: TokenizedSample) -> dict:
    with torch.no_grad():
        z = hf_model(input_ids=torch.tensor([sample.input_ids])).logits[0, sample.verdict_index - 1]
    return {"z_label": z[sample.label_id].item(), "z_opposite": z[sample.opposite_id].item(),
            "logsumexp": torch.logsumexp(z, -1).item(), "argmax_id": int(z.argmax())}


def test_top_model_on_cached_states_gives_the_whole_models_verdict_logits(tmp_path, one_rank):
    """Mutants killed: the cache taken after the final norm (the bottom's norm kept); the hidden
    states ignored (no decoder_input: the top reads the embeddings); the layer offset dropped from
    the HF mapping (the top loads layers 0-1); verdicts numbered in packed order instead of by
    the sample index the packer kept."""
    from cj2.models import build_model, load_hf_weights
    from cj2.models.frozen_bottom import write_cache
    from cj2.train.verdict_logits import verdict_logits

    hf_dir = tmp_path / "hf"
    hf_model = tiny_llama(hf_dir)
    items = samples(12)
    write_tokenized(items, tmp_path / "packed", seq_length=40, pad_id=0, packing=True)
    data = PackedDataset(tmp_path / "packed")
    assert len(data) < len(items), "rows must hold several samples for this test to mean anything"
    hidden_dir = write_cache(hf_dir, FROZEN, tmp_path / "packed", dtype="float32", progress=False)

    cfg = model_config(hf_dir, FROZEN)
    model = build_model(cfg, ParallelConfig(), initialize=False)
    load_hf_weights(model, hf_dir, cfg)
    assert len(model.decoder.layers) == LAYERS - FROZEN
    assert not model.embedding.word_embeddings.weight.requires_grad
    got = verdict_logits(model, PackedDataset(tmp_path / "packed", hidden_dir=hidden_dir), rows_per_batch=2)
    assert [r["index"] for r in got] == list(range(len(items)))
    for record, sample in zip(got, items, strict=True):
        want = reference(hf_model, sample)
        for key in ("z_label", "z_opposite", "logsumexp"):
            assert record[key] == pytest.approx(want[key], abs=1e-4), (record["index"], key)
        assert record["argmax_id"] == want["argmax_id"]
        assert (record["label_id"], record["opposite_id"]) == (sample.label_id, sample.opposite_id)


def test_a_stale_or_missing_cache_is_refused_with_the_command(tmp_path):
    """Mutants killed: a cache of another layer count accepted; a cache whose packed rows changed accepted."""
    from cj2.models.frozen_bottom import HiddenStatesMissing, require_cache, write_cache

    hf_dir = tmp_path / "hf"
    tiny_llama(hf_dir)
    write_tokenized(samples(4), tmp_path / "packed", seq_length=40, pad_id=0)
    with pytest.raises(HiddenStatesMissing, match="python -m cj2.models.frozen_bottom --checkpoint"):
        require_cache(tmp_path / "packed", hf_dir, FROZEN)
    write_cache(hf_dir, 1, tmp_path / "packed", dtype="float32", progress=False)
    with pytest.raises(HiddenStatesMissing):
        require_cache(tmp_path / "packed", hf_dir, FROZEN)  # hidden-1 is not hidden-2
    write_cache(hf_dir, FROZEN, tmp_path / "packed", dtype="float32", progress=False)
    assert require_cache(tmp_path / "packed", hf_dir, FROZEN).name == f"hidden-{FROZEN}"
    write_tokenized(samples(5, seed=9), tmp_path / "packed", seq_length=40, pad_id=0)  # other rows, same dir
    with pytest.raises(HiddenStatesMissing, match="packed_index"):
        require_cache(tmp_path / "packed", hf_dir, FROZEN)


def test_the_export_of_a_frozen_bottom_run_is_the_whole_model(tmp_path, one_rank):
    """The frozen layers and the embedding come from the source checkpoint bit for bit; the
    trained top is what the model holds. Mutant killed: the bottom left out of the export."""
    from safetensors import safe_open

    from cj2.models import build_model, export_hf, load_hf_weights

    hf_dir = tmp_path / "hf"
    tiny_llama(hf_dir)
    cfg = model_config(hf_dir, FROZEN)
    model = build_model(cfg, ParallelConfig(), initialize=False)
    load_hf_weights(model, hf_dir, cfg)
    with torch.no_grad():
        model.decoder.layers[0].mlp.linear_fc2.weight.add_(1.0)  # "training" changed the top
    export_hf(model, tmp_path / "out", cfg, None)

    def tensors(root):
        out = {}
        for path in sorted(root.glob("*.safetensors")):
            with safe_open(str(path), "pt") as f:
                out.update({k: f.get_tensor(k) for k in f.keys()})
        return out

    source, exported = tensors(hf_dir), tensors(tmp_path / "out")
    assert set(exported) == set(source) - {"lm_head.weight"}
    for name, tensor in source.items():
        if name == "lm_head.weight":
            continue
        changed = name == f"model.layers.{FROZEN}.mlp.down_proj.weight"
        assert torch.equal(exported[name], tensor) != changed, name
