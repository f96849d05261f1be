"""The checks of bench/gpu_check.sh that need cj2's model code, one JSON line per result.

    python bench/gpu_check.py env|imports|packed_forward|host_sync [--smoke]

- ``env``: Python, torch, CUDA device, the optional kernels (Transformer Engine, flash-attn).
- ``imports``: every module of the training and evaluation path imports here (the modules a
  SLURM training job and ``launch/train.py`` load), and the GPU presets compose.
- ``packed_forward``: cj2's packed forward (one THD sequence of four samples, RoPE restarting
  per sample) against transformers' forward of each sample alone on the CPU in fp32, per
  attention backend: sdpa in fp32 (TF32 off) and bf16, flash_attn and te in bf16 (both refuse
  fp32 with packed sequences) at a bf16 tolerance; a backend that is missing or fails is reported
  and the others still run. A control (transformers over the concatenated samples, attention
  across them) must differ by more than the tolerance, or the check could not see a leak.
- ``host_sync``: one training step of a small model through cj2's ``train_step`` with
  ``torch.cuda.set_sync_debug_mode("error")`` around every micro-batch's forward and backward
  (megatron's ``forward_step`` / ``backward_step``): a host sync there (a ``.item()``, a copy
  from pageable memory) fails the check, naming where. Outside them megatron's NaN check and
  grad-norm clipping, and the step's one read of its logged sums, sync by design.

``--smoke`` runs the same code on the CPU with tiny shapes (CI's dry run of the GPU check).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import tempfile
import traceback

import torch

FP32_TOLERANCE = 2e-3  # max abs logit difference; fp32 with TF32 off
BF16_TOLERANCE = 5e-2  # bf16 weights and activations against the fp32 reference

# What a training job (cj2.cluster.job -> cj2.train.job), launch/train.py and an evaluation with the
# hf engine import; bench/offline/wheelhouse.txt brings what a bare CUDA image lacks of it.
TRAINING_PATH = (
    "hydra", "omegaconf", "submitit", "megatron.core", "cj2.config", "cj2.cluster.launch", "cj2.cluster.job",
    "cj2.cluster.slurm", "cj2.cluster.sweep", "cj2.train.job", "cj2.train.step", "cj2.train.export",
    "cj2.models.hf_io", "cj2.models.checkpoint", "cj2.tracking.wandb_run", "cj2.eval.job", "cj2.sample.engines.hf",
)
GPU_PRESETS = ("margin_7b", "margin_32b", "mini_table4_gpu")


def emit(**fields) -> None:
    print(json.dumps(fields), flush=True)


def where(exc: BaseException) -> str:
    """The innermost cj2 / megatron / transformers frame of ``exc``'s traceback."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if any(k in f.filename for k in ("/cj2/", "/megatron/", "/transformers/", "/bench/"))]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""


def error_fields(exc: BaseException) -> dict:
    return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:800]}", "where": where(exc)}


# --- env ---------------------------------------------------------------------------------


def check_env(smoke: bool) -> None:
    from importlib import metadata

    def version(dist):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    cuda = torch.cuda.is_available()
    fields = {"python": sys.version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda, "device": torch.cuda.get_device_name() if cuda else "cpu"}
    if cuda:
        fields["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1)
    for dist in ("transformers", "megatron-core", "transformer-engine", "transformer_engine", "flash-attn", "apex"):
        fields[dist.replace("-", "_")] = version(dist)
    emit(check="env", **fields, ok=cuda or smoke, **({} if cuda or smoke else {"error": "no CUDA device: bash bench/gpu_check.sh --smoke is the CPU dry run"}))


# --- imports -----------------------------------------------------------------------------


def check_imports(smoke: bool) -> None:
    import importlib

    failed = {}
    for name in TRAINING_PATH:
        try:
            importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 - each failure is the result
            failed[name] = f"{type(e).__name__}: {e}"
    if "cj2.config" not in failed:
        from cj2.config import compose, finalize

        for preset in GPU_PRESETS:
            try:
                finalize(compose([f"+exp={preset}"]))
            except Exception as e:  # noqa: BLE001
                failed[f"+exp={preset}"] = f"{type(e).__name__}: {e}"
    emit(check="imports", modules=len(TRAINING_PATH), presets=len(GPU_PRESETS), failed=failed, ok=not failed)


# --- packed_forward ----------------------------------------------------------------------


def init_world(device: torch.device) -> None:
    import torch.distributed as dist
    from judge_batch import init_single_process_env
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel.random import model_parallel_cuda_manual_seed

    from cj2 import cpu_shims

    init_single_process_env()
    if device.type == "cuda":
        torch.cuda.set_device(0)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=0, world_size=1)
    cpu_shims.apply()
    parallel_state.initialize_model_parallel(1, 1)
    model_parallel_cuda_manual_seed(0)


def backend_runs(backend: str) -> str | None:
    """Why ``backend`` cannot run here, or None."""
    from cj2.models.attention import flash_attn_varlen, transformer_engine_available

    if backend == "te" and not transformer_engine_available():
        return "Transformer Engine is not installed (or no CUDA)"
    if backend == "flash_attn" and flash_attn_varlen() is None:
        return "flash-attn is not installed (or no CUDA)"
    return None


def backend_dtype(backend: str, wanted: str) -> torch.dtype:
    """TE and flash-attn take packed (THD) sequences in half precision only."""
    return torch.bfloat16 if backend in ("te", "flash_attn") or wanted == "bf16" else torch.float32


def check_packed_forward(smoke: bool) -> None:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from cj2.config.schema import ModelConfig, ParallelConfig
    from cj2.models import build_model, load_hf_weights
    from cj2.models.attention import packed_seq_params
    from cj2.placement import compute_device, to_device

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = compute_device()
    init_world(device)
    shape = dict(num_layers=2, hidden_size=64 if smoke else 256, ffn_hidden_size=128 if smoke else 512, num_attention_heads=4, num_query_groups=2, vocab_size=256 if smoke else 1024)
    lengths = [30, 17, 41, 9] if smoke else [300, 170, 411, 95]
    m = ModelConfig(name="gpu-check", max_position_embeddings=2048, tie_word_embeddings=False, **shape)
    hf_cfg = Qwen2Config(vocab_size=m.vocab_size, hidden_size=m.hidden_size, intermediate_size=m.ffn_hidden_size, num_hidden_layers=m.num_layers, num_attention_heads=m.num_attention_heads,
                         num_key_value_heads=m.num_query_groups, max_position_embeddings=m.max_position_embeddings, rope_theta=m.rope_theta, rms_norm_eps=m.rms_norm_eps, tie_word_embeddings=False)
    torch.manual_seed(0)
    hf = Qwen2ForCausalLM(hf_cfg).eval()
    gen = torch.Generator().manual_seed(1)
    samples = [torch.randint(0, m.vocab_size, (n,), generator=gen) for n in lengths]
    tokens = torch.cat(samples)[None]
    with torch.no_grad():
        reference = torch.cat([hf(input_ids=s[None]).logits[0] for s in samples])
        across = hf(input_ids=tokens).logits[0]  # attention across samples: what packing must not do
    positions = torch.cat([torch.arange(n) for n in lengths])[None]
    cu = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], dtype=torch.int32)
    control = (across - reference).abs().max().item()
    with tempfile.TemporaryDirectory() as tmp:
        hf.save_pretrained(tmp)
        for backend, precision in (("sdpa", "fp32"), ("sdpa", "bf16"), ("flash_attn", "bf16"), ("te", "bf16")):
            fields = {"check": "packed_forward", "backend": backend, "dtype": precision, "device": str(device)}
            if (reason := backend_runs(backend)) is not None:
                emit(**fields, ok=None, skipped=reason)
                continue
            tolerance = FP32_TOLERANCE if backend_dtype(backend, precision) == torch.float32 else BF16_TOLERANCE
            try:
                cfg = ModelConfig(**{**m.__dict__, "attention": backend, "hf_path": tmp})
                model = build_model(cfg, ParallelConfig(), params_dtype=backend_dtype(backend, precision), initialize=False)
                load_hf_weights(model, tmp, cfg)
                model.eval()
                batch = to_device({"tokens": tokens, "positions": positions, "cu": cu}, device)
                host = None if backend == "te" else cu
                with torch.no_grad():
                    logits = model(batch["tokens"], batch["positions"], None, packed_seq_params=packed_seq_params(batch["cu"], max(lengths), host))
                diff = (logits[0].float().cpu() - reference).abs().max().item()
                emit(**fields, max_abs_logit_diff=diff, tolerance=tolerance, cross_sample_control_diff=control, ok=diff < tolerance < control)
            except Exception as e:  # noqa: BLE001 - reported; the next backend still runs
                emit(**fields, **error_fields(e))
            finally:
                model = None
                if device.type == "cuda":
                    torch.cuda.empty_cache()


# --- host_sync ---------------------------------------------------------------------------


@contextlib.contextmanager
def sync_is_an_error(on_gpu: bool):
    if not on_gpu:
        yield
        return
    torch.cuda.set_sync_debug_mode("error")
    try:
        yield
    finally:
        torch.cuda.set_sync_debug_mode(0)


def guard_micro_batches(on_gpu: bool):
    """Wrap megatron's per-micro-batch forward and backward (the schedules call them by module
    name) so that a host sync inside either raises; returns a function that undoes it."""
    from megatron.core.pipeline_parallel import schedules

    originals = {name: getattr(schedules, name) for name in ("forward_step", "backward_step")}

    def guarded(fn):
        def run(*args, **kwargs):
            with sync_is_an_error(on_gpu):
                return fn(*args, **kwargs)

        return run

    for name, fn in originals.items():
        setattr(schedules, name, guarded(fn))
    return lambda: [setattr(schedules, n, f) for n, f in originals.items()]


def check_host_sync(smoke: bool) -> None:
    from types import SimpleNamespace

    from judge_batch import init_single_process_env, judge_rows
    from train_step import cj2_config

    from cj2.data.packed.packing import write_tokenized
    from cj2.data.packed.stream import PackedDataset, collate, denominators
    from cj2.train import job
    from cj2.train.optim import build_optimizer, build_scheduler
    from cj2.train.step import train_step

    on_gpu = torch.cuda.is_available()
    args = SimpleNamespace(loss="margin", layers=2, hidden=64 if smoke else 256, ffn=128 if smoke else 1024, heads=4, kv_heads=2, vocab=1024 if smoke else 32768,
                           attention="auto", seq_length=256 if smoke else 2048, micro_batch=2, bf16=on_gpu)
    init_single_process_env()
    cfg = cj2_config(args)
    job.setup_parallel(cfg)
    dtype = torch.bfloat16 if on_gpu else torch.float32
    model = job.build_training_model(cfg, dtype)
    optimizer = build_optimizer(model, cfg.train, cfg.parallel, dtype)
    scheduler = build_scheduler(optimizer, cfg.train, total_steps=4)
    with tempfile.TemporaryDirectory() as tmp:
        write_tokenized(judge_rows(4, args.seq_length, args.vocab), tmp, args.seq_length, pad_id=0)
        data = PackedDataset(tmp)
        rows = list(range(min(4, len(data))))
        micro_batches = [collate(data, rows[i : i + 2], "token") for i in range(0, len(rows), 2)]
        den = denominators(data, rows, "token")
    fields = {"check": "host_sync", "attention": model.module.cj2_attention_backend, "micro_batches": len(micro_batches), "guarded": on_gpu}
    train_step(model, optimizer, scheduler, micro_batches, den, cfg.loss)  # warm-up: first-call set-up may sync
    undo = guard_micro_batches(on_gpu)
    try:
        result = train_step(model, optimizer, scheduler, micro_batches, den, cfg.loss)
    except RuntimeError as e:
        emit(**fields, **error_fields(e))
        return
    finally:
        undo()
    finite = math.isfinite(result.loss) and math.isfinite(result.grad_norm)
    if on_gpu:
        emit(**fields, loss=result.loss, ok=finite)
    else:
        emit(**fields, loss=result.loss, ok=None if finite else False, note="no CUDA: the step ran, the sync guard needs a GPU")


CHECKS = {"env": check_env, "imports": check_imports, "packed_forward": check_packed_forward, "host_sync": check_host_sync}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("check", choices=sorted(CHECKS))
    p.add_argument("--smoke", action="store_true", help="tiny shapes on the CPU (the CI dry run)")
    args = p.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    CHECKS[args.check](args.smoke)


if __name__ == "__main__":
    main()
