"""AdamW (megatron's optimizer: fp32 main weights, global grad-norm clipping, optional
distributed state) and a cosine learning-rate schedule with linear warm-up."""

from __future__ import annotations

import math

import torch

from cj2 import cpu_shims


def build_optimizer(model, train_cfg, parallel_cfg, params_dtype: torch.dtype):
    from megatron.core.optimizer import OptimizerConfig, get_megatron_optimizer

    config = OptimizerConfig(
        optimizer="adam",  # torch AdamW: decoupled weight decay
        lr=train_cfg.lr,
        min_lr=train_cfg.min_lr,
        weight_decay=train_cfg.weight_decay,
        adam_beta1=train_cfg.adam_beta1,
        adam_beta2=train_cfg.adam_beta2,
        adam_eps=train_cfg.adam_eps,
        clip_grad=train_cfg.grad_clip,
        bf16=params_dtype == torch.bfloat16,
        params_dtype=params_dtype,
        use_distributed_optimizer=parallel_cfg.use_distributed_optimizer,
    )
    with cpu_shims.cuda_literals_to_cpu():
        return get_megatron_optimizer(config, [model])


def build_scheduler(optimizer, train_cfg, total_steps: int):
    """Linear warm-up over ``warmup_fraction`` of the steps, then cosine decay to ``min_lr``.

    Biases and norm weights get no weight decay (megatron's parameter groups).
    """
    from megatron.core.optimizer_param_scheduler import OptimizerParamScheduler

    # Megatron needs the warm-up to end before the decay does: a run of a step or two has none.
    warmup = min(math.ceil(train_cfg.warmup_fraction * total_steps), total_steps - 1)
    return OptimizerParamScheduler(
        optimizer,
        init_lr=0.0,
        max_lr=train_cfg.lr,
        min_lr=train_cfg.min_lr,
        lr_warmup_steps=warmup,
        lr_decay_steps=total_steps,
        lr_decay_style="cosine",
        start_wd=train_cfg.weight_decay,
        end_wd=train_cfg.weight_decay,
        wd_incr_steps=total_steps,
        wd_incr_style="constant",
    )
