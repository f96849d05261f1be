"""One command, the whole chain: rejection sampling -> teacher curation -> mixture build -> training -> evaluation.

Each stage is submitted at once with ``afterok`` on the previous one, so the chain runs
unattended and a failed stage cancels the rest (``--kill-on-invalid-dep``). Rejection sampling
with ``sample.num_shards > 1`` and curation with ``curate.num_shards > 1`` are job arrays, one
shard per task, at most ``cluster.array_parallelism`` at once; a mixture without teacher-role
components has no curation.

The stages hand over files: sampling writes ``sample.output_dir/accepted.jsonl``, which the
mixture's ``rft`` component reads (conf/data/cj2.yaml); curation writes each teacher-role
component's rows under ``curate.output_dir``; the build reads both and writes ``data.output_dir``,
which training reads; training exports ``run_dir/hf``, which evaluation judges with. Every
stage's config is validated before the first job is submitted, each stage knowing which of its
inputs an earlier stage will write.

**Sweeps.** Overrides with several values (``loss=none,margin seed=1,2``, as for ``--multirun``)
run the chain for every point. Each stage submits one job per distinct artefact: points that read
one sampling output or one data build share its job (the four losses of a seed share one build),
each point trains in its own run dir ``<run_dir>/<k=v,...>`` (one array), every judge (each
point's ``hf/`` and ``compare.judges``) is evaluated on every set of ``compare.sets`` (one
array), and a last job writes the comparison table (:mod:`cj2.eval.studies.ablation`). All jobs are
recorded in the sweep's run dir (``launch/cluster.py status|logs|cancel RUN_DIR``).

**Resume.** Rerunning the same command skips the work that is complete (a build with this
config's hash, a run whose ``summary.json`` has this config's fingerprint, an evaluation written
after its judge) and submits the rest, which resumes where it stopped (committed shards,
checkpoints, stored judgments). A run dir with jobs still queued or running is refused.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from cj2.cluster.tasks import TASKS

# (stage name, task): the task is a TASKS name or a module:function.
STAGES: tuple[tuple[str, str], ...] = (
    ("sample", "sample"), ("curate", "curate"), ("build_data", "build_data"), ("train", "train"), ("eval", "eval"), ("compare", "compare"))
# Tasks that run as an array when their section asks for several shards.
SHARDED = {"sample": "sample", "curate": "curate"}


@dataclass
class Point:
    """One configuration of the pipeline: ``name`` is its sweep values (``loss=none,seed=1``; "" without a sweep)."""

    name: str
    overrides: list[str]
    cfg: DictConfig


@dataclass
class Stage:
    name: str
    task: str
    cfgs: list[DictConfig] = field(default_factory=list)  # one job each; an array when several
    skipped: list[str] = field(default_factory=list)  # work found complete


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
        from cj2.data.curation.curated import component_dir, teacher_components

        return [os.path.abspath(component_dir(cfg, name)) for name in teacher_components(cfg)]
    if task == "build_data":
        return [os.path.abspath(cfg.data.output_dir)]
    if task == "train" and cfg.train.export_hf:
        return [os.path.abspath(os.path.join(cfg.run_dir, "hf"))]
    return []


def needed(cfg: DictConfig, stages: Sequence[tuple[str, str]], comparing: bool = False) -> list[tuple[str, str]]:
    """The stages with work to do: curation only for a mixture with teacher-role components, the
    comparison table only for a sweep (or a config with ``compare.sets``)."""
    from cj2.data.curation.curated import teacher_components

    return [(name, task) for name, task in stages
            if (name != "curate" or teacher_components(cfg)) and (name != "compare" or comparing)]


def validate_stages(cfg: DictConfig, stages: Sequence[tuple[str, str]]) -> None:
    """Raise :class:`cj2.config.ConfigError` with every stage's problems (see :func:`stage_problems`)."""
    from cj2.config import ConfigError

    problems = stage_problems(cfg, stages)
    if problems:
        raise ConfigError(problems)


def stage_problems(cfg: DictConfig, stages: Sequence[tuple[str, str]], prefix: str = "") -> list:
    """Every stage's problems, each stage knowing what the stages before it will have written."""
    from cj2.config import Problem, problems_of

    problems: list[Problem] = []
    produced: frozenset[str] = frozenset()
    for name, task in stages:
        if task == "compare":
            continue
        for p in problems_of(cfg, stage="run" if task in TASKS else "compose", task=task if task in TASKS else "train", produced=produced):
            problems.append(Problem(f"[{prefix}{name}] {p.key}", p.message, p.fix))
        produced |= frozenset(stage_outputs(cfg, task))
    return problems


# --- what a rerun can skip ----------------------------------------------------------------

def complete(cfg: DictConfig, task: str) -> str | None:
    """Why the work of ``task`` on ``cfg`` is already done (skipped by a rerun), or None."""
    import json

    if task == "build_data":
        from cj2.data.job import completed_build, config_hash

        return "complete build" if completed_build(Path(cfg.data.output_dir), config_hash(cfg)) else None
    if task == "train":
        from cj2.train.fingerprint import fingerprint

        summary = Path(cfg.run_dir) / "summary.json"
        try:
            done = json.loads(summary.read_text()).get("fingerprint") == fingerprint(cfg)
        except (OSError, ValueError):
            return None
        if done and (not cfg.train.export_hf or (Path(cfg.run_dir) / "hf" / "config.json").is_file()):
            return "trained (summary.json has this config's fingerprint)"
        return None
    if task == "eval":
        output = eval_output(cfg)
        if output.is_file() and cfg.eval.model and os.path.exists(cfg.eval.model) and output.stat().st_mtime >= _newest_mtime(Path(cfg.eval.model)):
            return "evaluated (written after its judge)"
    return None


def eval_output(cfg: DictConfig) -> Path:
    from cj2.eval.job import run_label

    return Path(cfg.eval.output or Path(cfg.run_dir) / f"eval_{run_label(cfg.eval)}.json")


def _newest_mtime(path: Path) -> float:
    if path.is_file():
        return path.stat().st_mtime
    return max((p.stat().st_mtime for p in path.iterdir() if p.is_file()), default=float("inf"))


# --- planning ----------------------------------------------------------------------------

def plan_stages(points: Sequence[Point], stages: Sequence[tuple[str, str]], evaluations: Sequence[DictConfig] | None = None,
                table: DictConfig | None = None) -> list[Stage]:
    """The jobs of every stage: shared artefacts once, complete work skipped.

    ``evaluations``: the eval stage's configs (a sweep's judges x sets; default: each point's
    own config); ``table``: the comparison job's config (a sweep).
    """
    from cj2.config import ConfigError, Problem

    planned = []
    for name, task in stages:
        stage = Stage(name, task)
        if task == "compare":
            stage.cfgs = [table] if table is not None else []
            planned.append(stage)
            continue
        cfgs = evaluations if task == "eval" and evaluations is not None else [p.cfg for p in points]
        owners: dict[tuple[str, ...], DictConfig] = {}
        for cfg in cfgs:
            key = tuple(stage_outputs(cfg, task)) if task in ("sample", "curate", "build_data") else (str(len(owners)),)
            if key in owners:
                if _identity(owners[key], task) != _identity(cfg, task):
                    raise ConfigError([Problem(f"[{name}] {', '.join(key)}", "two sweep points write this with different settings",
                                               "sweep a key that gives each point its own output dir, or keep these settings fixed")])
                continue
            owners[key] = cfg
            if (why := complete(cfg, task)) is not None:
                stage.skipped.append(f"{_where(cfg, task)}: {why}")
                continue
            if task == "build_data":
                _refuse_other_build(cfg, name)
            section = SHARDED.get(name)
            stage.cfgs += shard_configs(cfg, section) if section and cfg[section].num_shards > 1 else [cfg]
        planned.append(stage)
    return planned


def _refuse_other_build(cfg: DictConfig, stage: str) -> None:
    """A build directory holding another config's complete build fails now, not after the stages before it ran."""
    from cj2.config import ConfigError, Problem
    from cj2.data.job import BuildConflict, config_hash, hashed_config, refuse_to_replace

    try:
        refuse_to_replace(Path(cfg.data.output_dir), config_hash(cfg), hashed_config(cfg))
    except BuildConflict as e:
        raise ConfigError([Problem(f"[{stage}] data.output_dir", str(e), "set data.output_dir to a new directory")]) from None


def _identity(cfg: DictConfig, task: str):
    if task == "build_data":
        from cj2.data.job import config_hash

        return config_hash(cfg)
    return OmegaConf.to_container(cfg[task if task == "sample" else "curate"], resolve=True)


def _where(cfg: DictConfig, task: str) -> str:
    if task == "build_data":
        return cfg.data.output_dir
    if task == "eval":
        return str(eval_output(cfg))
    return cfg.run_dir


def refuse_live_jobs(home: str) -> None:
    """A second submission while the first one's jobs are queued or running would run the same work twice."""
    from cj2.cluster import registry, status
    from cj2.config import ConfigError, Problem

    if not registry.jobs(home):
        return
    live = [r for r in status.status(home) if not r["state"].startswith(status.FINISHED)]
    if live:
        ids = " ".join(r["job_id"] for r in live)
        raise ConfigError([Problem("run_dir", f"{home} still has {len(live)} job(s) queued or running ({ids})",
                                   f"wait for them (python launch/cluster.py status {home}) or cancel them (python launch/cluster.py cancel {home})")])


def submit_stages(planned: Sequence[Stage], home: str) -> dict[str, list]:
    """Submit each stage's jobs with ``afterok`` on the last stage that submitted any."""
    from cj2.cluster.slurm import dependency_on, submit, submit_array

    jobs: dict[str, list] = {}
    previous: list = []
    for stage in planned:
        for line in stage.skipped:
            print(f"cj2 {stage.name}: skipped {line}")
        if not stage.cfgs:
            jobs[stage.name] = []
            continue
        dependency = dependency_on(previous) if previous else None
        if len(stage.cfgs) > 1:
            previous = submit_array(stage.task, stage.cfgs, dependency=dependency, home=home)
        else:
            previous = [submit(stage.task, stage.cfgs[0], dependency=dependency, home=home)]
        jobs[stage.name] = previous
    return jobs


def submit_pipeline(cfg: DictConfig, stages: Sequence[tuple[str, str]] = STAGES) -> dict[str, list]:
    """Validate every stage of one config, then submit the chain; returns each stage's submitit jobs."""
    stages = needed(cfg, stages)
    validate_stages(cfg, stages)
    refuse_live_jobs(cfg.run_dir)
    return submit_stages(plan_stages([Point("", [], cfg)], stages), cfg.run_dir)
