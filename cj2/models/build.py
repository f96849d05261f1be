"""Megatron-core ``GPTModel`` for the Qwen2 and Llama families from a cj2 ``ModelConfig``.

Qwen2 and Llama share the decoder (GQA, SwiGLU, RMSNorm, RoPE); Qwen2 adds a bias on q/k/v
only. The layer spec follows the attention backend (cj2.models.attention): megatron's Transformer
Engine spec for ``te``, otherwise the local spec with cj2's packed attention and a torch norm
that supports sequence parallelism. Parallel state must already be initialised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

import cj2.models.megatron_pin  # noqa: F401  (refuses any megatron-core release but the pinned one)
from cj2.config.schema import ModelConfig, ParallelConfig
from cj2.models.attention import FlashAttnVarlen, PackedAttention, resolve_backend
from cj2.models.norm import TorchNorm
from cj2.placement import compute_device


def _fused_grad_accumulation_available() -> bool:
    """Whether the linear layers can fuse the weight-gradient accumulation (a CUDA extension)."""
    if not torch.cuda.is_available():
        return False
    from megatron.core.tensor_parallel import layers

    return bool(layers._grad_accum_fusion_available)


def _recompute(mode: str) -> dict:
    if mode == "full":
        return {"recompute_granularity": "full", "recompute_method": "uniform", "recompute_num_layers": 1}
    if mode == "selective":  # megatron's default selective set: core attention only
        return {"recompute_granularity": "selective"}
    return {}


def transformer_config(model_cfg: ModelConfig, parallel_cfg: ParallelConfig, params_dtype: torch.dtype = torch.float32, *, initialize: bool = True):
    """The megatron ``TransformerConfig`` of a Qwen2/Llama model at ``parallel_cfg``'s layout.

    ``initialize=False`` skips random init (weights about to be loaded from a checkpoint).
    On a GPU the fused kernels Megatron-Bridge's Qwen2.5 recipes use are switched on where
    they exist: RoPE fusion (with Transformer Engine), the SwiGLU and bias-dropout fusions, and
    gradient-accumulation fusion (when its CUDA extension is installed).
    """
    from megatron.core.transformer import TransformerConfig

    on_gpu = torch.cuda.is_available()
    te = resolve_backend(model_cfg.attention) == "te"
    return TransformerConfig(
        num_layers=model_cfg.num_layers - model_cfg.frozen_layers,  # the frozen bottom never runs here
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
        use_cpu_initialization=not on_gpu,
        perform_initialization=initialize,
        # Fusions: each needs a GPU; RoPE fusion also needs Transformer Engine (CPU keeps them off).
        apply_rope_fusion=te,
        bias_activation_fusion=on_gpu,
        bias_dropout_fusion=on_gpu,
        gradient_accumulation_fusion=_fused_grad_accumulation_available(),
        **_recompute(parallel_cfg.recompute),
    )


def layer_spec(model_cfg: ModelConfig, config=None):
    """The transformer block's spec for the resolved attention backend.

    Returned as ``TransformerBlockSubmodules`` for the local spec, so that the final norm is
    cj2's sequence-parallel-capable :class:`TorchNorm` too (megatron's ``WrappedTorchNorm``
    refuses sequence parallelism).
    """
    from megatron.core.models.gpt import gpt_layer_specs

    backend = resolve_backend(model_cfg.attention)
    if backend == "te":
        return gpt_layer_specs.get_gpt_layer_with_transformer_engine_spec()
    from megatron.core.transformer.transformer_block import TransformerBlockSubmodules, get_num_layers_to_build

    spec = gpt_layer_specs.get_gpt_layer_local_spec(normalization="RMSNorm")
    spec.submodules.input_layernorm = TorchNorm
    spec.submodules.pre_mlp_layernorm = TorchNorm
    spec.submodules.self_attention.submodules.core_attention = FlashAttnVarlen if backend == "flash_attn" else PackedAttention
    num_layers = get_num_layers_to_build(config) if config is not None else model_cfg.num_layers
    return TransformerBlockSubmodules(layer_specs=[spec] * num_layers, layer_norm=TorchNorm)


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
            transformer_layer_spec=layer_spec(model_cfg, config),
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
    model.cj2_attention_backend = resolve_backend(model_cfg.attention)
    # The checkpoint's layer number of decoder layer 0 (cj2.models.hf_mapping reads it): the
    # layers below are the frozen bottom, whose output the training data carries instead.
    model.cj2_first_layer = model_cfg.frozen_layers
    if model_cfg.frozen_layers and pre_process:
        # The embedding belongs to the frozen bottom (with tied embeddings it is the output layer
        # too): no gradient, no optimizer state. Megatron's DDP and optimizer skip such params.
        model.embedding.word_embeddings.weight.requires_grad_(False)
    if not initialize:
        mark_tensor_parallel_params(model)
    # Megatron allocates its own layers on the current device; torch modules (the norms) and
    # anything else still on the CPU follow here, so the whole model lives on one device.
    return model.to(compute_device())


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
