"""The paper's pipeline from labelled inputs alone: sampling writes what the build reads.

``launch/cluster.py pipeline +exp=margin_7b`` validates every stage before submitting any, and the
mixture's ``rft`` component reads the sampling stage's ``accepted.jsonl``, a file that does not
exist at submission time. Validation must know that an earlier stage writes it; the build must
then consume exactly what sampling accepted.
"""

from __future__ import annotations

import json

import pytest

from cj2.cluster.pipeline import STAGES, validate_stages
from cj2.config import ConfigError, compose, finalize
from cj2.sample.job import sample_and_summarize
from tests.data.helpers import ScriptedTeacher, curate_and_build, write_jsonl
from tests.data.test_build_sharing import cj2_inputs, teacher_reply
from tests.sample.test_position_balance import OracleEngine, chosen_first_rows


@pytest.fixture
def paper_run(tmp_path, monkeypatch):
    """+exp=margin_7b over a data folder holding labelled inputs only (no rft_accepted / accepted.jsonl)."""
    data, models = tmp_path / "in", tmp_path / "models"
    cj2_inputs(data, tmp_path / "unused")  # every component's input but the sampling output
    write_jsonl(data / "reward_pairs.jsonl", chosen_first_rows()[:40])
    (models / "Qwen2.5-7B-Instruct").mkdir(parents=True)
    (models / "Qwen2.5-7B-Instruct" / "config.json").write_text("{}")
    monkeypatch.setenv("CJ2_DATA", str(data))
    monkeypatch.setenv("CJ2_MODELS", str(models))
    overrides = ["+exp=margin_7b", f"run_dir={tmp_path / 'run'}", f"sample.output_dir={tmp_path / 'samples'}", f"data.output_dir={tmp_path / 'data'}",
                 f"curate.output_dir={tmp_path / 'curated'}", f"sample.model={models / 'Qwen2.5-7B-Instruct'}", "sample.n=2", "sample.progress=false", "data.max_reject_fraction=1.0"]
    return finalize(compose(overrides)), tmp_path


def test_every_stage_validates_before_its_inputs_exist(paper_run):
    """Catches: validating each stage as if it ran alone (the build's rft input, written by sampling,
    refused at submission: the paper pipeline could never be submitted)."""
    cfg, tmp_path = paper_run
    assert not (tmp_path / "samples" / "accepted.jsonl").exists()
    validate_stages(cfg, STAGES)  # no ConfigError
    with pytest.raises(ConfigError, match=r"\[build_data\] data.components.rft.path"):
        validate_stages(cfg, [("build_data", "build_data")])  # alone, the build has no RFT data to read


def test_a_missing_labelled_input_is_still_refused(paper_run):
    """Catches: treating every missing file as produced by some stage, and training checking the
    component files it never reads (a second [train] problem for general_sft)."""
    cfg, tmp_path = paper_run
    (tmp_path / "in" / "reward_pairs.jsonl").unlink()
    (tmp_path / "in" / "general_sft.jsonl").unlink()
    with pytest.raises(ConfigError) as info:
        validate_stages(cfg, STAGES)
    assert {p.key for p in info.value.problems} == {"[sample] sample.input", "[build_data] data.components.general_sft.path"}


def test_the_build_consumes_what_sampling_accepted(paper_run, qwen_tokenizer):
    """Catches: the rft component reading anything but the sampling stage's accepted.jsonl (the old
    ${CJ2_DATA}/rft_accepted.jsonl: a file no stage writes)."""
    cfg, tmp_path = paper_run
    summary = sample_and_summarize(cfg.sample, OracleEngine)
    assert summary["training_samples"] == 40  # accept_cap=1: one accepted judgment per item
    out = curate_and_build(cfg, ScriptedTeacher(teacher_reply))
    rft = json.loads((out / "stats.json").read_text())["components"]["rft"]
    assert rft["kept"] == 40 and rft["verdicts"] == {"A": 20, "B": 20}


def test_curation_is_a_stage_only_for_a_mixture_with_a_teacher_role(paper_run):
    """Catches: a curate job submitted for a mixture no teacher touches (it would fail: nothing to curate)."""
    from cj2.cluster.pipeline import needed

    cfg, _ = paper_run
    assert [name for name, _ in needed(cfg, STAGES)] == ["sample", "curate", "build_data", "train", "eval"]
    assert [name for name, _ in needed(compose(["data=demo"]), STAGES)] == ["sample", "build_data", "train", "eval"]
