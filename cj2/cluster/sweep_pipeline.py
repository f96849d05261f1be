"""The pipeline over a sweep: every point's chain, shared artefacts once, then a comparison.

    python launch/cluster.py pipeline +exp=sft_7b loss=none,dpo_noref,temperature,margin seed=1,2

The sweep's run dir (``run_dir`` of the fixed overrides) holds one run dir per point, named by
its sweep values (``loss=none,seed=1``, the names :func:`cj2.eval.studies.ablation.sweep_point` finds),
and ``compare/`` (or ``compare.output_dir``): one directory per judge with its evaluations, and
``table.md`` / ``table.png``. See :mod:`cj2.cluster.pipeline` for the stages, sharing and resume.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from cj2.cluster.pipeline import (
    STAGES,
    Point,
    needed,
    plan_stages,
    refuse_live_jobs,
    stage_outputs,
    stage_problems,
    submit_stages,
)


def split_sweep(overrides: Sequence[str]) -> tuple[list[str], list[list[str]], list[str]]:
    """(fixed overrides, every point's full override list, the swept keys), expanded as Hydra's basic sweeper does."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(list(overrides))
    swept = [o.get_key_element() for o in parsed if o.is_sweep_override()]
    fixed = [o.input_line for o in parsed if not o.is_sweep_override()]
    points = [point for batch in BasicSweeper.split_arguments(parsed, None) for point in batch]
    return fixed, points, swept


def quoted(value) -> str:
    """A value as a Hydra override value: sweep dirs hold '=' and ',', override syntax outside quotes."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def make_points(overrides: Sequence[str]) -> tuple[DictConfig, list[Point]]:
    """The sweep's own config (its run dir holds every point's) and one finalized config per point."""
    from cj2.config import compose, finalize

    fixed, points, swept = split_sweep(overrides)
    base = finalize(compose(fixed))
    out = []
    for point in points:
        values = [item for item in point if item.split("=", 1)[0] in swept]
        name = ",".join(values)
        own = [item for item in point if item.split("=", 1)[0] != "run_dir"] + [f"run_dir={quoted(Path(base.run_dir) / name)}"]
        out.append(Point(name, own, finalize(compose(own))))
    return base, out


def compare_dir(base: DictConfig) -> Path:
    return Path(base.compare.output_dir or Path(base.run_dir) / "compare")


def evaluation_configs(base: DictConfig, fixed: Sequence[str], points: Sequence[Point]) -> list[DictConfig]:
    """Every judge on every set: each point's exported judge, then ``compare.judges``.

    Each evaluation is the point's (or the sweep's) config with ``eval=<set>``, so the preset's eval
    settings (template, parser, swap, max_tokens) apply to every set; its outputs go to
    ``<compare dir>/<judge>/eval_<set>.json``.
    """
    from cj2.config import compose, finalize

    out_dir = compare_dir(base)
    c = base.compare
    sets = dict(c.sets) or {base.eval.name: base.eval.limit or 0}
    judges = [(p.name, p.overrides, str(Path(p.cfg.run_dir) / "hf"), "hf", None) for p in points]
    judges += [(name, list(fixed), model, c.judge_engines.get(name, "hf"), c.judge_sets.get(name)) for name, model in c.judges.items()]
    configs = []
    for judge, overrides, model, engine, only in judges:
        for set_name, limit in sets.items():
            if only is not None and set_name not in only:
                continue
            run_dir = out_dir / judge
            extra = [f"eval={set_name}", f"eval.model={quoted(model)}", f"eval.engine={engine}", f"run_dir={quoted(run_dir)}",
                     f"eval.limit={limit or 'null'}", f"eval.output={quoted(run_dir / f'eval_{set_name}.json')}"]
            if set_name in c.data_files:
                extra.append(f"eval.data_file={quoted(c.data_files[set_name])}")
            kept = [o for o in overrides if o.split("=", 1)[0] != "run_dir"]
            configs.append(finalize(compose([*kept, *extra])))
    return configs


def evaluation_problems(evaluations: Sequence[DictConfig], produced: frozenset[str]) -> list:
    """Inputs an evaluation needs and no stage writes: a missing set file or judge (checked before any job runs)."""
    import os

    from cj2.config import Problem

    problems = []
    for cfg in evaluations:
        where = f"[eval {Path(cfg.run_dir).name}/{cfg.eval.name}]"
        if cfg.eval.data_file and not os.path.exists(cfg.eval.data_file):
            problems.append(Problem(f"{where} eval.data_file", f"{cfg.eval.data_file} does not exist",
                                    f"set compare.data_files.{cfg.eval.name} (or CJ2_DATA for the presets that read it)"))
        model = os.path.abspath(cfg.eval.model)
        if not os.path.exists(model) and model not in produced:
            problems.append(Problem(f"{where} eval.model", f"{cfg.eval.model} does not exist and no stage writes it", "check compare.judges"))
    return problems


def submit_sweep(overrides: Sequence[str], stages: Sequence[tuple[str, str]] = STAGES) -> dict[str, list]:
    """Validate every point and every evaluation, then submit the chain of the whole sweep."""
    from cj2.config import ConfigError

    fixed, _, _ = split_sweep(overrides)
    base, points = make_points(overrides)
    stages = needed(base, stages, comparing=True)
    problems, produced = [], frozenset()
    for p in points:
        problems += stage_problems(p.cfg, [s for s in stages if s[1] != "eval"], prefix=f"{p.name} ")
        produced |= frozenset(out for _, task in stages for out in stage_outputs(p.cfg, task))
    evaluations = evaluation_configs(base, fixed, points) if any(task == "eval" for _, task in stages) else []
    problems += evaluation_problems(evaluations, produced)
    if problems:
        raise ConfigError(problems)
    refuse_live_jobs(base.run_dir)
    print(f"cj2 pipeline: {len(points)} sweep points under {base.run_dir}: {', '.join(p.name for p in points)}")
    return submit_stages(plan_stages(points, stages, evaluations, table=base), base.run_dir)
