"""Megatron GPTModel == transformers, at TP=1, TP=2, PP=2, TP=2 x PP=2 and TP=2 with sequence
parallelism (one torchrun launch).

Each tiny random-init HF model is saved by transformers, loaded by cj2 into GPTModel at four
layouts; the logits must equal transformers' own forward to 1e-5, and the HF export of every
layout must reproduce every source tensor bit for bit and load with AutoModelForCausalLM.
Two deliberately wrong mappings (naive [Q;K;V], gate/up swapped) must fail the same check.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from tests.dist import run_torchrun
from tests.models.hf_fixtures import SEQ, VOCAB, reference_logits, save_tiny, tiny_hf_model

WORKER = Path(__file__).parent / "workers" / "hf_parity_worker.py"
MODELS = {"qwen2_untied": ("qwen2", False), "qwen2_tied": ("qwen2", True), "llama_untied": ("llama", False)}
LAYOUTS = ((1, 1, ""), (2, 1, ""), (1, 2, ""), (2, 2, ""), (2, 1, "_sp"))  # (tp, pp, sequence-parallel tag)
ATOL = 1e-5


def hf_tensors(hf_dir: Path) -> dict:
    tensors = {}
    for path in sorted(hf_dir.glob("*.safetensors")):
        with safe_open(str(path), "pt") as f:
            tensors.update({k: f.get_tensor(k) for k in f.keys()})
    return tensors


def assert_logits_close(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    assert actual.shape == expected.shape, f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
    diff = (actual - expected).abs().max().item()
    assert diff <= ATOL, f"{what}: logits differ from transformers by {diff:.3g} (> {ATOL})"


@pytest.fixture(scope="module")
def parity_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("hf_parity")
    torch.manual_seed(1234)
    input_ids = torch.randint(0, VOCAB, (2, SEQ))
    save_file({"input_ids": input_ids}, str(work / "inputs.safetensors"))
    references = {}
    for name, (family, tied) in MODELS.items():
        model = tiny_hf_model(family, tied)
        save_tiny(model, work / name)
        references[name] = reference_logits(model, input_ids)
    run_torchrun(WORKER, nproc=4, args=[str(work), *MODELS, "--wrong-mappings"], timeout=540)
    return work, input_ids, references


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("tp,pp,sp", LAYOUTS)
def test_logits_match_transformers(parity_run, name, tp, pp, sp):
    work, _, references = parity_run
    logits = load_file(str(work / f"logits_{name}_tp{tp}_pp{pp}{sp}.safetensors"))["logits"]
    assert_logits_close(logits, references[name], f"{name} tp={tp} pp={pp}{sp}")


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.parametrize("broken", ["naive_qkv", "swapped_gate_up"])
def test_wrong_mapping_is_caught(parity_run, broken):
    work, _, references = parity_run
    logits = load_file(str(work / f"logits_qwen2_untied_tp1_pp1_{broken}.safetensors"))["logits"]
    with pytest.raises(AssertionError, match="logits differ"):
        assert_logits_close(logits, references["qwen2_untied"], broken)


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("tp,pp,sp", LAYOUTS)
def test_export_round_trip_is_bit_identical(parity_run, name, tp, pp, sp):
    work, _, _ = parity_run
    source, exported = hf_tensors(work / name), hf_tensors(work / f"export_{name}_tp{tp}_pp{pp}{sp}")
    assert sorted(exported) == sorted(source)
    for key, tensor in source.items():
        assert exported[key].dtype == tensor.dtype, key
        assert torch.equal(exported[key], tensor), f"{key} changed in the HF -> megatron(tp={tp}, pp={pp}) -> HF round trip"


@pytest.mark.slow
@pytest.mark.distributed
@pytest.mark.parametrize("name", list(MODELS))
def test_export_loads_with_transformers(parity_run, name):
    from transformers import AutoModelForCausalLM

    work, input_ids, references = parity_run
    export = work / f"export_{name}_tp2_pp2"
    assert (export / "model.safetensors.index.json").is_file()  # small shard size: several files
    assert (export / "generation_config.json").is_file()
    model = AutoModelForCausalLM.from_pretrained(str(export), dtype=torch.float32).eval()
    assert model.config.tie_word_embeddings == MODELS[name][1]
    assert_logits_close(reference_logits(model, input_ids), references[name], f"{name} exported")
