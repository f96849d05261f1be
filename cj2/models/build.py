"""Megatron-core ``GPTModel`` for the Qwen2 and Llama families from a cj2 ``ModelConfig``.

Qwen2 and Llama share the decoder (GQA, SwiGLU, RMSNorm, RoPE); Qwen2 adds a bias on q/k/v
only. The local layer spec is used on CPU (and wherever Transformer Engine is missing); the
Transformer Engine spec on a GPU that has it. Parallel state must already be initialised.
"""

from __future__ import annotations

import importlib.util

import torch
import torch.nn.functional as F

from cj2.config.schema import ModelConfig, ParallelConfig


def use_transformer_engine() -> bool:
    return torch.cuda.is_available() and importlib.util.find_spec("transformer_engine") is not None


def transformer_config(model_cfg: ModelConfig, parallel_cfg: ParallelConfig, params_dtype: torch.dtype = torch.float32, *, initialize: bool = True):
    """The megatron ``TransformerConfig`` of a Qwen2/Llama model at ``parallel_cfg``'s layout.

    ``initialize=False`` skips random init (weights about to be loaded from a checkpoint).
    """
    from megatron.core.transformer import TransformerConfig

    recompute = {"recompute_granularity": "full", "recompute_method": "uniform", "recompute_num_layers": 1} if parallel_cfg.recompute else {}
    return TransformerConfig(
        num_layers=model_cfg.num_layers,
        hidden_size=model_cfg.hidden_size,
        ffn_hidden_size=model_cfg.ffn_hidden_size,
        num_attention_heads=model_cfg.num_attention_heads,
        num_query_groups=model_cfg.num_query_groups,
        kv_channels=model_cfg.hidden_size // model_cfg.num_attention_heads,
        gated_linear_unit=True,
        activation_func=F.silu,
        normalization="RMSNorm",
        layernorm_epsilon=model_cfg.rms_norm_eps,
        add_bias_linear=False,
        add_qkv_bias=model_cfg.qkv_bias,
        # HF Qwen2/Llama train without dropout; megatron's defaults are 0.1.
        hidden_dropout=0.0,
        attention_dropout=0.0,
        init_method_std=model_cfg.init_method_std,
        tensor_model_parallel_size=parallel_cfg.tp,
        pipeline_model_parallel_size=parallel_cfg.pp,
        sequence_parallel=bool(parallel_cfg.sp and parallel_cfg.tp > 1),
        params_dtype=params_dtype,
        pipeline_dtype=params_dtype,
        bf16=params_dtype == torch.bfloat16,
        fp16=params_dtype == torch.float16,
        # CPU init builds the full master weight and slices it: one seed gives the same model
        # at every TP size. On GPU, per-rank init is faster and memory-bound models need it.
        use_cpu_initialization=not torch.cuda.is_available(),
        perform_initialization=initialize,
        **recompute,
    )


def layer_spec(model_cfg: ModelConfig):
    from megatron.core.models.gpt import gpt_layer_specs

    if use_transformer_engine():
        return gpt_layer_specs.get_gpt_layer_with_transformer_engine_spec()
    spec = gpt_layer_specs.get_gpt_layer_local_spec(normalization="RMSNorm")
    if model_cfg.attention == "sdpa":
        from cj2.models.attention import SDPAttention

        # Megatron's local attention materialises the s x s scores; SDPA uses fused kernels.
        spec.submodules.self_attention.submodules.core_attention = SDPAttention
    return spec


def build_model(
    model_cfg: ModelConfig,
    parallel_cfg: ParallelConfig,
    *,
    pre_process: bool | None = None,
    post_process: bool | None = None,
    params_dtype: torch.dtype = torch.float32,
    initialize: bool = True,
):
    """This rank's ``GPTModel``: its pipeline stage's layers and its tensor-parallel shard.

    ``pre_process`` / ``post_process`` (embedding / output layer present) default to whether
    this rank is the first / last pipeline stage.
    """
    from megatron.core import parallel_state
    from megatron.core.models.gpt import GPTModel

    from cj2 import cpu_shims

    cpu_shims.apply()
    if not parallel_state.model_parallel_is_initialized():
        raise RuntimeError("build_model needs megatron parallel state: call parallel_state.initialize_model_parallel(tp, pp) first")
    if parallel_state.get_tensor_model_parallel_world_size() != parallel_cfg.tp or parallel_state.get_pipeline_model_parallel_world_size() != parallel_cfg.pp:
        raise RuntimeError(
            f"parallel state is tp={parallel_state.get_tensor_model_parallel_world_size()} pp={parallel_state.get_pipeline_model_parallel_world_size()} "
            f"but the config asks for parallel.tp={parallel_cfg.tp} parallel.pp={parallel_cfg.pp}"
        )
    if pre_process is None:
        pre_process = parallel_state.is_pipeline_first_stage()
    if post_process is None:
        post_process = parallel_state.is_pipeline_last_stage()
    config = transformer_config(model_cfg, parallel_cfg, params_dtype, initialize=initialize)
    with cpu_shims.cuda_tensors_stay_on_cpu():
        model = GPTModel(
            config=config,
            transformer_layer_spec=layer_spec(model_cfg),
            vocab_size=model_cfg.vocab_size,
            max_sequence_length=model_cfg.max_position_embeddings,
            pre_process=pre_process,
            post_process=post_process,
            share_embeddings_and_output_weights=model_cfg.tie_word_embeddings,
            position_embedding_type="rope",
            rotary_base=model_cfg.rope_theta,
            # Logits stay split over the vocabulary across TP ranks (the losses are vocab-parallel).
            parallel_output=True,
        )
    if not initialize:
        mark_tensor_parallel_params(model)
    return model


def mark_tensor_parallel_params(model) -> None:
    """Tag TP-sharded params the way megatron's initialisers do.

    Without initialisation megatron never calls ``set_tensor_model_parallel_attributes``, and
    the grad-norm (clipping) then counts every sharded param as a TP duplicate: a model loaded
    into an uninitialised build would train differently from the one that was saved.
    """
    from megatron.core.tensor_parallel import layers

    partition_dims = ((layers.VocabParallelEmbedding, {"weight": 0}), (layers.ColumnParallelLinear, {"weight": 0, "bias": 0}), (layers.RowParallelLinear, {"weight": 1}))
    for module in model.modules():
        for module_class, dims in partition_dims:
            if not isinstance(module, module_class):
                continue
            for name, dim in dims.items():
                param = getattr(module, name, None)
                if isinstance(param, torch.nn.Parameter) and not hasattr(param, "tensor_model_parallel"):
                    layers.set_tensor_model_parallel_attributes(param, True, dim, getattr(module, "stride", 1))
