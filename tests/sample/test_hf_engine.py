"""The hf engine on real models: a random tiny Qwen2 and SmolLM2-135M-Instruct (from its GGUF)."""

from __future__ import annotations

import json

import pytest

from cj2.sample.engines import build_engine

PROMPTS = [
    [{"role": "user", "content": "Which answer is better, A or B?"}],
    [{"role": "system", "content": "You are a careful judge."}, {"role": "user", "content": "Is 17 larger than 25?"}],
]


@pytest.fixture(scope="module")
def tiny_engine(tiny_qwen2_dir):
    engine = build_engine("hf", model=str(tiny_qwen2_dir), device="cpu")
    yield engine
    engine.close()


def test_exactly_n_candidates_per_prompt_and_usage(tiny_engine):
    before = tiny_engine.usage.snapshot()
    out = tiny_engine.generate(PROMPTS, n=3, temperature=1.0, top_p=0.95, max_tokens=6, seed=7)
    assert [len(c) for c in out] == [3, 3]
    assert all(isinstance(t, str) for c in out for t in c)
    used = tiny_engine.usage.minus(before)
    assert used.requests == 2
    assert 0 < used.completion_tokens <= 2 * 3 * 6
    assert used.prompt_tokens == sum(tiny_engine.prompt_ids(p).shape[1] for p in PROMPTS)


def test_seeded_sampling_is_reproducible_and_independent_of_the_batch(tiny_engine):
    both = tiny_engine.generate(PROMPTS, n=3, temperature=1.0, top_p=0.95, max_tokens=6, seed=[11, 12])
    alone = tiny_engine.generate(PROMPTS[1:], n=3, temperature=1.0, top_p=0.95, max_tokens=6, seed=[12])
    assert both[1] == alone[0]  # an item's candidates depend on its seed only: resumed shards repeat them
    other = tiny_engine.generate(PROMPTS[1:], n=3, temperature=1.0, top_p=0.95, max_tokens=6, seed=[13])
    assert other[0] != alone[0]
    assert len(set(alone[0])) == 3  # the n candidates are different samples, not one copied


def test_shared_prefill_decodes_what_plain_generate_decodes(tiny_engine):
    import torch

    from cj2.sample.engines.hf import until_stop

    greedy = tiny_engine.generate(PROMPTS[:1], n=2, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)[0]
    ids = tiny_engine.prompt_ids(PROMPTS[0])
    with torch.inference_mode():
        plain = tiny_engine.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=8, pad_token_id=151643)
    reference = tiny_engine.tokenizer.decode(until_stop(plain[0, ids.shape[1]:].tolist(), tiny_engine.stop_ids), skip_special_tokens=True)
    assert greedy == [reference, reference]


@pytest.mark.parametrize("bad", [dict(n=0), dict(temperature=-1.0), dict(top_p=0.0), dict(max_tokens=0)])
def test_rejects_impossible_sampling_arguments(tiny_engine, bad):
    args = dict(n=2, temperature=1.0, top_p=0.9, max_tokens=4, seed=0) | bad
    with pytest.raises(ValueError):
        tiny_engine.generate(PROMPTS[:1], **args)


def test_smollm2_converted_from_gguf(smollm2_dir):
    config = json.loads((smollm2_dir / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"] and "quantization_config" not in config
    assert json.loads((smollm2_dir / "generation_config.json").read_text())["do_sample"] is True
    engine = build_engine("hf", model=str(smollm2_dir), device="cpu")
    prompt = [[{"role": "user", "content": "What is the capital of France? Answer in one word."}]]
    greedy = engine.generate(prompt, n=1, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)[0][0]
    assert "paris" in greedy.lower()  # a real instruct model, not noise
    sampled = engine.generate(prompt, n=3, temperature=1.0, top_p=0.95, max_tokens=8, seed=3)[0]
    assert len(sampled) == 3 and all(sampled)
    engine.close()


def test_a_gguf_path_names_its_directory_and_file():
    from cj2.sample.engines.hf_loading import split_gguf

    # (converting the GGUF above already loaded it through this path; a second full load costs ~45 s)
    assert split_gguf("/models/smol/SmolLM2.Q4_1.gguf") == ("/models/smol", "SmolLM2.Q4_1.gguf")
    assert split_gguf("/models/qwen") == ("/models/qwen", None)
