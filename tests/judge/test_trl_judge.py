"""The judge in TRL's pairwise-judge interface, with TRL 1.0.0 installed, on a real tiny Qwen2.

TRL 1.0.0 is the last release with ``trl.experimental.judges`` (pinned in pyproject's ``trl``
extra); without it these tests skip.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
judges = pytest.importorskip("trl.experimental.judges", reason="TRL's judge interface: pip install trl==1.0.0 (cj2[trl])")

from cj2.judge.service import LocalJudge  # noqa: E402
from cj2.judge.trl_judge import CJ2PairwiseJudge  # noqa: E402

PROMPTS = [f"What is {n} + {n}?" for n in range(6)]
PAIRS = [[str(2 * n), f"It is {2 * n + 1}."] for n in range(6)]


@pytest.fixture(scope="module")
def local_judge(tiny_qwen2_dir):
    return LocalJudge.from_model(str(tiny_qwen2_dir), device="cpu", max_tokens=6)


def test_shuffled_order_is_mapped_back(local_judge):
    """Each pair judged in a random order; the index returned names the caller's completion.
    Mutant: the index of the completion as shown (not mapped back)."""
    judge = CJ2PairwiseJudge(local_judge, template="cj2_short", constrained=True, seed=3)
    assert isinstance(judge, judges.BasePairwiseJudge)
    ranks = judge.judge(PROMPTS, PAIRS, shuffle_order=True)
    flips = judge.last_flips
    assert any(flips) and not all(flips)  # seed 3 shows some pairs swapped and some not
    shown = [pair[::-1] if flip else pair for pair, flip in zip(PAIRS, flips, strict=True)]
    plain = judge.judge(PROMPTS, shown, shuffle_order=False)
    assert judge.last_flips == [False] * len(PROMPTS)
    assert ranks == [1 - r if flip else r for r, flip in zip(plain, flips, strict=True)]
    assert set(ranks) <= {0, 1}


def test_no_verdict_is_minus_one(local_judge):
    """TRL's convention for a judge that gave no preference (a random model writing free text)."""
    judge = CJ2PairwiseJudge(local_judge, template="cj2_short", constrained=False)
    assert judge.judge(PROMPTS[:2], PAIRS[:2], shuffle_order=False) == [-1, -1]
    with pytest.raises(ValueError, match="one pair of completions per prompt"):
        judge.judge(PROMPTS[:1], [["only one"]])


@pytest.mark.slow
def test_online_dpo_trains_with_the_judge(local_judge, tiny_qwen2_dir, tmp_path):
    """TRL's OnlineDPOTrainer generates two completions per prompt, asks the judge which is better and
    trains on its choice: two steps on a tiny Qwen2 policy, every judge call answered with 0 or 1."""
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl.experimental.online_dpo import OnlineDPOConfig, OnlineDPOTrainer

    calls = []

    class Recording(CJ2PairwiseJudge):
        def judge(self, prompts, completions, shuffle_order=True):
            ranks = super().judge(prompts, completions, shuffle_order)
            calls.append((prompts, completions, ranks))
            return ranks

    dataset = Dataset.from_list([{"prompt": [{"role": "user", "content": p}]} for p in PROMPTS[:4]])
    args = OnlineDPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=2, max_steps=2, max_new_tokens=6, report_to=[], save_strategy="no", use_cpu=True, seed=0)
    trainer = OnlineDPOTrainer(model=AutoModelForCausalLM.from_pretrained(tiny_qwen2_dir), judge=Recording(local_judge, template="cj2_short", constrained=True, seed=0),
                               args=args, train_dataset=dataset, processing_class=AutoTokenizer.from_pretrained(tiny_qwen2_dir))
    result = trainer.train()
    assert result.global_step == 2 and len(calls) == 2
    for prompts, completions, ranks in calls:
        assert len(prompts) == len(completions) == len(ranks) == 2 and set(ranks) <= {0, 1}
        assert all(p.startswith("User: What is") for p in prompts)  # TRL hands the judge the conversation as plain text
