"""The planner's arithmetic against independent references."""

from __future__ import annotations

import pytest
import torch

from cj2.config import compose
from cj2.config.plan import GIB, memory_plan, parameter_count, run_plan


@pytest.mark.parametrize("model", ["tiny", "qwen2.5-7b", "qwen2.5-14b", "qwen2.5-32b"])
def test_parameter_count_equals_transformers(model):
    from transformers import Qwen2Config, Qwen2ForCausalLM

    m = compose([f"model={model}"]).model
    hf = Qwen2Config(vocab_size=m.vocab_size, hidden_size=m.hidden_size, intermediate_size=m.ffn_hidden_size, num_hidden_layers=m.num_layers, num_attention_heads=m.num_attention_heads, num_key_value_heads=m.num_query_groups, tie_word_embeddings=m.tie_word_embeddings)
    with torch.device("meta"):  # the real 32B shape, no memory
        n = sum(p.numel() for p in Qwen2ForCausalLM(hf).parameters())
    assert parameter_count(m) == n


def test_memory_terms_by_hand():
    """Catches: the untied output layer left out at PP=1 (~2.3 GiB at 7B), SwiGLU's activations
    counted as a 4h GeLU MLP, SP not splitting the norm/matmul inputs."""
    cfg = compose(["+exp=margin_7b"])
    plan = memory_plan(cfg)
    n = parameter_count(cfg.model)
    h, v, s, t, dp, kv, f = 3584, 152064, 8192, 2, 4, 4 * 128, 18944
    per_gpu = n / t  # TP2, PP1: one stage holds every weight, embedding and output layer alike
    assert plan.params_per_gpu == pytest.approx(per_gpu)
    assert plan.weights_gib == pytest.approx(per_gpu * 2 / GIB)
    assert plan.grads_gib == pytest.approx(per_gpu * 4 / GIB)
    assert plan.optimizer_gib == pytest.approx(per_gpu * 12 / dp / GIB)
    # Per layer, bf16: norm inputs 2 x 2sh, qkv and fc1 inputs 2 x 2sh, q/k/v 2s(h + 2kv),
    # attention output 2sh, SwiGLU gate+up 2s(2f) and its product 2sf; SP splits all over t.
    per_layer = (4 * s * h + 4 * s * h + 2 * s * (h + 2 * kv) + 2 * s * h + 4 * s * f + 2 * s * f) / t
    assert plan.activations_gib == pytest.approx(28 * per_layer / GIB)
    assert plan.logits_gib == pytest.approx(2 * s * v / t * 4 / GIB)
    without_sp = memory_plan(compose(["+exp=margin_7b", "parallel.sp=false"]))
    assert without_sp.activations_gib == pytest.approx(28 * (per_layer - 8 * s * h / t + 8 * s * h) / GIB)


def test_pipeline_stages_hold_the_embedding_or_the_output_layer():
    cfg = compose(["+exp=margin_32b"])
    m = cfg.model
    body = (parameter_count(m) - 2 * m.vocab_size * m.hidden_size) / 2
    assert memory_plan(cfg).params_per_gpu == pytest.approx((body + m.vocab_size * m.hidden_size) / 8)


def test_recompute_modes_and_distributed_optimizer_shrink_the_plan():
    none = memory_plan(compose(["+exp=margin_32b", "parallel.recompute=none"])).activations_gib
    selective = memory_plan(compose(["+exp=margin_32b", "parallel.recompute=selective"])).activations_gib
    full = memory_plan(compose(["+exp=margin_32b", "parallel.recompute=full"])).activations_gib
    assert full < selective / 10 and selective < none
    assert compose(["+exp=margin_32b"]).parallel.recompute == "selective"  # fits without full recompute
    full_opt = compose(["+exp=margin_7b", "parallel.use_distributed_optimizer=false"])
    assert memory_plan(full_opt).optimizer_gib == pytest.approx(4 * memory_plan(compose(["+exp=margin_7b"])).optimizer_gib)


def test_step_and_save_estimates_by_hand():
    from cj2.config.plan import ASSUMED_MFU, save_seconds, step_seconds

    cfg = compose(["+exp=margin_7b"])
    n, tokens = parameter_count(cfg.model), 512 * 8192
    flops = 6 * n * tokens + 12 * 28 * 3584 * 8192 * tokens
    assert step_seconds(cfg) == pytest.approx(flops / (8 * 989e12 * ASSUMED_MFU))
    assert save_seconds(cfg) == pytest.approx(n * 14 / (1 * 2.0e9))


def test_run_plan_counts_steps_and_tokens():
    cfg = compose(["+exp=margin_7b"])
    plan = run_plan(cfg, dataset_tokens=10 * 512 * 8192 + 5)
    assert plan["world_size"] == 8 and plan["steps"] == 10 and plan["total_tokens"] == 10 * 512 * 8192
    assert plan["micro_batches_per_step"] == 512 // 4 and plan["fits"] is True
