"""What a pipeline sweep submits, decided before any job: one job per shared artefact, one training
per point, every judge on every set, and a rerun that skips only the work that is really complete."""

from __future__ import annotations

import json
import os
import time

import pytest

from cj2.cluster.pipeline import STAGES, complete, needed, plan_stages
from cj2.cluster.status import array_tasks
from cj2.cluster.sweep_pipeline import evaluation_configs, evaluation_problems, make_points, split_sweep
from cj2.config import ConfigError


def sweep(tmp_path, *extra):
    return ["+exp=demo", "cluster=slurm_local", f"run_dir={tmp_path / 'sweep'}", "loss=none,margin", "seed=1,2", "data.seed=${seed}",
            f"data.output_dir={tmp_path}/data-seed${{seed}}", "+compare.sets.pandalm=0", f"+compare.data_files.pandalm={tmp_path / 'pandalm.json'}",
            f"+compare.judges.base={tmp_path / 'base'}", *extra]


def plan(overrides):
    base, points = make_points(overrides)
    evaluations = evaluation_configs(base, split_sweep(overrides)[0], points)
    return base, points, evaluations, {s.name: s for s in plan_stages(points, needed(base, STAGES, comparing=True), evaluations, base)}


def test_points_are_named_by_their_sweep_values_and_live_under_the_sweep_dir(tmp_path):
    """Catches: a point's run dir not quoted as an override (the '=' and ',' of its name break
    Hydra), and points named by every override instead of the swept ones."""
    base, points = make_points(sweep(tmp_path))
    assert [p.name for p in points] == ["loss=none,seed=1", "loss=none,seed=2", "loss=margin,seed=1", "loss=margin,seed=2"]
    assert [p.cfg.run_dir for p in points] == [str(tmp_path / "sweep" / p.name) for p in points]
    assert [(p.cfg.loss.name, p.cfg.seed, p.cfg.data.output_dir) for p in points[1:3]] == [
        ("none", 2, f"{tmp_path}/data-seed2"), ("margin", 1, f"{tmp_path}/data-seed1")]
    assert base.run_dir == str(tmp_path / "sweep")


def test_points_share_one_build_per_data_config_and_each_trains_and_is_judged(tmp_path):
    """Catches: a build per point (the four losses of a seed must train on one build: 4 builds
    here instead of 2), a judge or a set missing from the evaluation, the table job missing."""
    _, points, evaluations, stages = plan(sweep(tmp_path))
    assert sorted(c.data.output_dir for c in stages["build_data"].cfgs) == [f"{tmp_path}/data-seed1", f"{tmp_path}/data-seed2"]
    assert [c.run_dir for c in stages["train"].cfgs] == [p.cfg.run_dir for p in points]
    judged = sorted((os.path.basename(c.run_dir), c.eval.name, c.eval.model) for c in stages["eval"].cfgs)
    assert judged == sorted([(p.name, "pandalm", f"{p.cfg.run_dir}/hf") for p in points] + [("base", "pandalm", str(tmp_path / "base"))])
    assert all(c.eval.output == f"{tmp_path}/sweep/compare/{os.path.basename(c.run_dir)}/eval_pandalm.json" for c in evaluations)
    assert all(c.eval.data_file == str(tmp_path / "pandalm.json") and c.eval.limit is None for c in evaluations)
    assert [c.run_dir for c in stages["compare"].cfgs] == [str(tmp_path / "sweep")]
    assert "curate" not in stages  # the demo mixture has no teacher role


def test_points_writing_one_build_with_different_data_are_refused(tmp_path):
    """Catches: two seeds' builds written to one directory (the second build would replace the
    data the first point's training reads)."""
    overrides = [o for o in sweep(tmp_path) if not o.startswith("data.output_dir")] + [f"data.output_dir={tmp_path}/data"]
    with pytest.raises(ConfigError, match="two sweep points write this with different settings"):
        plan(overrides)


def test_judges_limited_to_some_sets_and_missing_inputs_are_named(tmp_path):
    """Catches: a reference judge run on sets it cannot judge, and an evaluation input (a set's
    file) found missing only when its job runs, hours into the sweep."""
    overrides = sweep(tmp_path, "+compare.sets.llmbar=2", f"+compare.data_files.llmbar={tmp_path / 'llmbar.json'}", "+compare.judge_sets.base=[llmbar]")
    base, points, evaluations, _ = plan(overrides)
    assert sorted(c.eval.name for c in evaluations if c.run_dir.endswith("/base")) == ["llmbar"]
    assert [c.eval.limit for c in evaluations if c.eval.name == "llmbar"][:1] == [2]
    (tmp_path / "base").mkdir()
    (tmp_path / "pandalm.json").write_text("[]")
    produced = frozenset(f"{p.cfg.run_dir}/hf" for p in points)
    problems = evaluation_problems(evaluations, produced)
    assert {p.key.split("] ")[1] for p in problems} == {"eval.data_file"} and all("llmbar.json" in p.message for p in problems)
    assert len(problems) == len(points) + 1
    assert evaluation_problems(evaluations, frozenset()) != problems  # the points' judges exist only once training writes them


def test_a_rerun_skips_exactly_the_complete_work(tmp_path):
    """Catches: a finished run retrained (or, worse, a run with changed settings skipped: the
    fingerprint check dropped), a build of another config taken as complete, and an evaluation
    kept after its judge was retrained (the output-newer-than-judge check dropped)."""
    from cj2.data.job import config_hash
    from cj2.train.fingerprint import fingerprint

    _, points, evaluations, _ = plan(sweep(tmp_path))
    first = points[0].cfg
    build = tmp_path / "data-seed1"
    build.mkdir()
    (build / "build.json").write_text(json.dumps({"config_hash": config_hash(first)}))
    assert complete(first, "build_data") and not complete(points[1].cfg, "build_data")
    (build / "build.json").write_text(json.dumps({"config_hash": "another"}))
    assert complete(first, "build_data") is None

    run = tmp_path / "sweep" / points[0].name
    (run / "hf").mkdir(parents=True)
    (run / "summary.json").write_text(json.dumps({"fingerprint": fingerprint(first)}))
    assert complete(first, "train") is None  # no exported judge yet
    (run / "hf" / "config.json").write_text("{}")
    assert complete(first, "train")
    changed = make_points(sweep(tmp_path, "train.lr=1e-4"))[1][0].cfg
    assert complete(changed, "train") is None

    evaluation = next(c for c in evaluations if c.eval.model == f"{run}/hf")
    assert complete(evaluation, "eval") is None
    output = tmp_path / "sweep" / "compare" / points[0].name / "eval_pandalm.json"
    output.parent.mkdir(parents=True)
    output.write_text("{}")
    assert complete(evaluation, "eval")
    later = time.time() + 5
    os.utime(run / "hf" / "config.json", (later, later))  # retrained after the evaluation
    assert complete(evaluation, "eval") is None


def test_array_tasks_that_never_started_are_found_in_their_range_row():
    """Catches: the tasks of an array cancelled before they started (sacct lists them as one row,
    ``123_[0-2]``) shown as UNKNOWN forever, which made a rerun of the pipeline refuse to start."""
    assert array_tasks("123_[0-2,5%1]") == ["123_0", "123_1", "123_2", "123_5"]
    assert array_tasks("123_4") == ["123_4"] and array_tasks("77") == ["77"]
