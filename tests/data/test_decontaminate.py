"""Evaluation sets never train: a benchmark's data is refused by name at validation, and training
rows that ask an evaluation question are quarantined (eval_overlap) by the build."""

from __future__ import annotations

import json

import pytest

from cj2.config import ConfigError, compose, validate
from cj2.config.compose import CONF_DIR
from cj2.data.curation.decontaminate import EVAL_DATA, eval_source, load_questions, question_hash, registered_benchmarks
from cj2.data.job import build_mixture
from cj2.data.records import JudgeExample
from cj2.data.sources.loaders import load_examples
from cj2.data.sources.raw import SourceError
from tests.data.helpers import ScriptedTeacher, cot_judgment, curate_and_build, data_cfg, read_jsonl, write_jsonl


def test_every_eval_config_names_its_data():
    """The registry is the eval configs: each benchmark of conf/eval says how its data is named.

    Catches: an eval config added (or an EVAL_DATA entry deleted, e.g. rewardbench) without naming
    its data, so that its files would train unnoticed."""
    configs = {p.stem for p in (CONF_DIR / "eval").glob("*.yaml")}
    assert set(registered_benchmarks()) == configs == set(EVAL_DATA)
    assert all(data.names or data.globs for data in EVAL_DATA.values())


@pytest.mark.parametrize("path, hub, benchmark", [
    ("/d/judgebench/judgebench_gpt-4o.jsonl", None, "judgebench"),
    ("/d/JudgeBench/data/dataset=judgebench,response_model=gpt-4o-2024-05-13.jsonl", None, "judgebench"),
    (None, "ScalerLab/JudgeBench", "judgebench"),
    (None, "allenai/reward-bench", "rewardbench"),
    ("/d/reward_bench/filtered.jsonl", None, "rewardbench"),
    ("/d/RMB-Reward-Model-Benchmark/RMB_dataset/Pairwise_set/Helpfulness/Code/Documentation.json", None, "rmb"),
    ("/d/rmb/pairwise_helpfulness_code_documentation.json", None, "rmb"),
    ("/d/pandalm/testset-v1.json", None, "pandalm"),
    ("/d/LLMBar/Dataset/LLMBar/Natural/dataset.json", None, "llmbar"),
    ("/d/auto-j/data/test/testdata_pairwise.jsonl", None, "autoj_pairwise"),
    ("/d/JudgerBench_V2", None, "judgerbenchv2"),
    # Training data beside a benchmark's test set, and names that only look alike:
    ("/d/pandalm/train.json", None, None),
    ("/d/auto-j/data/training/pairwise_traindata.jsonl", None, None),
    ("/d/rmb/mine/data/train.jsonl", None, None),  # a folder called rmb further up
    (None, "NCSOFT/offsetbias", None),
    (None, "HuggingFaceH4/ultrafeedback_binarized", None),
])
def test_a_benchmark_is_known_by_its_data_names(path, hub, benchmark):
    """Catches: names compared as written ("reward-bench" != "rewardbench" lets the Hub id through),
    a benchmark name matched anywhere in a path (a folder called rmb up the path refuses every file under it),
    PandaLM or Auto-J refused as a whole dataset (their training splits are legitimate)."""
    found = eval_source(path, hub)
    assert (found[0] if found else None) == benchmark


def test_validation_refuses_an_eval_source_unless_allowed(tmp_path):
    """The run's own evaluation file is evaluation data whatever it is called; allow_eval_source lifts the refusal.

    Catches: a check that ignores eval.data_file, or one that ignores allow_eval_source."""
    mine = tmp_path / "my_test_pairs.jsonl"
    cfg = compose(["eval=pandalm", f"eval.data_file={mine}", "data.components.arithmetic.kind=pairwise", f"data.components.arithmetic.path={mine}"])
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    [problem] = [p for p in info.value.problems if p.key == "data.components.arithmetic.path"]
    assert "component 'arithmetic'" in problem.message and "benchmark 'pandalm'" in problem.message
    assert "allow_eval_source=true" in problem.fix
    validate(compose(["eval=pandalm", f"eval.data_file={mine}", "data.components.arithmetic.kind=pairwise",
                      f"data.components.arithmetic.path={mine}", "data.components.arithmetic.allow_eval_source=true"]))


# The old pairwise_public mappings of the shared benchmark files (the way a training source reads them).
OLD_MAPPINGS = {
    "judgebench/judgebench_gpt-4o.jsonl": {"question": "question", "response_a": "response_A", "response_b": "response_B", "label": "label"},
    "pandalm/testset-v1.json": {"question": "{instruction}\n\n{input}", "response_a": "response1", "response_b": "response2", "label": "annotator1"},
    "llmbar/natural.json": {"question": "input", "response_a": "output_1", "response_b": "output_2", "label": "label"},
    "llmbar/mt-bench-human.json": {"question": "input", "response_a": "output_1", "response_b": "output_2", "label": "label"},
    "rmb/pairwise_helpfulness_code_documentation.json": {"question": "chat:conversation_input", "response_a": "chosen.answer", "response_b": "reject.answer", "label": "const:A"},
}


@pytest.mark.parametrize("file", sorted(OLD_MAPPINGS))
def test_every_question_of_the_real_benchmarks_is_found(shared_data, file):
    """Each shared benchmark file is refused by name, and every question a training mapping reads
    from it is among the evaluation questions read from the file as it is.

    Catches: PandaLM's "{instruction}\\n\\n{input}" questions not formed on the evaluation side (832 of
    its 999 rows have an input), a question column left out (JudgeBench question, LLMBar input)."""
    path = shared_data / file
    assert eval_source(str(path), None) is not None
    questions = load_questions([str(path)])
    component = {"kind": "pairwise", "path": str(path), "fields": OLD_MAPPINGS[file], "label_map": {"A>B": "A", "B>A": "B", "0": "tie", "1": "A", "2": "B", "A": "A"}}
    examples = [e for e in load_examples(component, "old") if isinstance(e, JudgeExample)]
    assert examples and [e.meta["row"] for e in examples if question_hash(e.question) not in questions] == []


def _eval_folder(root):
    """Nested evaluation files in three benchmarks' shapes; returns the files."""
    plain = write_jsonl(root / "judge" / "bench.jsonl", [{"question": "Which planet is largest?"}, {"question": "What is the capital of France?"}])
    chats = root / "rmb" / "Pairwise_set" / "chat.json"
    chats.parent.mkdir(parents=True)
    chats.write_text(json.dumps([{"conversation_input": [{"role": "user", "content": "Plan a trip"}, {"role": "assistant", "content": "Where to?"},
                                                          {"role": "user", "content": "To Rome"}]}]))
    panda = root / "panda.json"
    panda.write_text(json.dumps([{"instruction": "Summarize the text.", "input": "The cat sat on the mat."}]))
    return plain, chats, panda


def _training(root):
    rows = [{"question": f"Question {i}?", "response_a": f"one {i}", "response_b": f"two {i}", "label": "AB"[i % 2]} for i in range(40)]
    rows[6]["question"] = "what is the CAPITAL of  France"  # case, spacing and punctuation differ
    rows[20]["question"] = "Summarize the text.\nThe cat sat on the mat."  # PandaLM's two columns, another separator
    main = write_jsonl(root / "train.jsonl", rows)
    convo = [{"role": "user", "content": "Plan a trip"}, {"role": "assistant", "content": "Where to?"}, {"role": "user", "content": "To Rome"}]
    chats = write_jsonl(root / "chats.jsonl", [{"conversation": convo, "a": "Rome in 3 days", "b": "Go", "label": "A"},
                                               {"conversation": [{"role": "user", "content": "Plan a picnic"}], "a": "Bring fruit", "b": "No", "label": "A"}])
    return {"main": {"kind": "pairwise", "path": str(main), "template": "cj2_short"},
            "chats": {"kind": "pairwise", "path": str(chats), "template": "cj2_short", "max_reject_fraction": 1.0,
                      "fields": {"question": "chat:conversation", "response_a": "a", "response_b": "b", "label": "label"}}}


@pytest.mark.parametrize("workers", [1, 2])
def test_build_quarantines_rows_that_ask_an_evaluation_question(tmp_path, qwen_tokenizer, workers):
    """Catches: a build that never screens (process_chunk called without decontaminate.screen),
    questions loaded after the worker pool forks (workers=2 keeps every row), a comparison that
    does not case-fold or ignore spacing (row 7), a multi-turn question not rendered as the chat:
    spec renders it (chats row 1)."""
    plain, chats, panda = _eval_folder(tmp_path / "evals")
    cfg = data_cfg(tmp_path / "out", _training(tmp_path), decontaminate_against=[str(tmp_path / "evals")], num_workers=workers, chunk_size=8)
    out = build_mixture(cfg, show_progress=False)
    quarantine = read_jsonl(out / "quarantine.jsonl")
    assert [(q["component"], q["row"], q["reason"]) for q in quarantine] == [("main", 7, "eval_overlap"), ("main", 21, "eval_overlap"), ("chats", 1, "eval_overlap")]
    assert [q["detail"] for q in quarantine] == [f"the question is also in the evaluation data of evals ({plain} row 2)",
                                                 f"the question is also in the evaluation data of evals ({panda} row 1)",
                                                 f"the question is also in the evaluation data of evals ({chats} row 1)"]
    stats = json.loads((out / "stats.json").read_text())["components"]
    assert (stats["main"]["rows_in"], stats["main"]["kept"], stats["main"]["rejected"]) == (40, 38, {"eval_overlap": 2})
    assert (stats["chats"]["rows_in"], stats["chats"]["kept"], stats["chats"]["rejected"]) == (2, 1, {"eval_overlap": 1})


def test_overlap_check_off_or_component_allowed(tmp_path, qwen_tokenizer):
    """Catches: data.decontaminate=false or allow_eval_source ignored by the build's screen."""
    _eval_folder(tmp_path / "evals")
    components = _training(tmp_path)
    off = build_mixture(data_cfg(tmp_path / "off", components, decontaminate_against=[str(tmp_path / "evals")], decontaminate=False), show_progress=False)
    assert read_jsonl(off / "quarantine.jsonl") == []
    components["main"]["allow_eval_source"] = True
    allowed = build_mixture(data_cfg(tmp_path / "allowed", components, decontaminate_against=[str(tmp_path / "evals")]), show_progress=False)
    assert [(q["component"], q["row"]) for q in read_jsonl(allowed / "quarantine.jsonl")] == [("chats", 1)]


def test_missing_evaluation_path_is_an_error(tmp_path):
    """A typo must not silently turn the check off: refused at run-stage validation and by the build.

    Catches: a missing data.decontaminate_against entry skipped as if it held no questions."""
    missing = tmp_path / "no_such_eval_dir"
    cfg = compose(["data=demo", f"data.output_dir={tmp_path / 'out'}", f"data.decontaminate_against=[{missing}]"])
    validate(cfg)  # composing needs no files
    with pytest.raises(ConfigError) as info:
        validate(cfg, stage="run", task="build_data")
    assert [p.message for p in info.value.problems if p.key == "data.decontaminate_against"] == [f"no evaluation data at {missing}"]
    with pytest.raises(SourceError, match=f"{missing}: no such file or folder"):
        build_mixture(cfg, show_progress=False)


def test_g_sft_rows_asking_an_evaluation_question_are_quarantined(tmp_path, qwen_tokenizer):
    """G-SFT conversations are screened like judge rows: the first user turn is the question.

    Catches: ``kind: sft`` components skipping the overlap screen (decontaminate.screen reading a
    question from judge examples only), so an instruction set holding a benchmark prompt trains on it."""
    _eval_folder(tmp_path / "evals")
    chats = [{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is the capital of France?"},
                           {"role": "assistant", "content": "Paris."}]},
             {"messages": [{"role": "user", "content": "Name a colour."}, {"role": "assistant", "content": "Blue."}]}]
    sft = {"kind": "sft", "path": str(write_jsonl(tmp_path / "sft.jsonl", chats)), "max_reject_fraction": 1.0}
    out = build_mixture(data_cfg(tmp_path / "out", {"sft": sft}, decontaminate_against=[str(tmp_path / "evals")]), show_progress=False)
    assert [(q["component"], q["row"], q["reason"]) for q in read_jsonl(out / "quarantine.jsonl")] == [("sft", 1, "eval_overlap")]


def test_registered_benchmarks_and_rewardbench_sources_are_screened_by_default(tmp_path, qwen_tokenizer):
    """With data.eval_data holding a registered benchmark's folder (pandalm) and a RewardBench prompt
    source (mt-bench), nothing listed in decontaminate_against: every component is screened against
    PandaLM's test questions, the rft component also against MT-Bench's; stats count overlaps per source.
    Catches: decontamination off unless decontaminate_against is set (the old default), RewardBench
    sources screened for every component (an SFT set asking an MT-Bench question is no reward pair),
    or not at all for rft components, and overlaps counted without their source."""
    root = tmp_path / "evals"
    (root / "pandalm").mkdir(parents=True)
    (root / "pandalm" / "testset-v1.json").write_text(json.dumps([{"instruction": "Summarize the text.", "input": "The cat sat on the mat."}]))
    write_jsonl(root / "mt-bench" / "question.jsonl", [{"question_id": 81, "turns": ["Write a travel blog post about Hawaii.", "Rewrite it with A only."]}])
    asked = [{"question": "Summarize the text.\n\nThe cat sat on the mat.", "response_a": "A cat sat.", "response_b": "Mats.", "label": "A"},
             {"question": "Write a travel blog post about Hawaii.", "response_a": "Aloha!", "response_b": "No.", "label": "A"},
             {"question": "Name a colour.", "response_a": "Blue.", "response_b": "Seven.", "label": "A"}]
    components = {name: {"kind": "pairwise", "role": role, "path": str(write_jsonl(tmp_path / f"{name}.jsonl", asked)), "max_reject_fraction": 1.0}
                  for name, role in (("judge", "as_is"), ("reward", "rft"))}
    components["judge"]["template"] = "cj2_short"
    cfg = data_cfg(tmp_path / "out", components, eval_data=str(root))
    assert cfg.data.decontaminate_against == []
    out = curate_and_build(cfg, ScriptedTeacher(lambda m, k: cot_judgment("A")))
    stats = json.loads((out / "stats.json").read_text())
    assert stats["components"]["judge"]["eval_overlap"] == {"pandalm": 1}
    assert stats["components"]["reward"]["eval_overlap"] == {"mt-bench": 1, "pandalm": 1}
    assert stats["eval_overlap"] == {"mt-bench": 1, "pandalm": 2}
