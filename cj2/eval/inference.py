"""Running a judge over requests with a cj2 generation engine (hf, openai ...), with progress."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

BATCH = 8  # prompts per engine call: progress granularity, not a model batch size


def engine_options(eval_cfg) -> dict:
    """Constructor options for ``build_engine(eval.engine, ...)`` from the eval config."""
    if not eval_cfg.model:
        raise ValueError("eval.model is not set: name an HF checkpoint dir, a .gguf file, or the served model (engine=openai)")
    if eval_cfg.engine == "openai":
        return {"model": eval_cfg.model, "base_url": eval_cfg.base_url}
    model = Path(eval_cfg.model)
    if model.suffix == ".gguf":
        # transformers loads a GGUF file from its directory with gguf_file=<name>.
        return {"model": str(model.parent), "gguf_file": model.name}
    return {"model": str(model)}


def build_judge(eval_cfg):
    from cj2.sample.engines import build_engine

    return build_engine(eval_cfg.engine, **engine_options(eval_cfg))


def generate_texts(engine, messages: Sequence[list], eval_cfg, description: str = "judging") -> list[str]:
    """One greedy (or sampled, per eval.temperature) judgment per conversation, in order."""
    from rich.console import Console
    from rich.progress import Progress

    texts: list[str] = []
    # On stderr: launch/judge.py may be writing its JSONL answers to stdout.
    with Progress(console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(description, total=len(messages))
        for start in range(0, len(messages), BATCH):
            chunk = list(messages[start : start + BATCH])
            seeds = [eval_cfg.seed + start + i for i in range(len(chunk))]
            outputs = engine.generate(chunk, n=1, temperature=eval_cfg.temperature, top_p=eval_cfg.top_p, max_tokens=eval_cfg.max_tokens, seed=seeds)
            texts.extend(candidates[0] for candidates in outputs)
            progress.advance(task, len(chunk))
    return texts
