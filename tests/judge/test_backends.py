"""The verdict token and its probabilities, against transformers' own forward on a real tiny Qwen2.

References are computed independently here: the verdict token from the tokenizer's character
offsets, the label tokens by tokenizing each verdict text, the probabilities from an unbatched,
unpadded transformers forward.
"""

from __future__ import annotations

import pytest
import torch

from cj2.eval.judging.prompts import get_template, render
from cj2.judge.hf_backend import HFBackend
from cj2.judge.jobs import TIMED_OUT, Job
from cj2.judge.verdict_site import SHARED_TOKEN, label_probabilities, locate
from tests.judge.conftest import reference_probabilities


@pytest.fixture(scope="module")
def backend(tiny_qwen2_dir):
    return HFBackend(str(tiny_qwen2_dir), device="cpu", max_tokens=12)


def test_verdict_token_is_the_one_holding_the_labels_first_character(qwen_tokenizer):
    """Mutant: the token after (or before) the label's first character."""
    text = '{"Reasoning": "Model A rambles", "Choice": "Model B"}'
    site, note = locate(qwen_tokenizer, "cj2_cot", text)
    encoded = qwen_tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    position = text.rindex("Model B") + len("Model ")
    expected = next(i for i, (a, b) in enumerate(encoded.offset_mapping) if a <= position < b)
    assert note == "" and site.index == expected and site.ids == encoded.input_ids
    as_a = qwen_tokenizer(text[:position] + "A" + text[position + 1 :], add_special_tokens=False).input_ids
    assert site.tokens == {"A": as_a[expected], "B": encoded.input_ids[expected]}
    assert site.prefix == encoded.input_ids[:expected]


def test_labels_sharing_a_first_token_have_no_probabilities(qwen_tokenizer):
    assert locate(qwen_tokenizer, "arena_hard", "Verdict: [[A>B]]") == (None, SHARED_TOKEN)  # A>B and A=B both start "A"
    site, _ = locate(qwen_tokenizer, "mtbench_pair", "So: [[C]]")
    assert set(site.tokens) == {"A", "B", "tie"} and len(set(site.tokens.values())) == 3
    assert locate(qwen_tokenizer, "mtbench_pair", "no verdict") == (None, "unparsed")
    site, _ = locate(qwen_tokenizer, "mtbench_pair", "So: [[C]]", labels=("A", "B"))
    assert set(site.tokens) == {"A", "B", "tie"}  # the stated label is always kept


def test_label_probabilities_by_hand():
    logits = torch.tensor([0.0, 2.0, 2.0 + torch.log(torch.tensor(3.0)).item(), -1.0])
    probabilities, mass = label_probabilities(logits, {"A": 1, "B": 2})
    assert probabilities == pytest.approx({"A": 0.25, "B": 0.75})
    total = torch.exp(logits).sum().item()
    assert mass == pytest.approx((torch.exp(logits[1]) + torch.exp(logits[2])).item() / total)


def test_batched_constrained_judgments_match_transformers(backend):
    """Two prompts of different lengths in one left-padded batch: each verdict parses, its probabilities
    equal an unpadded forward's, and constrained greedy decoding chose the likelier label.
    Mutant: the attention mask left out of the probability forward (padding attended)."""
    template = get_template("cj2_short")
    jobs = [Job(render(template, "What is 2+2?", ["4", "5"]), "cj2_short", constrained=True),
            Job(render(template, "Name the largest planet of the solar system, please, in one word.", ["Jupiter", "Mars"]), "cj2_short", constrained=True)]
    judgments = backend.judge_batch(jobs)
    for job, judgment in zip(jobs, judgments, strict=True):
        assert judgment.error is None and judgment.text in ('{"Choice": "Model A"}', '{"Choice": "Model B"}')
        expected = reference_probabilities(backend.model, backend.tokenizer, job.messages, job.verdict_format, judgment.text)
        assert judgment.probabilities == pytest.approx(expected, abs=1e-4)
        assert judgment.text[-3] == max(expected, key=expected.get)
        assert 0 < judgment.mass <= 1


def test_free_text_without_a_verdict_and_an_expired_job(backend):
    template = get_template("cj2_short")
    free = Job(render(template, "2+2?", ["4", "5"]), "cj2_short")
    expired = Job(render(template, "2+2?", ["4", "5"]), "cj2_short", deadline=0.0)
    judged, timed_out = backend.judge_batch([free, expired])
    assert judged.error is None and isinstance(judged.text, str)
    if judged.probabilities is None:  # a random tiny model rarely writes a verdict
        assert judged.probability_note == "unparsed"
    assert timed_out.error == TIMED_OUT and timed_out.text is None
