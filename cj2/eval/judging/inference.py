"""Running a judge over requests with a cj2 generation engine (hf, openai ...), with progress."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cj2.eval.core.files import EvalInputError

BATCH = 8  # prompts per engine call: progress granularity, not a model batch size


def engine_options(eval_cfg) -> dict:
    """Constructor options for ``build_engine(eval.engine, ...)`` from the eval config.

    For ``openai`` the server address is ``eval.base_url`` or, when only ``eval.base_url_file``
    is set, the address a ``slurm/teacher_server.sbatch`` job writes there (waited for, with the
    server's health, up to ``eval.server_wait_s``).
    """
    if not eval_cfg.model:
        raise ValueError("eval.model is not set: name an HF checkpoint dir, a .gguf file, or the served model (engine=openai)")
    if eval_cfg.engine == "openai":
        if not eval_cfg.base_url and not eval_cfg.base_url_file:
            raise EvalInputError("eval.base_url", "eval.engine=openai needs eval.base_url=http://host:port/v1 or eval.base_url_file=FILE (written by slurm/teacher_server.sbatch)")
        base_url = eval_cfg.base_url
        if not base_url:
            from cj2.sample.server_address import resolve_base_url

            base_url = resolve_base_url(eval_cfg.base_url_file, eval_cfg.server_wait_s)
        return {"model": eval_cfg.model, "base_url": base_url, "concurrency": eval_cfg.concurrency, "request_timeout_s": eval_cfg.request_timeout_s, "max_retries": eval_cfg.max_retries}
    model = Path(eval_cfg.model)
    if model.suffix == ".gguf":
        # transformers loads a GGUF file from its directory with gguf_file=<name>.
        return {"model": str(model.parent), "gguf_file": model.name}
    return {"model": str(model)}


def build_judge(eval_cfg):
    from cj2.sample.engines import build_engine

    return build_engine(eval_cfg.engine, **engine_options(eval_cfg))


def progress_bar(description: str, total: int, done: int = 0, enabled: bool = True):
    """A rich progress bar on stderr (launch/judge.py may be writing its JSONL answers to stdout)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True), disable=not enabled)
    task = progress.add_task(description, total=total, completed=done)
    return progress, task


def generate_texts(engine, messages: Sequence[list], eval_cfg, description: str = "judging") -> list[str]:
    """One greedy (or sampled, per eval.temperature) judgment per conversation, in order."""
    texts: list[str] = []
    progress, task = progress_bar(description, len(messages))
    with progress:
        for start in range(0, len(messages), BATCH):
            chunk = list(messages[start : start + BATCH])
            seeds = [eval_cfg.seed + start + i for i in range(len(chunk))]
            outputs = engine.generate(chunk, n=1, temperature=eval_cfg.temperature, top_p=eval_cfg.top_p, max_tokens=eval_cfg.max_tokens, seed=seeds)
            texts.extend(candidates[0] for candidates in outputs)
            progress.advance(task, len(chunk))
    return texts
