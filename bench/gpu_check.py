"""GPU correctness checks of the training path (run by bench/gpu_check.sh on one GPU).

cj2's packed forward on the GPU (one THD sequence of four samples, RoPE restarting per sample)
against transformers' forward of each sample alone on the CPU (fp32, TF32 off, same HF
weights), for every attention backend this machine offers (sdpa, flash_attn, te): the max abs
logit difference over every real token. Prints one JSON line per backend; exits non-zero if one
fails its tolerance. (Gradients on the GPU are compared to the one-process CPU run by the
layout tests' arithmetic only on CPU; not yet here.)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

import torch

TOLERANCE = 2e-3  # fp32 on TF32-capable GPUs: matmuls may run in TF32


def init():
    import torch.distributed as dist
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel.random import model_parallel_cuda_manual_seed

    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29631")
    torch.cuda.set_device(0)
    dist.init_process_group("nccl", rank=0, world_size=1)
    parallel_state.initialize_model_parallel(1, 1)
    model_parallel_cuda_manual_seed(0)


def main():
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from cj2.config.schema import ModelConfig, ParallelConfig
    from cj2.models import build_model, load_hf_weights
    from cj2.models.attention import flash_attn_varlen, packed_seq_params, transformer_engine_available
    from cj2.placement import to_device

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    init()
    m = ModelConfig(name="gpu-check", num_layers=2, hidden_size=256, ffn_hidden_size=512, num_attention_heads=4, num_query_groups=2, vocab_size=1024, max_position_embeddings=2048, tie_word_embeddings=False)
    hf_cfg = Qwen2Config(vocab_size=m.vocab_size, hidden_size=m.hidden_size, intermediate_size=m.ffn_hidden_size, num_hidden_layers=m.num_layers, num_attention_heads=m.num_attention_heads, num_key_value_heads=m.num_query_groups, max_position_embeddings=m.max_position_embeddings, rope_theta=m.rope_theta, rms_norm_eps=m.rms_norm_eps, tie_word_embeddings=False)
    torch.manual_seed(0)
    hf = Qwen2ForCausalLM(hf_cfg).eval()
    lengths = [300, 170, 411, 95]
    gen = torch.Generator().manual_seed(1)
    samples = [torch.randint(0, m.vocab_size, (n,), generator=gen) for n in lengths]
    with torch.no_grad():
        reference = [hf(input_ids=s[None]).logits[0] for s in samples]
    tokens = torch.cat(samples)[None]
    positions = torch.cat([torch.arange(n) for n in lengths])[None]
    cu = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], dtype=torch.int32)
    backends = ["sdpa"] + (["flash_attn"] if flash_attn_varlen() else []) + (["te"] if transformer_engine_available() else [])
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        hf.save_pretrained(tmp)
        for backend in backends:
            cfg = ModelConfig(**{**m.__dict__, "attention": backend, "hf_path": tmp})
            model = build_model(cfg, ParallelConfig(), initialize=False)
            load_hf_weights(model, tmp, cfg)
            model.eval()
            device_batch = to_device({"tokens": tokens, "positions": positions, "cu": cu}, torch.device("cuda", 0))
            host = None if backend == "te" else cu
            with torch.no_grad():
                logits = model(device_batch["tokens"], device_batch["positions"], None, packed_seq_params=packed_seq_params(device_batch["cu"], max(lengths), host))
            got = logits[0].float().cpu()
            diff = max((got[a:b] - r).abs().max().item() for a, b, r in zip(cu[:-1].tolist(), cu[1:].tolist(), reference, strict=True))
            ok = diff < TOLERANCE
            failed |= not ok
            print(json.dumps({"check": "packed_gpu_vs_transformers_cpu", "backend": backend, "max_abs_logit_diff": diff, "ok": ok}), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
