"""Run under torchrun (1 rank): which checkpoints Checkpoints keeps, and a same-size corrupt shard.

Saves a tiny model through cj2.train.checkpoint.Checkpoints (keep=2) at steps 9999, 10000 and
10001 (past the 4-digit boundary, where a string order of the step numbers differs from the
numeric one), then flips one byte of the newest checkpoint's largest file (same size, so only
SHA-256 can tell) and loads. Writes results.json into WORK_DIR.
Usage: checkpoint_keep_worker.py WORK_DIR
"""

import json
import sys
import warnings
from pathlib import Path

import torch.distributed as dist

from cj2.config.schema import ModelConfig, ParallelConfig

MODEL = ModelConfig(name="keep-tiny", family="qwen2", num_layers=1, hidden_size=32, ffn_hidden_size=48, num_attention_heads=2, num_query_groups=1, vocab_size=64, max_position_embeddings=32)


def main():
    work = Path(sys.argv[1])
    dist.init_process_group("gloo")
    from megatron.core import parallel_state
    from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed

    from cj2 import cpu_shims
    from cj2.models import build_model
    from cj2.train.checkpoint import MANIFEST, Checkpoints, CheckpointWarning, problem_with

    cpu_shims.apply()
    parallel_state.initialize_model_parallel(tensor_model_parallel_size=1, pipeline_model_parallel_size=1)
    model_parallel_cuda_manual_seed(7)
    model = build_model(MODEL, ParallelConfig(tp=1, pp=1, dp=1))
    import hashlib

    import cj2.train.checkpoint as ckpt

    checkpoints = Checkpoints(work / "checkpoints", keep=2)
    results = {"after_save": [], "read_back_during_save": []}
    read_back, real_sha256 = results["read_back_during_save"], ckpt._sha256
    ckpt._sha256 = lambda path: read_back.append(path.name) or real_sha256(path)
    for step in (9999, 10000, 10001):
        checkpoints.save(step, model, None, {"step": step})
        results["after_save"].append(sorted(p.name for p in checkpoints.root.iterdir()))
    ckpt._sha256 = real_sha256
    saved = checkpoints.root / "step_00010001"
    manifest = json.loads((saved / MANIFEST).read_text())["files"]
    results["manifest_equals_hashlib"] = all(hashlib.sha256((saved / n).read_bytes()).hexdigest() == m["sha256"] for n, m in manifest.items())
    results["files"] = sorted(manifest)
    results["leftover_digests"] = [p.name for p in saved.rglob("*") if p.name.endswith(ckpt.DIGEST_SUFFIX)]

    newest = checkpoints.root / "step_00010001"
    victim = max((p for p in newest.rglob("*") if p.is_file() and p.name != MANIFEST), key=lambda p: p.stat().st_size)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    results["victim"] = str(victim.relative_to(newest))
    results["problem"] = problem_with(newest)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        state = checkpoints.load_latest(model, None)
    results["loaded_step"] = state["step"] if state else None
    results["warnings"] = [str(w.message) for w in caught if issubclass(w.category, CheckpointWarning)]
    (work / "results.json").write_text(json.dumps(results, indent=2))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
