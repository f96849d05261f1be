"""The paper's pipeline from labelled inputs alone, on the local cluster, every stage the real task:
rejection sampling -> teacher curation (a 2-task array) -> mixture build -> training -> evaluation.

The teacher is tests.data.teachers.MarkerTeacher (an engine class the jobs load by name): its
verdicts are known, so the sampled and curated rows are checked against counts computed here.
On one node (localhost), and across the two namespace nodes: sampling and curation arrays of two
tasks, one per node (each task takes a whole node), and training with a process on each node;
the counts are the same.
"""

from __future__ import annotations

import json

import pytest

from cj2.cluster.env import expand_nodelist
from cj2.cluster.pipeline import submit_pipeline
from tests.cluster.helpers import result_of, slurm_config, wait_for_accounting
from tests.data.helpers import read_jsonl, write_jsonl
from tests.data.test_curate_stage import write_inputs

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

REWARD_ROWS = 12
DISAGREE = {3, 7}  # reward rows whose label names the weak response: the teacher never agrees


def reward_pairs(path):
    """Chosen-first pairs (the usual layout); the chosen response holds GOOD, which the teacher prefers."""
    write_jsonl(path, [{"id": f"r{i}", "question": f"Which is better, {i}?", "response_a": f"GOOD answer {i}", "response_b": f"weak answer {i}",
                        "label": "B" if i in DISAGREE else "A", "source": "reward"} for i in range(REWARD_ROWS)])


def pandalm_rows(path):
    """Four pairs in PandaLM's test-set schema (three annotators, 1 or 2 = that response better)."""
    write_jsonl(path, [{"idx": i, "instruction": f"Say {i}.", "input": "", "response1": f"{i}", "response2": f"{i + 1}",
                        "annotator1": 1 + i % 2, "annotator2": 1 + i % 2, "annotator3": 1} for i in range(4)])


LAYOUTS = {
    "one_node": (),
    "two_nodes": ("cluster.partition=multi", "+cluster.additional.exclusive=true", "sample.num_shards=2", "cluster.nodes=2", "parallel.dp=2"),
}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_pipeline_samples_curates_builds_trains_and_evaluates_from_labelled_inputs(slurm, tmp_path, monkeypatch, request, layout):
    """Catches: a stage reading anything but what the previous one wrote (the rft component not fed
    by sampling's accepted.jsonl, the build not fed by the curation array), curation not submitted as
    an array, and stages validated as if they ran alone (nothing would be submitted). Across nodes:
    a sampling shard's rows lost or counted twice when the shards' tasks run on different hosts, and
    training not spread over both nodes."""
    nodes = request.getfixturevalue("slurm_nodes") if layout == "two_nodes" else None
    inputs, run_dir = tmp_path / "in", tmp_path / "run"
    write_inputs(inputs, tmp_path / "unused")  # every labelled input; no sampling or curation output
    reward_pairs(inputs / "reward_pairs.jsonl")
    pandalm_rows(tmp_path / "pandalm_test.jsonl")
    monkeypatch.setenv("CJ2_DATA", str(inputs))
    cfg = slurm_config(
        run_dir, "data=cj2", "model=tiny", "loss=margin", "cluster.mem_gb=4", "cluster.time_min=10",
        f"sample.input={inputs / 'reward_pairs.jsonl'}", f"sample.output_dir={tmp_path / 'samples'}", f"curate.output_dir={tmp_path / 'curated'}",
        f"data.output_dir={tmp_path / 'data'}", "sample.engine=tests.data.teachers:MarkerTeacher", "sample.n=2", "sample.progress=false",
        "curate.num_shards=2", "curate.flush_every=4", "curate.progress=false", "curate.template_share=0", "sample.max_tokens=256",
        "data.max_reject_fraction=1.0", "data.seq_length=1024",
        "data.validation_fraction=0.0", "train.max_steps=2", "train.precision=fp32", "train.save_interval=2",
        "eval=pandalm", f"eval.data_file={tmp_path / 'pandalm_test.jsonl'}", f"eval.model={run_dir / 'hf'}", "eval.max_tokens=8", "eval.progress=false",
        "parallel.micro_batch_size=1", "parallel.global_batch_size=2", "data.components.knowledge.options.answer_type=number", *LAYOUTS[layout])
    jobs = submit_pipeline(cfg)  # every stage: sample, curate, build_data, train, eval
    shards = cfg.sample.num_shards
    assert [len(jobs[s]) for s in ("sample", "curate", "build_data", "train", "eval")] == [shards, 2, 1, 1, 1]
    result_of(jobs["eval"][0], timeout_s=600)
    summary = result_of(jobs["train"][0])
    rows = wait_for_accounting(run_dir)
    assert [r["state"].split()[0] for r in rows] == ["COMPLETED"] * (shards + 5), rows
    if nodes:
        on = {task: [set(expand_nodelist(r["nodes"])) for r in rows if r["task"] == task] for task in ("sample", "train")}
        assert on["sample"] in ([{nodes[0]}, {nodes[1]}], [{nodes[1]}, {nodes[0]}]) and on["train"] == [set(nodes)], on

    accepted = read_jsonl(tmp_path / "samples" / "accepted.jsonl")
    assert len(accepted) == REWARD_ROWS - len(DISAGREE)  # accept_cap 1: one judgment per agreeing row
    curated = json.loads((tmp_path / "curated" / "summary.json").read_text())["components"]
    assert curated["public_judge"]["rejected"] == {"bad_date": 1, "teacher_disagrees": 4}
    stats = json.loads((tmp_path / "data" / "stats.json").read_text())["components"]
    assert stats["rft"]["kept"] == len(accepted)
    assert 0 < stats["rft"]["verdicts"]["A"] < len(accepted)  # position-balanced on the way in
    for name, c in curated.items():
        assert (stats[name]["rows_in"], stats[name]["kept"]) == (c["rows"], c["kept"]), name
    assert summary["steps"] == 2 and summary["final"]["loss"] > 0 and (run_dir / "checkpoints").is_dir()
    # the evaluation judged every pair with the judge training exported (a 2-step tiny judge: its verdicts are noise)
    assert len(read_jsonl(run_dir / "predictions_pandalm.jsonl")) == 4 and (run_dir / "eval_pandalm.json").is_file()
