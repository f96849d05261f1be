"""The judge as verl's custom reward function, called exactly as verl's reward managers call it.

verl itself is not installed (it pulls Ray, vLLM and a CUDA stack); the calls below are its
reward managers' (verl 0.8.0.dev, ``verl/workers/reward_manager/naive.py`` and ``batch.py``):
keyword arguments, ``extra_info`` with ``num_turns`` and ``rollout_reward_scores`` added, and
``custom_reward_function.reward_kwargs`` merged over them (``verl/trainer/ppo/reward.py``
``_call_with_kwargs``). The judge is a real tiny Qwen2 in this process.
"""

from __future__ import annotations

import functools

import pytest

from cj2.judge.verl_reward import compute_score, compute_score_batch

QUESTION = "What is 17 + 25?"


@pytest.fixture(scope="module")
def reward_kwargs(tiny_qwen2_dir):
    return {"judge": str(tiny_qwen2_dir), "template": "cj2_short", "constrained": True}


def _call_with_kwargs(raw_fn, extra_kwargs, *args, **kwargs):  # verl/trainer/ppo/reward.py, as verl wraps a custom function
    return raw_fn(*args, **{**kwargs, **extra_kwargs})


def as_naive_manager(reward_fn, solution_str, ground_truth, question):
    extra_info = {"question": question, "num_turns": None, "rollout_reward_scores": {}}
    return reward_fn(data_source="gsm8k", solution_str=solution_str, ground_truth=ground_truth, extra_info=extra_info)


def test_reward_of_a_pair_and_of_its_reverse_sum_to_one(reward_kwargs):
    """Both orders judged, probabilities averaged: P(x beats y) + P(y beats x) = 1 (no tie label in cj2_short).
    Mutant: the swapped order's probabilities not mapped back (the sum drifts from 1)."""
    reward_fn = functools.partial(_call_with_kwargs, compute_score, reward_kwargs)
    forward = as_naive_manager(reward_fn, "17 + 25 = 42.", "I cannot say.", QUESTION)
    backward = as_naive_manager(reward_fn, "I cannot say.", "17 + 25 = 42.", QUESTION)
    assert set(forward) == {"score", "judge_parsed", "judge_consistent"} and forward["judge_parsed"] == 1.0
    assert 0.0 <= forward["score"] <= 1.0
    assert forward["score"] + backward["score"] == pytest.approx(1.0, abs=1e-3)


def test_batch_manager_gets_the_same_rewards(reward_kwargs):
    reward_fn = functools.partial(_call_with_kwargs, compute_score_batch, reward_kwargs)
    solutions, truths = ["42", "41", "17 + 25 is 42"], ["I cannot say.", "42", "43"]
    extras = [{"question": QUESTION, "rollout_reward_scores": {}} for _ in solutions]
    batch = reward_fn(data_sources=["gsm8k"] * 3, solution_strs=solutions, ground_truths=truths, extra_infos=extras)
    single = [as_naive_manager(functools.partial(_call_with_kwargs, compute_score, reward_kwargs), s, t, QUESTION) for s, t in zip(solutions, truths, strict=True)]
    assert [b["score"] for b in batch] == pytest.approx([s["score"] for s in single], abs=2e-3)


def test_missing_question_or_reference_names_the_field(reward_kwargs):
    reward_fn = functools.partial(_call_with_kwargs, compute_score, reward_kwargs)
    with pytest.raises(ValueError, match=r"extra_info\['question'\]"):
        reward_fn(data_source="x", solution_str="42", ground_truth="41", extra_info={"num_turns": None})
    with pytest.raises(ValueError, match="ground_truth as the reference"):
        as_naive_manager(reward_fn, "42", None, QUESTION)
