"""Layout checks that only bite on real clusters: a vocabulary TP cannot split, TP spanning nodes."""

from __future__ import annotations

from cj2.config import compose
from cj2.config.validate import problems_of


def problems(overrides: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in problems_of(compose(overrides)):
        found.setdefault(p.key, []).append(p.message)
    return found


def test_a_vocabulary_that_tp_does_not_divide_is_refused():
    """Catches: the vocab_size % tp check removed (cj2/config/validate.py check_model): megatron
    would shard the embedding unevenly and fail (or pad silently) on the cluster, not here."""
    base = ["+exp=margin_7b", "parallel.tp=4", "parallel.dp=2", "cluster.nodes=1", "cluster.gpus_per_node=8"]
    assert problems(base) == {}  # 152064 = 4 x 38016: the control passes
    found = problems([*base, "model.vocab_size=152066"])  # even, but not a multiple of 4
    assert found == {"model.vocab_size": ["152066 is not divisible by tp=4"]}


def test_tensor_parallelism_must_fit_inside_one_node():
    """Catches: the TP-inside-a-node check removed (cj2/config/validate.py check_parallel): TP's
    per-layer all-reduces would cross the inter-node network. 2 nodes x 2 GPUs = tp4 x dp1 GPUs,
    so only the node boundary is wrong; the same layout on one 4-GPU node passes."""
    layout = ["+exp=margin_7b", "parallel.tp=4", "parallel.pp=1", "parallel.dp=1", "parallel.global_batch_size=4", "parallel.micro_batch_size=1"]
    assert problems([*layout, "cluster.nodes=1", "cluster.gpus_per_node=4"]) == {}
    found = problems([*layout, "cluster.nodes=2", "cluster.gpus_per_node=2"])
    assert found == {"parallel.tp": ["tp=4 does not fit inside a node of 2 GPUs"]}
