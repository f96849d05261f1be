"""Tokenization (verdict token location for every format), packing, collation and the stream."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cj2.data.packed.encoder import encode_prompts, line_cuts_are_safe
from cj2.data.packed.packing import pack_lengths, write_tokenized
from cj2.data.packed.stream import PackedDataset, PackedStream, collate, denominators
from cj2.data.packed.tokenize import TokenizedSample, tokenize_batch, tokenize_sample
from cj2.data.records import TrainingSample
from cj2.verdicts import FORMATS

PROMPT = [{"role": "user", "content": "Which response is better?"}]
AB_FORMATS = ["cj2_cot", "cj2_short", "judgerbench_en", "judgerbench_cn", "arena_hard", "mtbench_pair", "wildbench"]


def reference_ids(sample: TrainingSample, tokenizer) -> tuple[list[int], list[int]]:
    """(prompt ids, learned ids) through the tokenizer's Python API, not the batched Rust path."""
    prompt = tokenizer.apply_chat_template(sample.messages, add_generation_prompt=True, tokenize=True)
    prompt = prompt if isinstance(prompt, list) else prompt["input_ids"]
    target = tokenizer(sample.target, add_special_tokens=False)["input_ids"]
    return list(prompt), [*target, tokenizer.convert_tokens_to_ids("<|im_end|>")]


def packed_samples(ds: PackedDataset) -> list[tuple[list[int], list[int]]]:
    """Every sample of a packed dataset as (context ids, learned ids), checking its loss mask and verdict token."""
    found = []
    for row in range(len(ds)):
        tokens, mask = ds.row_arrays(row)
        t = ds.row_samples(row)
        for start, n, verdict, label, learned in zip(t["start"], t["length"], t["verdict"], t["label"], t["loss_tokens"], strict=True):
            ids = tokens[start : start + n].tolist()
            assert mask[start : start + n].tolist() == [0] * (n - learned) + [1] * learned
            if verdict >= 0:
                assert verdict >= n - learned and ids[verdict] == label
            found.append((ids[: n - learned], ids[n - learned :]))
    return found


def judged(fmt: str, label: str, reasoning: str = "Response A is correct; B miscounts.") -> TrainingSample:
    return TrainingSample(
        messages=PROMPT,
        target=f"{reasoning}\n{FORMATS[fmt].render(label)}",
        verdict=label,
        verdict_format=fmt,
        id=f"{fmt}-{label}",
    )


@pytest.mark.parametrize("fmt", AB_FORMATS)
@pytest.mark.parametrize("label", ["A", "B"])
def test_verdict_token_is_located_for_every_pairwise_format(qwen_tokenizer, fmt, label):
    sample = judged(fmt, label)
    out, reason = tokenize_sample(sample, qwen_tokenizer)
    assert reason is None and out.verdict_index > 0
    k = out.verdict_index
    assert out.input_ids[k] == out.label_id and out.loss_mask[k] == 1
    other = "B" if label == "A" else "A"
    assert label in qwen_tokenizer.decode([out.label_id]) and other not in qwen_tokenizer.decode([out.label_id])
    assert other in qwen_tokenizer.decode([out.opposite_id])
    # The verdict token is the first token whose text reaches the label character.
    prompt_len = out.loss_mask.index(1)
    span_start = FORMATS[fmt].parse(sample.target).span[0]
    assert (
        len(qwen_tokenizer.decode(out.input_ids[prompt_len:k]))
        <= span_start
        < len(qwen_tokenizer.decode(out.input_ids[prompt_len : k + 1]))
    )


def test_pointwise_correctness_flips_to_the_other_word(qwen_tokenizer):
    sample = TrainingSample(
        messages=PROMPT,
        target='The answer 42 matches.\n"correctness": "correct"',
        verdict="correct",
        verdict_format="pointwise_correctness",
    )
    out, reason = tokenize_sample(sample, qwen_tokenizer)
    assert reason is None
    assert "in" in qwen_tokenizer.decode([out.opposite_id]) and "in" not in qwen_tokenizer.decode([out.label_id])


@pytest.mark.parametrize(
    "sample, reason",
    [
        (TrainingSample(messages=PROMPT, target="No verdict here.", verdict="A", verdict_format="cj2_cot"), "unparsed"),
        (
            TrainingSample(messages=PROMPT, target='ok\n"Choice": "Model A"', verdict="B", verdict_format="cj2_cot"),
            "verdict_mismatch",
        ),
        (
            TrainingSample(messages=PROMPT, target="close call [[A=B]]", verdict="tie", verdict_format="arena_hard"),
            "no_opposite",
        ),
        (
            TrainingSample(messages=PROMPT, target="decent [[7]]", verdict="7", verdict_format="mtbench_single"),
            "no_opposite",
        ),
    ],
)
def test_unusable_verdicts_fall_back_to_sft_with_a_reason(qwen_tokenizer, sample, reason):
    out, why = tokenize_sample(sample, qwen_tokenizer)
    assert why == reason and out.verdict_index == -1 and sum(out.loss_mask) > 0


def test_prompt_is_context_and_the_judgment_is_learned(qwen_tokenizer):
    sample = TrainingSample(messages=PROMPT, target="General answer.", meta={"weight": 0.25})
    out, reason = tokenize_sample(sample, qwen_tokenizer)
    prompt = qwen_tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, tokenize=True)["input_ids"]
    assert reason is None and out.verdict_index == -1 and out.weight == 0.25
    assert out.input_ids[: len(prompt)] == prompt and out.loss_mask[: len(prompt)] == [0] * len(prompt)
    assert qwen_tokenizer.decode(out.input_ids[len(prompt) :]) == "General answer.<|im_end|>"
    assert out.loss_mask[len(prompt) :] == [1] * (len(out.input_ids) - len(prompt))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 64), min_size=1, max_size=80), st.integers(64, 128))
def test_pack_lengths_places_every_sample_once_within_the_row(lengths, seq):
    rows = pack_lengths(lengths, seq)
    assert sorted(i for r in rows for i in r) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in r) <= seq for r in rows)
    # Best fit never leaves two rows that could have been merged.
    fills = sorted(sum(lengths[i] for i in r) for r in rows)
    assert len(fills) < 2 or fills[0] + fills[1] > seq or min(lengths) > seq - fills[0]


text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)


@settings(max_examples=60, deadline=None)
@given(system=text, user=text, target=text)
def test_batched_ids_equal_the_tokenizer_api(qwen_tokenizer, system, user, target):
    samples = [
        TrainingSample(messages=[{"role": "system", "content": system}, {"role": "user", "content": user}], target=target),
        TrainingSample(messages=[{"role": "user", "content": user + "\n\n  {y}"}], target=" \n" + target),
        judged("cj2_short", "A", reasoning=target),
    ]
    for sample, (out, _) in zip(samples, tokenize_batch(samples, qwen_tokenizer), strict=True):
        prompt, learned = reference_ids(sample, qwen_tokenizer)
        assert list(out.input_ids) == prompt + learned
        assert list(out.loss_mask) == [0] * len(prompt) + [1] * len(learned)


# Text rich in what decides pre-token boundaries: newlines, carriage returns, spaces, punctuation,
# contractions, digits, combining marks, special tokens.
edgy = st.lists(st.sampled_from(["\n", "\r\n", "\n\n", " ", "  ", "\t", "\u00a0", "\u3000", "x", "Word", "'s", "'S", "7", "42", ".", "?!", "\u0301", "é", "中文", "<|im_end|>", "<|im_start|>"]), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(head=edgy, middles=st.lists(edgy, min_size=2, max_size=4), tail=edgy)
@example(head="\n", middles=[" ", " "], tail="\n")  # "\n \n" is one pre-token: no cut after its first newline
@example(head="sys\nQ: ", middles=["a\n\n", "b\n\n"], tail="Reply.\n<|im_end|>")
def test_prompts_sharing_a_head_and_tail_tokenize_as_the_api_does(qwen_tokenizer, head, middles, tail):
    assert line_cuts_are_safe(qwen_tokenizer)  # so the shared-ends path really runs here
    texts = [head + m + tail for m in middles]
    expected = [qwen_tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    assert encode_prompts(qwen_tokenizer, texts) == expected


def test_a_batch_mixes_verdict_and_sft_only_samples_like_single_calls(qwen_tokenizer):
    samples = [judged(f, lab) for f in AB_FORMATS for lab in "AB"]
    samples.insert(3, TrainingSample(messages=PROMPT, target="plain sft"))
    samples.insert(5, TrainingSample(messages=PROMPT, target=FORMATS["cj2_short"].render("B"), verdict="A", verdict_format="cj2_short"))
    batched = tokenize_batch(samples, qwen_tokenizer)
    assert [why for _, why in batched].count("verdict_mismatch") == 1
    for sample, (out, why) in zip(samples, batched, strict=True):
        single, single_why = tokenize_sample(sample, qwen_tokenizer)
        assert (out, why) == (single, single_why)


def test_write_tokenized_round_trip(qwen_tokenizer, tmp_path):
    samples = [
        judged(f, lab, reasoning="x " * n) for n, (f, lab) in enumerate([(f, lab) for f in AB_FORMATS for lab in "AB"])
    ]
    samples.append(TrainingSample(messages=PROMPT, target="plain sft"))
    tokenized = [out for out, _ in tokenize_batch(samples, qwen_tokenizer)]
    stats = write_tokenized(tokenized, tmp_path, seq_length=256, pad_id=0, rows_per_shard=2)
    assert stats["samples_packed"] == len(samples) and stats["verdict_samples"] == len(samples) - 1
    ds = PackedDataset(tmp_path)
    assert len(ds) == stats["rows"] < stats["samples_packed"] and len(ds.index["shards"]) > 1
    assert sorted(packed_samples(ds)) == sorted(reference_ids(s, qwen_tokenizer) for s in samples)


def test_a_sample_longer_than_a_row_is_refused(tmp_path):
    with pytest.raises(ValueError, match="more than seq_length=8"):
        write_tokenized(synthetic([5, 9]), tmp_path, seq_length=8, pad_id=0)


def synthetic(lengths, prompt=3, verdict_every=2):
    out = []
    for i, n in enumerate(lengths):
        ids = [(7 * i + j) % 50 + 1 for j in range(n)]
        s = TokenizedSample(ids, [0] * prompt + [1] * (n - prompt), weight=1.0 + i % 2)
        if i % verdict_every == 0:
            s.verdict_index, s.label_id, s.opposite_id = n - 2, ids[n - 2], 99
        out.append(s)
    return out


def test_collate_packs_rows_into_one_sequence_with_sample_boundaries(tmp_path):
    """Catches: positions not restarting, a missing or shifted sample boundary in cu_seqlens,
    padding merged into a sample, token weights or verdict positions off by one."""
    write_tokenized(synthetic([5, 7, 4, 6]), tmp_path, seq_length=12, pad_id=0)
    ds = PackedDataset(tmp_path)
    rows = list(range(len(ds)))
    batch = collate(ds, rows, "token")
    s = ds.seq_length
    assert batch["tokens"].shape == (1, len(rows) * s)
    expected_bounds = [0]
    for r in rows:
        t = ds.row_samples(r)
        for j, (start, n) in enumerate(zip(t["start"], t["length"], strict=False)):
            at = r * s + int(start)
            assert batch["position_ids"][0, at : at + n].tolist() == list(range(n))
            expected_bounds += [at + n] if at == expected_bounds[-1] else [at, at + n]
            # Token weights: the sample's weight on positions predicting its learned tokens.
            w = batch["token_weight"][0, at - 1 + 3 : at + n - 1] if start else batch["token_weight"][0, at + 2 : at + n - 1]
            assert torch.allclose(w, torch.full_like(w, float(t["weight"][j])))
        if expected_bounds[-1] < (r + 1) * s:  # the row's padding is a segment of its own
            expected_bounds.append((r + 1) * s)
    assert batch["cu_seqlens"].tolist() == expected_bounds and batch["cu_seqlens"].dtype == torch.int32
    assert batch["max_seqlen"] == max(b - a for a, b in zip(expected_bounds, expected_bounds[1:], strict=False))
    # Each verdict's logit position predicts y*; nothing predicts across a row boundary.
    assert torch.equal(batch["labels"][batch["verdict_row"], batch["verdict_pos"]], batch["verdict_label"])
    assert len(batch["verdict_row"]) == 2
    assert batch["token_weight"].view(len(rows), s)[:, -1].eq(0).all()
    den = denominators(ds, rows, "token")
    assert den.loss_tokens == (5 + 7 + 4 + 6 - 4 * 3) == batch["token_weight"].gt(0).sum().item() and den.pg == 2
    assert den.attention_pairs == 5**2 + 7**2 + 4**2 + 6**2
    assert denominators(ds, rows, "sample").sft == 4
    sample_avg = collate(ds, rows, "sample")["token_weight"]
    assert np.isclose(sample_avg.sum().item(), sum(1.0 + i % 2 for i in range(4)))


def test_stream_resumes_at_the_exact_row_and_covers_each_epoch():
    full = PackedStream(num_rows=10, rows_per_step=3, seed=5)
    uninterrupted = [full.next_rows() for _ in range(7)]
    first = PackedStream(10, 3, 5)
    for _ in range(4):
        first.next_rows()
    resumed = PackedStream(10, 3, 5)
    resumed.load_state_dict(first.state_dict())
    assert [resumed.next_rows() for _ in range(3)] == uninterrupted[4:]
    epoch0 = [r for batch in uninterrupted[:3] for r in batch]
    assert len(set(epoch0)) == 9  # 3 full batches per epoch, no row twice
    assert uninterrupted[3] != uninterrupted[0] or uninterrupted[4] != uninterrupted[1]  # reshuffled
    with pytest.raises(ValueError, match="rows_per_step"):
        PackedStream(10, 2, 5).load_state_dict(first.state_dict())
