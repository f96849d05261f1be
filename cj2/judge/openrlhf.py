"""OpenRLHF's remote reward-model protocol, spoken by ``POST /get_reward``.

OpenRLHF 0.11.0 (``openrlhf/utils/agent.py``, ``SingleTurnAgentExecutor._fetch_rewards_via_http``)
posts ``{"query": [...], "prompts": [...], "labels": [...]}`` to ``--reward.remote_url`` and reads
``rewards`` (for the advantage), ``scores`` (dynamic filtering, in [0, 1]) and ``extra_logs``
(logged to W&B) from the JSON answer; its own server, ``openrlhf/cli/serve_rm.py``, answers
``{"rewards": [...], "scores": [...], "extra_logs": {...}}``, one entry per query. A query is
the decoded prompt + response, special tokens kept; the prompt is the text the policy was given
(its chat template applied); a label is the dataset's ``--data.label_key`` column.

The judge needs the question and the response apart: the response is the query after its
prompt, without the end-of-turn marker the policy wrote; the question is the prompt's last user
turn (ChatML ``<|im_start|>user`` or Llama 3 ``<|start_header_id|>user``), else the whole prompt.
Pairwise rewards judge the response against the reference response in ``labels``; pointwise
rewards score the response alone.
"""

from __future__ import annotations

import re
from typing import Any

from cj2.judge.core import RequestError

_USER_TURNS = (
    re.compile(r"<\|im_start\|>user\n(.*?)<\|im_end\|>", re.DOTALL),
    re.compile(r"<\|start_header_id\|>user<\|end_header_id\|>\n\n(.*?)<\|eot_id\|>", re.DOTALL),
)


def question_of(prompt: str) -> str:
    """The last user turn of a chat-templated prompt, or the prompt itself."""
    for pattern in _USER_TURNS:
        turns = pattern.findall(prompt)
        if turns:
            return turns[-1].strip()
    return prompt.strip()


def response_of(query: str, prompt: str, end_markers: list[str]) -> str | None:
    """The response part of a query (None when the query does not start with its prompt)."""
    if not query.startswith(prompt):
        return None
    response = query[len(prompt) :].rstrip()
    stripped = True
    while stripped:
        stripped = False
        for marker in end_markers:
            if marker and response.endswith(marker):
                response = response[: -len(marker)].rstrip()
                stripped = True
    return response


def _strings(body: dict[str, Any], field: str, n: int | None) -> list:
    values = body.get(field)
    if not isinstance(values, list) or (n is not None and len(values) != n):
        expected = "a list of strings" if n is None else f"a list of {n} entries, one per query"
        raise RequestError(f"field {field!r}: expected {expected}")
    return values


def judge_requests(body: dict[str, Any], mode: str, template: str, end_markers: list[str]) -> list[dict[str, Any]]:
    """The judge requests for an OpenRLHF reward request: response against ``labels[i]`` (pairwise) or alone (pointwise)."""
    queries = _strings(body, "query", None)
    prompts = _strings(body, "prompts", len(queries))
    labels = _strings(body, "labels", len(queries)) if mode == "pairwise" else [None] * len(queries)
    requests = []
    for i, (query, prompt, label) in enumerate(zip(queries, prompts, labels, strict=True)):
        if not isinstance(query, str) or not isinstance(prompt, str):
            raise RequestError(f"query[{i}] / prompts[{i}]: expected strings")
        response = response_of(query, prompt, end_markers)
        if response is None:
            raise RequestError(f"query[{i}]: does not start with prompts[{i}] (a query is the prompt followed by the response)")
        responses = [response]
        if mode == "pairwise":
            if not isinstance(label, str) or not label.strip():
                raise RequestError(f"labels[{i}]: a pairwise reward needs the reference response here (OpenRLHF --data.label_key), got {label!r}")
            responses.append(label)
        requests.append({"id": str(i), "question": question_of(prompt), "responses": responses, "mode": mode, "template": template})
    return requests


def reward_response(rewards: list[float], answers: list[dict[str, Any]]) -> dict[str, Any]:
    """OpenRLHF's answer: rewards, the same values as scores (already in [0, 1]), and what the judge said."""
    return {
        "rewards": rewards,
        "scores": rewards,
        "extra_logs": {
            "judge_parsed": [float(answer.get("status") == "ok") for answer in answers],
            "judge_consistent": [float(answer.get("consistent", answer.get("status") == "ok")) for answer in answers],
        },
    }
