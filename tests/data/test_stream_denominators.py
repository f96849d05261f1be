"""The loss denominators of a batch and the smallest dataset a stream accepts, counted by hand."""

from __future__ import annotations

import pytest

from cj2.data.packed.packing import write_tokenized
from cj2.data.packed.stream import PackedDataset, PackedStream, collate, denominators
from cj2.data.packed.tokenize import TokenizedSample


def test_denominators_count_learned_samples_and_verdicts_by_hand(tmp_path):
    """Catches (mutation survivors): samples with no learned token counted in the per-sample SFT
    average (``>= 0`` / ``!= 0`` would differ only with such a sample), verdicts counted as the
    samples without one (``< 0``), and the average choice compared with ``>=``.

    Hand count: 3 samples, learned tokens 2, 0, 3 (5 in all), verdicts on the first only ->
    token average 5, sample average 2 (the 0-token sample does not count), 1 verdict."""
    samples = [TokenizedSample([1, 2, 3, 4], [0, 0, 1, 1], verdict_index=3, label_id=4, opposite_id=9),
               TokenizedSample([5, 6], [0, 0]), TokenizedSample([7, 8, 9, 10], [0, 1, 1, 1])]
    write_tokenized(samples, tmp_path, seq_length=10, pad_id=0, packing=False)
    ds = PackedDataset(tmp_path)
    rows = list(range(len(ds)))
    token, sample = denominators(ds, rows, "token"), denominators(ds, rows, "sample")
    assert (token.sft, sample.sft, token.pg, token.loss_tokens, token.real_tokens) == (5.0, 2.0, 1.0, 5, 10)


def test_a_dataset_of_exactly_one_global_batch_is_accepted():
    """Catches: ``num_rows <= rows_per_step`` refusing data that fills exactly one step."""
    assert sorted(PackedStream(num_rows=4, rows_per_step=4, seed=0).next_rows()) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="fewer than one global batch"):
        PackedStream(num_rows=3, rows_per_step=4, seed=0)


def test_the_logits_kept_are_exactly_the_learned_tokens_and_the_verdicts(tmp_path):
    """Catches: ``needed = token_weight < 0`` (only the verdict logits kept: every SFT token's loss
    silently dropped), and a ``verdict_slot`` that does not index the verdict among the kept logits.

    Hand count, one unpacked row of 6 (seq_length 6): sample [1, 2, 3, 4] with mask [0, 0, 1, 1]
    and its verdict at index 3. Position t predicts token t + 1, so the learned tokens (indices 2, 3) are
    predicted at positions 1 and 2, and the verdict (index 3) at position 2 -> logits at {1, 2},
    the verdict's slot among them 1."""
    samples = [TokenizedSample([1, 2, 3, 4], [0, 0, 1, 1], verdict_index=3, label_id=4, opposite_id=9)]
    write_tokenized(samples, tmp_path, seq_length=6, pad_id=0, packing=False)
    batch = collate(PackedDataset(tmp_path), [0], "token")
    assert batch["logit_pos"].tolist() == [1, 2]
    assert batch["verdict_pos"].tolist() == [2]
    assert batch["verdict_slot"].tolist() == [1]
    assert batch["token_weight"][0, batch["logit_pos"]].tolist() == [1.0, 1.0]
