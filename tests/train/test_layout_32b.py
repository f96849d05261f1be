"""The 32B preset's layout combination (TP x PP with sequence parallelism, the distributed
optimizer, an untied output layer, the preset's recompute setting) trains like one process and
resumes from a mid-run checkpoint to the same next step.

The layout tests (test_layouts.py) try TP, PP and DP one at a time; this one runs them together
in miniature (TP2 x PP2 on 4 gloo ranks) through layout_32b_worker.py, on packed THD rows with
verdicts, and compares every step's loss parts and every gradient with one process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.dist import run_torchrun
from tests.train.layout_32b_worker import MODEL, SAVED_AT, SEQ, STEPS

WORKER = Path(__file__).with_name("layout_32b_worker.py")


def tiny_hf_checkpoint(out_dir: Path) -> Path:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(vocab_size=MODEL["vocab_size"], hidden_size=MODEL["hidden_size"], intermediate_size=MODEL["ffn_hidden_size"], num_hidden_layers=MODEL["num_layers"],
                         num_attention_heads=MODEL["num_attention_heads"], num_key_value_heads=MODEL["num_query_groups"], max_position_embeddings=MODEL["max_position_embeddings"],
                         rope_theta=1_000_000.0, rms_norm_eps=1e-6, tie_word_embeddings=False)
    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(out_dir)
    return out_dir


def judge_rows(out_dir: Path) -> None:
    """Packed rows of judge-like samples: a prompt, a learned judgment, a verdict in most."""
    from cj2.data.packed.packing import write_tokenized
    from cj2.data.packed.tokenize import TokenizedSample

    samples = []
    for i in range(36):
        n = 6 + (7 * i) % 15
        ids = [(11 * i + 5 * j) % 250 + 1 for j in range(n)]
        s = TokenizedSample(ids, [0] * (n // 2) + [1] * (n - n // 2))
        if i % 4:
            s.verdict_index, s.label_id, s.opposite_id = n - 2, ids[n - 2], (ids[n - 2] + 7) % 250 + 1
        samples.append(s)
    write_tokenized(samples, out_dir / "train", SEQ, pad_id=0)


def grads(out: Path, name: str) -> dict[str, torch.Tensor]:
    return {k: v for part in sorted((out / f"grads_{name}").glob("*.safetensors")) for k, v in load_file(str(part)).items()}


@pytest.mark.slow
@pytest.mark.distributed
def test_the_32b_layout_in_miniature_trains_like_one_process_and_resumes(tmp_path):
    """Every step's loss parts and every gradient match one process to 1e-6 (grad norm: relative
    1e-6); the run resumed from the step-2 checkpoint repeats steps 3 and 4 bit for bit.

    Catches (each planted and seen to fail): the sequence-parallel norm weights left untagged in
    cj2/models/norm.py (their gradients not reduced over TP: the grad norm differs from step 1), the
    selected logits read from the sequence-parallel shard without gathering it
    (cj2/train/selected_logits.py: the layout run fails), and a resume that restores the weights but
    not the optimizer state (cj2/models/checkpoint.py: step 4 differs). Runtime ~95 s on 2 shared
    cores (4 gloo ranks, then one process).
    """
    hf, data = tiny_hf_checkpoint(tmp_path / "hf"), tmp_path / "data"
    judge_rows(data)
    outs = {name: tmp_path / f"out_{name}" for name in ("one", "layout")}
    for name, nproc in (("one", 1), ("layout", 4)):
        outs[name].mkdir()
        run_torchrun(WORKER, nproc, [name, str(hf), str(data), str(tmp_path / f"run_{name}"), str(outs[name])], timeout=900)
    one, layout = (json.loads((outs[n] / "steps.json").read_text()) for n in ("one", "layout"))
    assert [s["rows"] for s in one] == [s["rows"] for s in layout] and len(one) == STEPS
    for a, b in zip(one, layout, strict=True):
        for part in ("loss", "sft", "pg"):
            assert b[part] == pytest.approx(a[part], abs=1e-6), (a["step"], part, a[part], b[part])
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-6)
        assert a["pg"] > 0  # the verdict terms are part of what is compared
        ref, got = grads(outs["one"], f"step{a['step']}"), grads(outs["layout"], f"step{a['step']}")
        assert ref.keys() == got.keys() and "lm_head.weight" in ref and "model.embed_tokens.weight" in ref
        for name in ref:
            torch.testing.assert_close(got[name], ref[name], rtol=0, atol=1e-6, msg=lambda m, n=name, s=a["step"]: f"step {s} {n}: {m}")

    resumed = json.loads((outs["layout"] / "resumed.json").read_text())
    assert [r["step"] for r in resumed] == list(range(SAVED_AT + 1, STEPS + 1))
    for again, uninterrupted in zip(resumed, layout[SAVED_AT:], strict=True):
        assert again == uninterrupted  # rows, loss parts and grad norm, exactly
        a, b = grads(outs["layout"], f"resumed{again['step']}"), grads(outs["layout"], f"step{again['step']}")
        assert a.keys() == b.keys() and all(torch.equal(a[n], b[n]) for n in b), again["step"]
