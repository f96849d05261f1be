"""Judge requests to answers without a model: orders, consistency, ties, scores, rewards, limits, batching.

The judgments here are written by hand (what a backend would return), so every expected
number is hand-computed; the real backends are tested in test_backends.py and over HTTP.
"""

from __future__ import annotations

import asyncio

import pytest

from cj2.judge.batcher import Batcher
from cj2.judge.core import Options, RequestError, answer_all, parse_items, plan
from cj2.judge.jobs import TIMED_OUT, Job, Judgment
from cj2.judge.openrlhf import judge_requests, question_of, response_of
from cj2.judge.rewards import pairwise_reward, pointwise_reward, reward
from cj2.judge.service import Admission

PAIR = {"id": "p", "question": "2+2?", "responses": ["4", "5"], "template": "cj2_short"}


def answers_for(items, judgments, **options):
    opts = Options.read(options, Options())
    requests = parse_items(items, "cj2_cot")
    planned = plan(requests, opts)
    assert sum(map(len, planned)) == len(judgments)
    return planned, answer_all(requests, opts, planned, judgments)


def said(label, probabilities=None, fmt='{{"Choice": "Model {}"}}'):
    return Judgment(text=fmt.format(label), probabilities=probabilities)


def test_both_orders_are_mapped_back_and_disagreement_is_a_tie():
    """Mutant: the swapped order's verdict or probabilities not mapped back (A and B exchanged)."""
    planned, [answer] = answers_for([PAIR], [said("A", {"A": 0.8, "B": 0.2}), said("A", {"A": 0.6, "B": 0.4})], both_orders=True)
    swapped_prompt = planned[0][1].messages[-1]["content"]
    assert swapped_prompt.index("5") < swapped_prompt.index("4")  # the second job shows the responses exchanged
    assert answer["orders"]["AB"]["verdict"] == "A" and answer["orders"]["BA"]["verdict"] == "B"
    assert answer["orders"]["BA"]["probabilities"] == {"B": 0.6, "A": 0.4}
    assert answer["consistent"] is False and answer["verdict"] == "tie" and answer["status"] == "ok"
    assert answer["probabilities"] == pytest.approx({"A": 0.6, "B": 0.4})  # (0.8 + 0.4) / 2, (0.2 + 0.6) / 2


def test_agreeing_orders_keep_the_verdict():
    _, [answer] = answers_for([PAIR], [said("B", {"A": 0.1, "B": 0.9}), said("A", {"A": 0.7, "B": 0.3})], both_orders=True)
    assert (answer["verdict"], answer["consistent"]) == ("B", True)
    assert answer["probabilities"] == pytest.approx({"A": 0.2, "B": 0.8})


def test_one_unparsed_or_failed_order_decides_the_status():
    _, [unparsed] = answers_for([PAIR], [said("A"), Judgment(text="no idea")], both_orders=True)
    assert (unparsed["status"], unparsed["verdict"], unparsed["consistent"]) == ("unparsed", None, False)
    assert unparsed["reason"] == "order BA: no verdict found"
    _, [failed] = answers_for([PAIR], [Judgment(error="server down"), said("A")], both_orders=True)
    assert failed["status"] == "error" and failed["error"] == "order AB: server down"


@pytest.mark.parametrize(
    "judgments, verdict, status",
    [
        ([said("A", {"A": 0.3, "B": 0.7}), said("A", {"A": 0.6, "B": 0.4})], "B", "ok"),  # tie -> P(B) = (0.7 + 0.6) / 2 wins
        ([said("A"), said("A")], None, "unparsed"),  # no probabilities to break the tie
    ],
)
def test_ties_off_breaks_a_tie_by_the_probabilities(judgments, verdict, status):
    """Mutant: ties=false ignored (the answer stays "tie")."""
    _, [answer] = answers_for([PAIR], judgments, both_orders=True, ties=False)
    assert (answer["verdict"], answer["status"]) == (verdict, status)


def test_ties_off_leaves_the_tie_label_out_of_the_jobs():
    planned, _ = answers_for([{**PAIR, "template": "mtbench_pair"}], [said("A", fmt="[[{}]]")], ties=False, constrained=True)
    job = planned[0][0]
    assert job.labels == ("A", "B") and job.choices == ["[[A]]", "[[B]]"] and job.constrained


def test_pointwise_score_and_its_expectation():
    item = {"question": "q", "responses": ["r"], "mode": "pointwise"}
    _, [answer] = answers_for([item], [Judgment(text="Fine. [[7]]", probabilities={"7": 0.5, "8": 0.25, "9": 0.25})])
    assert (answer["template"], answer["verdict"], answer["score"]) == ("mtbench_single", "7", 7.0)
    assert answer["expected_score"] == pytest.approx(7.75)
    assert pointwise_reward(answer, "mtbench_single") == pytest.approx(6.75 / 9)


def test_critique_has_text_and_no_verdict():
    _, [answer] = answers_for([{"question": "q", "responses": ["r"], "mode": "critique"}], [Judgment(text="Strong, but terse.")], both_orders=True)
    assert answer == {"id": "0", "mode": "critique", "template": "cj2_critique", "status": "ok", "critique": "Strong, but terse."}


def test_pairwise_reward_counts_a_tie_half():
    """Mutant: the reward read from B's probability, or a tie counted whole."""
    assert pairwise_reward({"status": "ok", "probabilities": {"A": 0.5, "tie": 0.3, "B": 0.2}}) == pytest.approx(0.65)
    assert [pairwise_reward({"status": "ok", "verdict": v, "probabilities": None}) for v in ("A", "tie", "B", None)] == [1.0, 0.5, 0.0, None]
    answer = {"status": "unparsed", "verdict": None, "mode": "pairwise", "template": "cj2_short"}
    assert reward(answer, unparsed=0.25) == 0.25
    assert reward({**answer, "status": "error"}, unparsed=0.25) is None


@pytest.mark.parametrize(
    "items, options, message",
    [
        ([{"responses": ["a", "b"]}], {}, "requests[0] field 'question'"),
        ([PAIR, {**PAIR, "template": "nope"}], {}, "requests[1] field 'template': unknown judge template 'nope'"),
        ([{**PAIR, "responses": ["a", "b", "c"]}], {}, "requests[0] field 'responses'"),
        ([{**PAIR, "template": "mtbench_single"}], {}, "is for pointwise, not pairwise"),
        (["text"], {}, "requests[0]: expected a JSON object"),
        ([], {}, "expected a non-empty list"),
        ([PAIR], {"both_orders": "yes"}, "field 'both_orders': expected true or false"),
        ([PAIR], {"timeout_s": -1}, "field 'timeout_s'"),
    ],
)
def test_bad_requests_name_the_request_and_field(items, options, message):
    with pytest.raises(RequestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        answers_for(items, [], **options)


def test_openrlhf_query_split_into_question_and_response():
    chatml = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
    llama3 = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nName a prime.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    assert question_of(chatml) == "What is 2+2?" and question_of(llama3) == "Name a prime." and question_of(" plain ") == "plain"
    assert response_of(chatml + "4<|im_end|><|endoftext|>", chatml, ["<|im_end|>", "<|endoftext|>"]) == "4"
    assert response_of("something else", chatml, []) is None
    [item] = judge_requests({"query": [chatml + "4<|im_end|>"], "prompts": [chatml], "labels": ["5"]}, "pairwise", "cj2_short", ["<|im_end|>"])
    assert item == {"id": "0", "question": "What is 2+2?", "responses": ["4", "5"], "mode": "pairwise", "template": "cj2_short"}
    with pytest.raises(RequestError, match=r"labels\[0\]: a pairwise reward needs the reference"):
        judge_requests({"query": [chatml + "4"], "prompts": [chatml], "labels": [None]}, "pairwise", "cj2_short", [])
    with pytest.raises(RequestError, match=r"query\[0\]: does not start with prompts\[0\]"):
        judge_requests({"query": ["4"], "prompts": [chatml], "labels": ["5"]}, "pairwise", "cj2_short", [])


def test_admission_refuses_beyond_capacity():
    """Mutant: pending not released after a request (the service would refuse everything after max_pending)."""
    admission = Admission(3)
    with admission.admit(2):
        with pytest.raises(RequestError, match="busy") as busy:
            with admission.admit(2):
                pass
        assert busy.value.status == 503
    with admission.admit(3):
        assert admission.pending == 3
    assert admission.pending == 0
    with pytest.raises(RequestError, match="at most 3") as too_big:
        with admission.admit(4):
            pass
    assert too_big.value.status == 413


def _job(name, deadline=None):
    return Job([{"role": "user", "content": name}], None, deadline=deadline)


def _recording(seen):
    def judge_batch(jobs):
        names = [job.messages[0]["content"] for job in jobs]
        seen.append(names)
        if "boom" in names:
            raise RuntimeError("backend exploded")
        return [Judgment(text=name.upper()) for name in names]

    return judge_batch


def test_batcher_hands_back_each_calls_results_in_order():
    """Jobs of concurrent calls share batches of at most max_batch. Mutant: results handed back out of order."""
    seen: list[list[str]] = []
    batcher = Batcher(_recording(seen), max_batch=2, max_wait_s=0.05)

    async def both():
        return await asyncio.gather(batcher.run([_job(n) for n in "abcde"]), batcher.run([_job(n) for n in "fg"]))

    try:
        first, second = asyncio.run(both())
    finally:
        batcher.close()
    assert [j.text for j in first] == list("ABCDE") and [j.text for j in second] == ["F", "G"]
    assert all(1 <= len(batch) <= 2 for batch in seen) and sorted(sum(seen, [])) == list("abcdefg")


def test_batcher_isolates_a_failing_batch_and_skips_expired_jobs():
    """A batch whose backend call raises answers its jobs with the error and the next batch is judged;
    an expired job is answered without being judged. Mutant: the worker thread dies on the exception."""
    seen: list[list[str]] = []
    batcher = Batcher(_recording(seen), max_batch=1, max_wait_s=0.0)
    jobs = [_job("boom"), _job("d"), _job("late", deadline=0.0)]
    try:  # bounded: with a dead worker the futures would never resolve (it fails, not hangs)
        boom, d, late = asyncio.run(asyncio.wait_for(batcher.run(jobs), timeout=120))
    finally:
        batcher.close()
    assert "backend exploded" in boom.error and d.text == "D" and late.error == TIMED_OUT
    assert seen == [["boom"], ["d"]]


def test_service_config_problems_are_all_listed():
    """launch/serve_judge.py stops before loading anything when its config cannot work, listing every problem."""
    from omegaconf import OmegaConf

    from cj2.judge.config import ServeJudgeConfig, problems

    cfg = OmegaConf.structured(ServeJudgeConfig(judge="j", backend="openai", constrained=True, template="nope", max_batch=0))
    cfg.reward.template = "mtbench_single"  # pointwise, while reward.mode is pairwise
    found = problems(cfg)
    assert [p.split(":")[0] for p in found] == ["base_url", "constrained", "template", "reward.template", "max_batch"]
    assert problems(OmegaConf.structured(ServeJudgeConfig(judge="j"))) == []
