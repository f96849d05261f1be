"""``max_seqlen`` of a packed micro-batch is its longest segment wherever that segment lies.

The CPU attention reads only ``cu_seqlens``; flash-attention and Transformer Engine size their
kernels by ``max_seqlen``, so a value below the longest segment is wrong attention on a GPU with
no error on the CPU. Best-fit packing puts a row's longest sample first, so these rows are chosen
for segments whose longest is not the first one.
"""

from __future__ import annotations

from cj2.data.packed.packing import write_tokenized
from cj2.data.packed.stream import PackedDataset, collate
from cj2.data.packed.tokenize import TokenizedSample


def sample(n: int) -> TokenizedSample:
    return TokenizedSample(list(range(1, n + 1)), [0] * (n - 1) + [1])


def test_max_seqlen_is_the_longest_segment_not_the_first(tmp_path):
    """Catches: ``max_seqlen`` taken from the first segment (``np.diff(cu_seqlens)[0]``), from the
    first row, or from the samples alone (a trailing padding run is a segment the kernels process).

    By hand, seq_length 12: row A packs samples 4 + 3 and 5 tokens of padding; row B holds one
    sample of 10 and 2 of padding. Rows [A, B]: segments 4, 3, 5, 10, 2 -> 10. Row A alone: 4, 3, 5 -> 5."""
    write_tokenized([sample(10), sample(4), sample(3)], tmp_path, seq_length=12, pad_id=0)
    ds = PackedDataset(tmp_path)
    row_a = next(r for r in range(len(ds)) if len(ds.row_samples(r)["length"]) == 2)
    row_b = 1 - row_a
    both = collate(ds, [row_a, row_b], "token")
    assert both["cu_seqlens"].diff().tolist() == [4, 3, 5, 10, 2]
    assert both["max_seqlen"] == 10
    assert collate(ds, [row_a], "token")["max_seqlen"] == 5
