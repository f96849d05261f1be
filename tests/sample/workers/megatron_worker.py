"""torchrun worker (2 ranks): the megatron engine at TP=2 against TP=1 and HF, then a sampling job.

Usage: megatron_worker.py MODEL_DIR INPUT_JSONL WORK_DIR; rank 0 writes WORK_DIR/results.json.
"""

import json
import sys
from pathlib import Path

import torch
import torch.distributed as dist

PROMPTS = [[{"role": "user", "content": "Which answer is better, A or B?"}], [{"role": "user", "content": "Is 17 larger than 25?"}]]


def engine_results(model_dir: str, tp: int) -> dict:
    from cj2.sample.engines import build_engine

    engine = build_engine("megatron", model=model_dir, tp=tp, seed=0)
    ids = torch.tensor([engine.prompt_ids(PROMPTS[0])])
    logits = engine.last_logits(ids)  # a collective: every rank calls it
    results = {}
    if engine.rank == 0:
        results["logits"] = logits[0].tolist()
        results["greedy"] = engine.generate(PROMPTS, n=2, temperature=0.0, top_p=1.0, max_tokens=6, seed=0)
        results["sampled"] = engine.generate(PROMPTS, n=3, temperature=1.0, top_p=0.9, max_tokens=5, seed=[5, 6])
        results["usage"] = engine.usage.completion_tokens
    else:
        engine.follow()
    engine.close()
    return results


def hf_reference(model_dir: str) -> dict:
    from cj2.sample.engines import build_engine

    hf = build_engine("hf", model=model_dir, device="cpu")
    ids = hf.prompt_ids(PROMPTS[0])
    with torch.inference_mode():
        logits = hf.model(input_ids=ids).logits[0, -1]
    return {"logits": logits.tolist(), "greedy": hf.generate(PROMPTS, n=1, temperature=0.0, top_p=1.0, max_tokens=6, seed=0)}


def sampling_job(model_dir: str, input_path: str, work: Path):
    from cj2.config import compose, finalize
    from cj2.sample.job import run

    overrides = ["sample.engine=megatron", "parallel.tp=2", f"sample.model={model_dir}", f"sample.input={input_path}", f"sample.output_dir={work / 'out'}", f"run_dir={work / 'run'}", "sample.n=2", "sample.max_tokens=3", "sample.num_shards=2", "sample.progress=false"]
    return run(finalize(compose(overrides)))


def main():
    model_dir, input_path, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    results = {"tp2": engine_results(model_dir, 2), "tp1": engine_results(model_dir, 1)}
    summary = sampling_job(model_dir, input_path, work)
    if rank == 0:
        results["hf"] = hf_reference(model_dir)
        results["job_summary"] = summary
        (work / "results.json").write_text(json.dumps(results))
    else:
        assert summary is None  # followers write nothing
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
