"""The judge service end to end: ``launch/serve_judge.py`` on SmolLM2-135M, a real HTTP client.

The service runs as a subprocess on a free port; every check goes through HTTP. Verdict
probabilities are checked against transformers' forward of the same model in this process.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from cj2.eval.judging.prompts import get_template, render
from cj2.judge.jobs import TIMED_OUT
from cj2.sample.engines.hf_loading import load_causal_lm
from tests.judge.conftest import reference_probabilities, serve_judge

pytestmark = pytest.mark.slow

PAIR = {"question": "What is 17 + 25?", "responses": ["17 + 25 = 42.", "I cannot answer that."]}
LIMITS = ["max_body_bytes=20000", "max_items=4", "max_prompt_tokens=300"]


@pytest.fixture(scope="module")
def service(smollm2_dir, repo_root, tmp_path_factory):
    overrides = ["template=cj2_short", "max_tokens=24", "max_batch=4", "reward.constrained=true", *LIMITS]
    with serve_judge(repo_root, tmp_path_factory.mktemp("serve"), str(smollm2_dir), *overrides) as server:
        yield server


@pytest.fixture(scope="module")
def smollm2(smollm2_dir):
    return load_causal_lm(str(smollm2_dir), dtype="float32")


def judge(service, requests, status=200, **options):
    response = httpx.post(f"{service.url}/v1/judge", json={"requests": requests, **options}, timeout=600)
    assert response.status_code == status, response.text
    return response.json()


def test_health(service):
    body = httpx.get(f"{service.url}/health", timeout=30).json()
    assert body["status"] == "ok" and body["backend"] == "hf" and body["pending"] == 0


def test_both_orders_verdicts_parse_with_the_models_probabilities(service, smollm2):
    """Mutant: the swapped order's probabilities not mapped back to the request's order."""
    [answer] = judge(service, [PAIR], both_orders=True, constrained=True)["results"]
    assert answer["status"] == "ok" and answer["parsed"] and set(answer["orders"]) == {"AB", "BA"}
    template = get_template("cj2_short")
    for order, responses, flip in (("AB", PAIR["responses"], False), ("BA", PAIR["responses"][::-1], True)):
        read = answer["orders"][order]
        expected = reference_probabilities(*smollm2, render(template, PAIR["question"], responses), "cj2_short", read["critique"])
        if flip:
            expected = {"A": expected["B"], "B": expected["A"]}
        assert read["parsed"] and read["probabilities"] == pytest.approx(expected, abs=2e-3)
        assert read["verdict"] == max(expected, key=expected.get)  # greedy constrained decoding took the likelier label
    mean = {k: (answer["orders"]["AB"]["probabilities"][k] + answer["orders"]["BA"]["probabilities"][k]) / 2 for k in "AB"}
    assert answer["probabilities"] == pytest.approx(mean)
    assert answer["consistent"] == (answer["orders"]["AB"]["verdict"] == answer["orders"]["BA"]["verdict"])
    assert answer["verdict"] == (answer["orders"]["AB"]["verdict"] if answer["consistent"] else "tie")


def test_free_text_without_a_verdict_is_unparsed_not_dropped(service):
    [answer] = judge(service, [PAIR])["results"]  # SmolLM2 answers the question instead of judging
    assert (answer["status"], answer["parsed"], answer["verdict"], answer["reason"]) == ("unparsed", False, None, "no verdict found")
    assert answer["critique"] and answer["probabilities"] is None and answer["probability_note"] == "unparsed"


@pytest.mark.parametrize(
    "content, status, message",
    [
        (b'{"requests": [', 400, "not valid JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (b'{"requests": [{"question": "q", "responses": ["a", "b"], "template": "nope"}]}', 422, "requests[0] field 'template': unknown judge template 'nope'"),
        (b'{"requests": [{"question": "q", "responses": ["a", "b", "c"]}]}', 422, "requests[0] field 'responses'"),
        (b'{"requests": [{"question": "q", "responses": ["a", "b"]}], "both_order": true}', 422, "unknown field(s) 'both_order'"),
        (b'{"requests": [{"question": "q", "responses": ["a", "b"]}], "ties": "no"}', 422, "field 'ties': expected true or false"),
    ],
)
def test_bad_input_gets_a_clear_4xx(service, content, status, message):
    response = httpx.post(f"{service.url}/v1/judge", content=content, headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code == status and message in response.json()["error"]


def test_over_long_requests_are_refused_and_the_service_stays_up(service):
    """Mutant: the prompt-token limit not checked (the judge would read past its limit)."""
    big = {"question": "x" * 30_000, "responses": ["a", "b"]}
    response = httpx.post(f"{service.url}/v1/judge", json={"requests": [big]}, timeout=60)
    assert response.status_code == 413 and "max_body_bytes" in response.json()["error"]
    long_prompt = {"question": "Explain. " * 200, "responses": ["a", "b"]}
    error = judge(service, [long_prompt], status=413)["error"]
    assert error.startswith("requests[0]: the rendered prompt is") and "at most 300" in error
    assert "max_items" in judge(service, [PAIR] * 5, status=413)["error"]
    assert httpx.get(f"{service.url}/health", timeout=30).status_code == 200


def test_a_timeout_is_that_requests_error(service):
    [late] = judge(service, [PAIR], timeout_s=0.001, constrained=True)["results"]
    assert (late["status"], late["error"]) == ("error", TIMED_OUT)
    [answer] = judge(service, [PAIR], constrained=True)["results"]
    assert answer["status"] == "ok"


def test_concurrent_requests_get_their_own_answers(service):
    """Requests in flight together are judged in shared batches; each gets the answer it gets alone.
    Mutant: results of a batch handed to the wrong requests."""
    pairs = [{"question": f"What is {n} + {n}?", "responses": [str(2 * n), "No idea."]} for n in (3, 11, 250)]
    alone = [judge(service, [pair], constrained=True)["results"][0] for pair in pairs]
    with ThreadPoolExecutor(len(pairs)) as pool:
        together = list(pool.map(lambda pair: judge(service, [pair], constrained=True)["results"][0], pairs))
    for one, other in zip(alone, together, strict=True):
        assert one["verdict"] == other["verdict"] and one["probabilities"] == pytest.approx(other["probabilities"], abs=2e-3)
    assert len({round(a["probabilities"]["A"], 4) for a in alone}) == len(pairs)  # distinct requests, distinct answers


def test_openrlhf_remote_reward(service):
    """OpenRLHF's request (openrlhf/utils/agent.py: query = decoded prompt + response, prompts, labels) and
    answer (rewards, scores, extra_logs); the reward is the probability that the response beats the label's
    reference, both orders (the same judgment /v1/judge gives). Mutant: the reward read for the reference."""
    prompt = "<|im_start|>user\nWhat is 17 + 25?<|im_end|>\n<|im_start|>assistant\n"
    payload = {"query": [prompt + "17 + 25 = 42.<|im_end|>"], "prompts": [prompt], "labels": ["I cannot answer that."]}
    response = httpx.post(f"{service.url}/get_reward", json=payload, timeout=600)
    assert response.status_code == 200, response.text
    body = response.json()
    [answer] = judge(service, [{**PAIR, "template": "cj2_short"}], both_orders=True, constrained=True)["results"]
    assert body["rewards"] == pytest.approx([answer["probabilities"]["A"]], abs=2e-3) and body["scores"] == body["rewards"]
    assert body["extra_logs"] == {"judge_parsed": [1.0], "judge_consistent": [float(answer["consistent"])]}
    missing = httpx.post(f"{service.url}/get_reward", json={**payload, "labels": [None]}, timeout=60)
    assert missing.status_code == 422 and "labels[0]" in missing.json()["error"]
