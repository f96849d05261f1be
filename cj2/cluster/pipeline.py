"""One command, the whole chain: rejection sampling -> teacher curation -> mixture build -> training -> evaluation.

Each stage is submitted at once with ``afterok`` on the previous one, so the chain runs
unattended and a failed stage cancels the rest (``--kill-on-invalid-dep``). All stages share the
run's frozen config and run dir. Rejection sampling with ``sample.num_shards > 1`` and curation
with ``curate.num_shards > 1`` are job arrays, one shard per task, at most
``cluster.array_parallelism`` at once; a mixture without teacher-role components has no curation.

The stages hand over files: sampling writes ``sample.output_dir/accepted.jsonl``, which the
mixture's ``rft`` component reads (conf/data/cj2.yaml); curation writes each teacher-role
component's rows under ``curate.output_dir``; the build reads both and writes ``data.output_dir``,
which training reads. Every stage's config is validated before the first job is submitted, each
stage knowing which of its inputs an earlier stage will write.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from omegaconf import DictConfig, OmegaConf

from cj2.cluster.tasks import TASKS

# (stage name, task): the task is a TASKS name or a module:function.
STAGES: tuple[tuple[str, str], ...] = (("sample", "sample"), ("curate", "curate"), ("build_data", "build_data"), ("train", "train"), ("eval", "eval"))
# Tasks that run as an array when their section asks for several shards.
SHARDED = {"sample": "sample", "curate": "curate"}


def shard_configs(cfg: DictConfig, section: str = "sample") -> list[DictConfig]:
    """One frozen config per shard of ``section`` (``<section>.shard_index`` set)."""
    out = []
    for i in range(cfg[section].num_shards):
        shard = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
        shard[section].shard_index = i
        OmegaConf.set_readonly(shard, True)
        out.append(shard)
    return out


def stage_outputs(cfg: DictConfig, task: str) -> list[str]:
    """The artefacts a stage writes that later stages read, as absolute paths."""
    if task == "sample":
        return [os.path.abspath(os.path.join(cfg.sample.output_dir, "accepted.jsonl"))]
    if task == "curate":
        from cj2.data.curated import component_dir, teacher_components

        return [os.path.abspath(component_dir(cfg, name)) for name in teacher_components(cfg)]
    if task == "build_data":
        return [os.path.abspath(cfg.data.output_dir)]
    return []


def needed(cfg: DictConfig, stages: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The stages with work to do: curation only for a mixture with teacher-role components."""
    from cj2.data.curated import teacher_components

    return [(name, task) for name, task in stages if name != "curate" or teacher_components(cfg)]


def validate_stages(cfg: DictConfig, stages: Sequence[tuple[str, str]]) -> None:
    """Every stage's checks, each knowing what the stages before it will have written."""
    from cj2.config import ConfigError, Problem, problems_of

    problems: list[Problem] = []
    produced: frozenset[str] = frozenset()
    for name, task in stages:
        for p in problems_of(cfg, stage="run" if task in TASKS else "compose", task=task if task in TASKS else "train", produced=produced):
            problems.append(Problem(f"[{name}] {p.key}", p.message, p.fix))
        produced |= frozenset(stage_outputs(cfg, task))
    if problems:
        raise ConfigError(problems)


def submit_pipeline(cfg: DictConfig, stages: Sequence[tuple[str, str]] = STAGES) -> dict[str, list]:
    """Validate every stage, then submit the chain; returns each stage's submitit jobs."""
    from cj2.cluster.slurm import dependency_on, submit, submit_array

    stages = needed(cfg, stages)
    validate_stages(cfg, stages)
    jobs: dict[str, list] = {}
    previous: list = []
    for name, task in stages:
        dependency = dependency_on(previous) if previous else None
        section = SHARDED.get(name)
        if section and cfg[section].num_shards > 1:
            previous = submit_array(task, shard_configs(cfg, section), dependency=dependency)
        else:
            previous = [submit(task, cfg, dependency=dependency)]
        jobs[name] = previous
    return jobs
