"""Judge inference: requests in, parsed verdicts out; a scripted engine and a real tiny model."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from cj2.config import compose
from cj2.eval.core.files import EvalInputError
from cj2.judge.job import judge, read_requests
from cj2.verdicts import parse
from tests.sample.conftest import tiny_qwen2_dir, transformers_server  # noqa: F401  (session fixtures shared with the engine tests)
from tests.scripted import ScriptedEngine


class ScriptedJudge(ScriptedEngine):
    """Prefers the response that mentions "good"; scores 7; critiques by echoing the question."""

    def reply(self, messages):
        content = messages[-1]["content"]
        if "[Model A's Response]" in content:
            a = content.split("[Model A's Response]")[1].split("[Model B's Response]")[0]
            return '{"Reasoning": "r", "Choice": "Model %s"}' % ("A" if "good" in a else "B")
        if "[[5]]" in messages[0]["content"]:  # the rating instruction (system message)
            return "Solid. Rating: [[7]]"
        return "Strengths: concise. Areas for improvement: none."


def eval_cfg(**overrides):
    return compose([f"eval.{k}={v}" for k, v in overrides.items()]).eval


def requests_from(lines, **overrides):
    text = "".join(json.dumps(line) + "\n" for line in lines)
    return read_requests(io.StringIO(text), eval_cfg(**overrides), "<test>")


def test_pairwise_pointwise_and_critique_with_swap():
    requests = requests_from(
        [
            {"id": "p1", "question": "Q?", "responses": ["bad", "good"]},
            {"id": "s1", "question": "Q?", "responses": ["good"], "mode": "pointwise"},
            {"id": "c1", "question": "Write a poem", "responses": ["Frost paints silent trees."], "mode": "critique"},
        ]
    )
    engine = ScriptedJudge()
    answers = judge(engine, requests, eval_cfg(swap=True), parse)
    pair, score, critique = answers
    assert (pair["verdict"], pair["parsed"], pair["verdict_swapped"], pair["consistent"]) == ("B", True, "B", True)
    assert (score["verdict"], score["template"]) == ("7", "mtbench_single")
    assert critique["mode"] == "critique" and "verdict" not in critique and critique["prediction"].startswith("Strengths")
    # the swapped pass shows the responses exchanged
    swapped_prompt = engine.prompts[-1][-1]["content"]
    assert swapped_prompt.index("good") < swapped_prompt.index("bad")
    assert "The user's question is as follows: Write a poem" in engine.prompts[2][-1]["content"]


def test_unparsed_verdict_is_reported_not_dropped():
    class Mute(ScriptedJudge):
        def reply(self, messages):
            return "I cannot say."

    answers = judge(Mute(), requests_from([{"question": "Q", "responses": ["a", "b"]}]), eval_cfg(), parse)
    assert answers[0]["parsed"] is False and answers[0]["verdict"] is None and answers[0]["reason"]


@pytest.mark.parametrize(
    "line, message",
    [
        ({"responses": ["a", "b"]}, "line 1 field 'question'"),
        ({"question": "q", "responses": ["a", "b", "c"]}, "line 1 field 'responses'"),
        ({"question": "q", "responses": ["a"], "mode": "pairwise"}, "mode pairwise needs 2"),
        ({"question": "q", "responses": ["a"], "mode": "vote"}, "line 1 field 'mode'"),
        ({"question": "q", "responses": ["a", "b"], "template": "cj2_critique"}, "is for critique, not pairwise"),
    ],
)
def test_bad_requests_name_the_line_and_field(line, message):
    with pytest.raises(EvalInputError, match=message):
        requests_from([line])


@pytest.fixture
def tiny_judge(tiny_qwen2_dir):  # noqa: F811
    return tiny_qwen2_dir


@pytest.mark.slow
def test_cli_with_a_real_tiny_model_from_stdin(tiny_judge, tmp_path, repo_root):
    lines = [{"id": "x", "question": "2+2?", "responses": ["4", "5"]}, {"id": "y", "question": "2+2?", "responses": ["4"], "mode": "critique"}]
    cmd = [sys.executable, "launch/judge.py", f"eval.model={tiny_judge}", "eval.input=-", "eval.max_tokens=6", f"run_dir={tmp_path / 'run'}"]
    proc = subprocess.run(cmd, cwd=repo_root, input="".join(json.dumps(x) + "\n" for x in lines), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["x", "y"]
    assert all(isinstance(a["prediction"], str) for a in answers)
    assert "parsed" in answers[0] and "parsed" not in answers[1]
    assert "judged 2 request(s)" in proc.stderr


def test_eval_runs_a_model_then_scores_its_saved_outputs(tiny_judge, tmp_path, shared_data):
    from cj2.eval.job import evaluate

    cfg = compose(["eval=llmbar", f"eval.data_file={shared_data / 'llmbar' / 'natural.json'}", f"eval.model={tiny_judge}", "eval.limit=2", "eval.max_tokens=4", "eval.swap=true", f"run_dir={tmp_path}"])
    result = evaluate(cfg)
    saved = [json.loads(line) for line in (tmp_path / "predictions_llmbar.jsonl").read_text().splitlines()]
    assert [(s["index"], s["swapped"]) for s in saved] == [(0, False), (0, True), (1, False), (1, True)]
    assert result.total == 4 and result.missing == 0
    # a random tiny model states no verdict: every judgment is counted as unparsed, none dropped
    assert result.unparsed == sum(parse("cj2_cot", s["prediction"]).ok is False for s in saved)


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"model": "/ckpt/hf"}, {"model": "/ckpt/hf"}),
        ({"model": "/models/smol/SmolLM2.Q4_1.gguf"}, {"model": "/models/smol", "gguf_file": "SmolLM2.Q4_1.gguf"}),
        (
            {"engine": "openai", "model": "served", "base_url": "http://h:8000/v1", "concurrency": 8},
            {"model": "served", "base_url": "http://h:8000/v1", "concurrency": 8, "request_timeout_s": 600.0, "max_retries": 5},
        ),
    ],
)
def test_engine_options_from_the_eval_config(overrides, expected):
    from cj2.eval.judging.inference import engine_options

    assert engine_options(eval_cfg(**overrides)) == expected


def test_eval_without_predictions_or_model_says_what_to_set(tmp_path):
    from cj2.eval.job import evaluate

    with pytest.raises(EvalInputError, match="set eval.predictions=FILE"):
        evaluate(compose(["eval=judgebench", f"run_dir={tmp_path}"]))


@pytest.mark.slow
def test_judge_through_an_openai_endpoint(transformers_server, tmp_path):  # noqa: F811
    from cj2.eval.judging.inference import build_judge

    cfg = eval_cfg(engine="openai", model=transformers_server["model"], base_url=transformers_server["base_url"], max_tokens=6, swap=True)
    engine = build_judge(cfg)
    try:
        answers = judge(engine, requests_from([{"id": "o1", "question": "2+2?", "responses": ["4", "5"]}]), cfg, parse)
    finally:
        engine.close()
    assert answers[0]["id"] == "o1" and isinstance(answers[0]["prediction"], str)
    assert "prediction_swapped" in answers[0] and isinstance(answers[0]["consistent"], bool)
