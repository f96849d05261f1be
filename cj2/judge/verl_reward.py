"""A cj2 judge as verl's custom reward function (``custom_reward_function`` in verl's trainer config).

verl (0.8.0.dev; ``verl/workers/reward_manager/naive.py``, ``verl/experimental/reward_loop/
reward_manager/naive.py``) calls ``compute_score(data_source=..., solution_str=...,
ground_truth=..., extra_info=..., **reward_kwargs)`` once per response and takes a float, or a
dict whose ``score`` is the reward (its other keys are logged, one value per response);
``reward_kwargs`` come from ``custom_reward_function.reward_kwargs`` (``verl/trainer/ppo/
reward.py``, merged over the call's own). Its ``batch`` reward manager calls
``compute_score(data_sources=..., solution_strs=..., ground_truths=..., extra_infos=...)`` once
per batch and takes a list: that is :func:`compute_score_batch` (one judge call for the batch).

verl does not pass the prompt: the question comes from ``extra_info[question_key]`` (verl's data
preprocessing scripts keep it there). Pairwise rewards judge the response against
``ground_truth`` as the reference response; pointwise rewards score it alone. The reward is in
[0, 1] (:mod:`cj2.judge.rewards`). A judge failure raises: a reward the judge did not give is
not made up.
"""

from __future__ import annotations

from typing import Any

from cj2.eval.judging.prompts import DEFAULT_FOR_MODE
from cj2.judge.client import JudgeServiceError, judge_at
from cj2.judge.rewards import reward


def _item(solution_str: str, ground_truth: Any, extra_info: dict | None, mode: str, template: str | None, question_key: str) -> dict[str, Any]:
    question = (extra_info or {}).get(question_key)
    if not isinstance(question, str) or not question:
        raise ValueError(f"extra_info[{question_key!r}] must hold the question the response answers (verl passes no prompt to a reward function); got {question!r}")
    responses = [solution_str]
    if mode == "pairwise":
        if not isinstance(ground_truth, str) or not ground_truth:
            raise ValueError(f"a pairwise reward judges the response against ground_truth as the reference response; got {ground_truth!r}")
        responses.append(ground_truth)
    return {"question": question, "responses": responses, "mode": mode, "template": template or DEFAULT_FOR_MODE[mode]}


def _scores(answers: list[dict[str, Any]], unparsed: float) -> list[dict[str, float]]:
    scores = []
    for answer in answers:
        value = reward(answer, unparsed)
        if value is None:
            raise JudgeServiceError(f"the judge failed: {answer.get('error')}")
        scores.append({"score": value, "judge_parsed": float(answer["status"] == "ok"), "judge_consistent": float(answer.get("consistent", answer["status"] == "ok"))})
    return scores


def compute_score(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None, *, judge: str, mode: str = "pairwise",
                  template: str | None = None, both_orders: bool = True, constrained: bool = False, unparsed: float = 0.5, question_key: str = "question",
                  **_verl_kwargs: Any) -> dict[str, float]:
    """``{"score": reward in [0, 1], "judge_parsed": 0/1, "judge_consistent": 0/1}`` for one response.

    ``judge``: the judge service's URL or a model dir (loaded once per process).
    """
    item = _item(solution_str, ground_truth, extra_info, mode, template, question_key)
    answers = judge_at(judge).judge([item], both_orders=both_orders and mode == "pairwise", constrained=constrained)
    return _scores(answers, unparsed)[0]


def compute_score_batch(data_sources: list[str], solution_strs: list[str], ground_truths: list[Any], extra_infos: list[dict | None], *, judge: str,
                        mode: str = "pairwise", template: str | None = None, both_orders: bool = True, constrained: bool = False, unparsed: float = 0.5,
                        question_key: str = "question", **_verl_kwargs: Any) -> list[dict[str, float]]:
    """:func:`compute_score` of a whole batch, in one judge call (verl's ``batch`` reward manager)."""
    items = [_item(s, g, e, mode, template, question_key) for s, g, e in zip(solution_strs, ground_truths, extra_infos, strict=True)]
    answers = judge_at(judge).judge(items, both_orders=both_orders and mode == "pairwise", constrained=constrained)
    return _scores(answers, unparsed)
