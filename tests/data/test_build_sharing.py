"""One data build per data config: the ablation presets share it, nothing overwrites it, builders take turns."""

from __future__ import annotations

import json
import threading

import pytest
from omegaconf import OmegaConf

import cj2.data.job as build_module
from cj2.config.compose import compose
from cj2.data.job import BuildConflict, build_lock, build_mixture, config_hash
from tests.data.helpers import ScriptedTeacher, cot_judgment, curate_and_build, data_cfg, write_jsonl

ABLATIONS = ("margin_7b", "sft_7b", "dpo_7b", "temperature_7b")


def cj2_inputs(folder, samples):
    """Small files for every component of conf/data/cj2.yaml, in the columns it maps (the rft
    component reads the sampling stage's output in ``samples``)."""
    write_jsonl(folder / "public_judge.jsonl", [
        {"question": f"Q{i}", "response_a": f"first {i}", "response_b": f"second {i}", "label": "A",
         "date": "2024-03-01" if i < 3 else "2024-12-01", "judgment": cot_judgment("A")} for i in range(6)])
    write_jsonl(samples / "accepted.jsonl", [
        {"messages": [{"role": "user", "content": f"Judge pair {i}"}], "target": cot_judgment("B"), "verdict": "B", "verdict_format": "cj2_cot"}
        for i in range(4)])
    write_jsonl(folder / "knowledge.jsonl", [{"question": f"K{i}\n(A) x\n(B) y", "gold": "A", "response": "The answer is (A)."} for i in range(4)])
    write_jsonl(folder / "chat_prompts.jsonl", [{"question": f"Tell me about topic {i}."} for i in range(4)])
    write_jsonl(folder / "general_sft.jsonl", [{"prompt": f"Say {i}", "response": f"{i}"} for i in range(4)])


def teacher_reply(messages, k):
    text = messages[-1]["content"]
    if "[Response]" in text:
        return json.dumps({"rationale": "checked", "correctness": "correct"})
    if "Model A" in text:
        return cot_judgment("A")
    return f"An answer in the asked style ({k})."


def preset(name, tmp_path):
    return compose([f"+exp={name}", f"data.output_dir={tmp_path / 'data'}", f"sample.output_dir={tmp_path / 'samples'}",
                    f"curate.output_dir={tmp_path / 'curated'}", "data.max_reject_fraction=1.0"])


def test_ablation_presets_share_one_build(tmp_path, monkeypatch, qwen_tokenizer):
    """Catches: hashing the whole sample section (sample.output_dir holds the run name: four hashes, four rebuilds)."""
    cj2_inputs(tmp_path / "in", tmp_path / "samples")
    monkeypatch.setenv("CJ2_DATA", str(tmp_path / "in"))
    configs = {name: preset(name, tmp_path) for name in ABLATIONS}
    assert len({cfg.run_dir for cfg in configs.values()}) == 4  # four runs ...
    assert len({config_hash(cfg) for cfg in configs.values()}) == 1  # ... one data config
    assert len({cfg.data.output_dir for cfg in configs.values()}) == 1
    teacher = ScriptedTeacher(teacher_reply)
    first = curate_and_build(configs["margin_7b"], teacher)
    asked, manifest = len(teacher.prompts), (first / "build.json").read_bytes()
    stats = json.loads((first / "stats.json").read_text())
    assert asked > 0 and stats["kept"] > 0
    for name in ABLATIONS[1:]:
        assert build_mixture(configs[name], show_progress=False) == first
    assert len(teacher.prompts) == asked  # built once: no teacher call after the first
    assert (first / "build.json").read_bytes() == manifest
    base = config_hash(configs["margin_7b"])
    # Speed, addresses and the sampling run's bookkeeping do not enter the hash; the teacher and the data do.
    for key, value in (("sample.concurrency", 64), ("sample.output_dir", "elsewhere"), ("sample.flush_every", 7), ("sample.num_shards", 8),
                       ("data.num_workers", 4), ("data.chunk_size", 9), ("data.max_reject_fraction", 0.2)):
        assert config_hash(changed(configs["margin_7b"], key, value)) == base, key
    for key, value in (("sample.model", "other-teacher"), ("sample.temperature", 0.7), ("sample.accept_cap", 3), ("data.seed", 7), ("data.swap_positions", "both")):
        assert config_hash(changed(configs["margin_7b"], key, value)) != base, key


def changed(cfg, key, value):
    copy = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    OmegaConf.update(copy, key, value)
    return copy


def test_the_tokenizer_decides_the_build(tmp_path):
    """The packed shards hold token ids: a build made with another tokenizer is another build.

    Catches: ``model.tokenizer`` dropped from the hashed config (a run with another tokenizer would
    silently train on a build whose ids mean other tokens), on a mixture with and without a teacher role."""
    for data in ("demo", "cj2"):
        base = compose([f"data={data}"])
        assert config_hash(changed(base, "model.tokenizer", "/models/other-tokenizer")) != config_hash(base), data


def test_sample_section_is_not_hashed_without_a_teacher_role(tmp_path):
    """Catches: hashing sample settings for a mixture no teacher touches."""
    base = config_hash(compose(["data=demo"]))
    assert config_hash(compose(["data=demo", "sample.model=teacher", "sample.n=3"])) == base


def small_demo(out, **overrides):
    return data_cfg(out, {"d": {"kind": "synthetic_demo", "num_samples": 8, "template": "cj2_short"}}, **overrides)


def test_a_build_never_replaces_another_configs_build(tmp_path, qwen_tokenizer):
    """Catches: a build of another hash deleting the complete build in its output_dir (the old rmtree + rebuild)."""
    out = tmp_path / "shared"
    build_mixture(small_demo(out), show_progress=False)
    before = (out / "build.json").read_bytes()
    with pytest.raises(BuildConflict, match=r"another data config .*data\.seed: 1234 -> 99"):
        build_mixture(small_demo(out, seed=99), show_progress=False)
    assert (out / "build.json").read_bytes() == before
    rebuilt = build_mixture(small_demo(out, seed=99), show_progress=False, force=True)
    assert json.loads((rebuilt / "build.json").read_text())["config_hash"] == config_hash(small_demo(out, seed=99))
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("not a build")
    with pytest.raises(BuildConflict, match="mine.txt"):
        build_mixture(small_demo(foreign), show_progress=False)
    assert (foreign / "mine.txt").read_text() == "not a build"


def test_concurrent_builders_of_one_directory_build_once(tmp_path, monkeypatch, qwen_tokenizer):
    """Catches: no lock (both build into one directory at once) and no second look at the directory
    after the wait (the builder that waited builds again)."""
    out = tmp_path / "shared"
    waiting = threading.Semaphore(0)
    real_wait, real_build = build_module._waiting_for_lock, build_module._build_into
    builds = []

    def note_wait(path):
        real_wait(path)
        waiting.release()

    def counted_build(*args):
        builds.append(args[0])
        return real_build(*args)

    monkeypatch.setattr(build_module, "_waiting_for_lock", note_wait)
    monkeypatch.setattr(build_module, "_build_into", counted_build)
    results, errors = [], []
    configs = [small_demo(out), small_demo(out)]  # composed here: Hydra's compose is not thread-safe

    def builder(cfg):
        try:
            results.append(build_mixture(cfg, show_progress=False))
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=builder, args=(cfg,)) for cfg in configs]
    with build_lock(out):  # a third builder holds the directory: both must queue behind it
        for t in threads:
            t.start()
        assert waiting.acquire(timeout=120) and waiting.acquire(timeout=120)
        assert not builds and not out.exists()
    for t in threads:
        t.join(timeout=300)
    assert not errors and results == [out, out]
    assert len(builds) == 1
    assert json.loads((out / "build.json").read_text())["config_hash"] == config_hash(small_demo(out))
