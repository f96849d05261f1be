"""The data stream's epoch boundary, a sample's weight on its verdict term, longest-first packing.

Reference for the order: the stream's documented contract (cj2.data.packed.stream) — epoch ``e`` is
``numpy.random.default_rng([seed, e]).permutation(num_rows)``, read in whole global batches from
its head; the rows left over at an epoch's end (fewer than a batch) are skipped.
"""

from __future__ import annotations

import numpy as np
import pytest

from cj2.data.packed.packing import pack_lengths, write_tokenized
from cj2.data.packed.stream import PackedDataset, PackedStream, collate
from cj2.data.packed.tokenize import TokenizedSample


def expected_batches(num_rows: int, rows_per_step: int, seed: int, epochs: int) -> list[list[int]]:
    out = []
    for epoch in range(epochs):
        order = np.random.default_rng([seed, epoch]).permutation(num_rows).tolist()
        out += [order[k : k + rows_per_step] for k in range(0, num_rows - rows_per_step + 1, rows_per_step)]
    return out


@pytest.mark.parametrize("num_rows,rows_per_step,dp", [(10, 3, 3), (11, 4, 2), (9, 3, 3), (7, 2, 2)])
def test_every_batch_is_full_and_every_epoch_starts_at_its_permutations_head(num_rows, rows_per_step, dp):
    """Catches: divmod(consumed_rows, num_rows) as the epoch boundary (cj2/data/packed/stream.py next_rows):
    a short batch at each epoch's end, later epochs starting mid-permutation, empty dp shares."""
    stream = PackedStream(num_rows, rows_per_step, seed=5)
    expected = expected_batches(num_rows, rows_per_step, seed=5, epochs=4)
    got = [stream.next_rows() for _ in expected]
    assert got == expected
    share = rows_per_step // dp
    for rows in got:
        # The trainer's split (cj2.train.job._my_micro_batches): dp equal shares of the batch.
        shares = [rows[r * share : (r + 1) * share] for r in range(dp)]
        assert all(len(s) == share > 0 for s in shares)
        assert len(set(rows)) == rows_per_step  # no row twice in a batch
    assert stream.consumed_rows == len(expected) * rows_per_step


def test_the_leftover_rows_of_an_epoch_are_skipped_not_carried_over():
    """Catches: an epoch boundary at num_rows (the second epoch's first batch would start with
    the first epoch's leftover row instead of the head of its own permutation)."""
    stream = PackedStream(num_rows=10, rows_per_step=3, seed=0)
    epoch0 = [stream.next_rows() for _ in range(3)]
    head1 = stream.next_rows()
    assert head1 == np.random.default_rng([0, 1]).permutation(10)[:3].tolist()
    leftover = set(range(10)) - {r for b in epoch0 for r in b}
    assert len(leftover) == 1


def verdict_sample(length: int, weight: float, label_id: int) -> TokenizedSample:
    ids = [(3 * label_id + j) % 50 + 1 for j in range(length)]
    ids[length - 2] = label_id
    return TokenizedSample(ids, [0, 0, 0] + [1] * (length - 3), verdict_index=length - 2, label_id=label_id, opposite_id=99, weight=weight)


def test_verdict_weight_is_the_samples_weight(tmp_path):
    """Catches: verdict_weight always 1.0 in collate (cj2/data/packed/stream.py): the policy-gradient term
    would ignore the mixture weights the SFT term honours."""
    weights = {61: 2.5, 62: 0.25, 63: 1.0, 64: 4.0}  # label id -> the sample's weight
    samples = [verdict_sample(n, w, label) for n, (label, w) in zip([6, 5, 7, 4], weights.items(), strict=True)]
    samples.append(TokenizedSample([5, 6, 7, 8, 9], [0, 0, 0, 1, 1], weight=3.0))  # SFT only: no verdict term
    write_tokenized(samples, tmp_path, seq_length=12, pad_id=0)
    ds = PackedDataset(tmp_path)
    batch = collate(ds, list(range(len(ds))), "token")
    got = dict(zip(batch["verdict_label"].tolist(), batch["verdict_weight"].tolist(), strict=True))
    assert got == weights
    # The verdict position predicts the label token (so the weights above belong to the right samples).
    assert batch["labels"][batch["verdict_row"], batch["verdict_pos"]].tolist() == batch["verdict_label"].tolist()


def test_packing_places_the_longest_samples_first():
    """Catches: shortest-first order in pack_lengths (cj2/data/packed/packing.py).

    Hand-worked best-fit decreasing, seq_length 10, lengths [6, 5, 5, 4]: 6 opens row 0 (room 4),
    5 opens row 1 (room 5), 5 fills row 1, 4 fills row 0 -> 2 full rows. Shortest first would place
    4, then 5 beside it (room 1), then open a row for each of 5 and 6: 3 rows."""
    assert pack_lengths([6, 5, 5, 4], 10) == [[0, 3], [1, 2]]
    # Best fit: the 3 joins the 7 (room 3), the fullest row it fits in, not the 6 (room 4).
    assert pack_lengths([6, 7, 3], 10) == [[1, 2], [0]]
