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
    cfg = compose(["+exp=margin_7b"])
    plan = memory_plan(cfg)
    n = parameter_count(cfg.model)
    h, v, s, t, dp = 3584, 152064, 8192, 2, 4
    per_gpu = (n - v * h) / t  # TP2, PP1: everything split by 2 (embedding and output alike)
    assert plan.params_per_gpu == pytest.approx(per_gpu)
    assert plan.weights_gib == pytest.approx(per_gpu * 2 / GIB)
    assert plan.grads_gib == pytest.approx(per_gpu * 4 / GIB)
    assert plan.optimizer_gib == pytest.approx(per_gpu * 12 / dp / GIB)
    assert plan.activations_gib == pytest.approx(28 * s * h * 34 / t / GIB)  # SP, no recompute
    assert plan.logits_gib == pytest.approx(2 * s * v / t * 4 / GIB)


def test_recompute_and_distributed_optimizer_shrink_the_plan():
    base = compose(["+exp=margin_32b", "parallel.recompute=false"])
    lean = compose(["+exp=margin_32b"])
    assert memory_plan(lean).activations_gib < memory_plan(base).activations_gib / 10
    full_opt = compose(["+exp=margin_7b", "parallel.use_distributed_optimizer=false"])
    assert memory_plan(full_opt).optimizer_gib == pytest.approx(4 * memory_plan(compose(["+exp=margin_7b"])).optimizer_gib)


def test_run_plan_counts_steps_and_tokens():
    cfg = compose(["+exp=margin_7b"])
    plan = run_plan(cfg, dataset_tokens=10 * 512 * 8192 + 5)
    assert plan["world_size"] == 8 and plan["steps"] == 10 and plan["total_tokens"] == 10 * 512 * 8192
    assert plan["micro_batches_per_step"] == 512 // 4 and plan["fits"] is True
