"""The judge service in front of a real OpenAI-compatible server (``transformers serve``) that dies and returns.

While the server is down every judgment is its request's error (HTTP 200 with ``status: error``;
502 from the OpenRLHF endpoint, which has no reward to give), /health says 503, and the service
keeps answering; once the server is back on its port, judging works again without a restart.
"""

from __future__ import annotations

import httpx
import pytest

from cj2.judge.openai_backend import NO_LOGITS
from tests.dist import free_port
from tests.judge.conftest import serve_judge, stop, transformers_serve

pytestmark = pytest.mark.slow

PAIR = {"question": "What is 2+2?", "responses": ["4", "5"]}
PROMPT = "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"
REWARD = {"query": [PROMPT + "4<|im_end|>"], "prompts": [PROMPT], "labels": ["5"]}


def judged(service) -> dict:
    response = httpx.post(f"{service.url}/v1/judge", json={"requests": [PAIR]}, timeout=300)
    assert response.status_code == 200, response.text
    return response.json()["results"][0]


def test_a_killed_backend_fails_its_requests_not_the_service(tiny_qwen2_dir, repo_root, tmp_path):
    """Mutant: a backend connection error raised out of the request (HTTP 500) instead of answered per request."""
    port = free_port()
    overrides = ["backend=openai", f"base_url=http://127.0.0.1:{port}/v1", "template=cj2_short", "max_tokens=8"]
    with transformers_serve(tiny_qwen2_dir, tmp_path / "backend.log", port) as backend:
        with serve_judge(repo_root, tmp_path / "service", str(tiny_qwen2_dir), *overrides) as service:
            before = judged(service)
            assert before["status"] in ("ok", "unparsed") and before["probability_note"] == NO_LOGITS
            assert stop(backend.proc) in (0, -15)

            down = judged(service)
            assert down["status"] == "error" and "unreachable" in down["error"]
            health = httpx.get(f"{service.url}/health", timeout=60)
            assert health.status_code == 503 and health.json()["status"] == "unavailable"
            reward = httpx.post(f"{service.url}/get_reward", json=REWARD, timeout=300)
            assert reward.status_code == 502 and "query[0]" in reward.json()["error"]
            refused = httpx.post(f"{service.url}/v1/judge", json={"requests": [PAIR], "constrained": True}, timeout=60)
            assert refused.status_code == 422 and "backend=hf" in refused.json()["error"]

            with transformers_serve(tiny_qwen2_dir, tmp_path / "backend-again.log", port):
                assert judged(service)["status"] in ("ok", "unparsed")
                assert httpx.get(f"{service.url}/health", timeout=60).status_code == 200
                rewarded = httpx.post(f"{service.url}/get_reward", json=REWARD, timeout=300)
                assert rewarded.status_code == 200 and 0.0 <= rewarded.json()["rewards"][0] <= 1.0
