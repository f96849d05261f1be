"""Layout checks that only bite on real clusters: a vocabulary TP cannot split, TP spanning nodes,
host memory below a checkpoint save's, the slow attention path chosen without a word."""

from __future__ import annotations

import math
import warnings

import pytest

from cj2.config import compose
from cj2.config.plan import host_memory_plan
from cj2.config.validate import ConfigWarning, problems_of, validate


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


def test_slurm_memory_below_a_checkpoint_save_is_refused_and_zero_takes_the_whole_node():
    """Catches: a GPU job asking for less host memory than its ranks stage at a checkpoint save
    (~230 GB a node at 32B: the cgroup kills the job at its first save, hours in), and ``mem_gb=0``
    refused (it was, before #26). CPU jobs size their own memory (no host-staging check)."""
    need = math.ceil(host_memory_plan(compose(["+exp=margin_32b"])).total_gib)
    assert compose(["+exp=margin_32b"]).cluster.mem_gb == 0 and problems(["+exp=margin_32b"]) == {}
    assert problems(["+exp=margin_32b", f"cluster.mem_gb={need}"]) == {}
    found = problems(["+exp=margin_32b", f"cluster.mem_gb={need - 1}"])
    assert list(found) == ["cluster.mem_gb"] and "checkpoint save" in found["cluster.mem_gb"][0]
    assert problems(["cluster=slurm_local", "cluster.mem_gb=1"]) == {}


@pytest.mark.parametrize(("overrides", "te_here", "warned"), [
    (["+exp=margin_7b"], False, True),
    (["+exp=margin_7b"], True, False),
    (["+exp=margin_7b", "model.attention=sdpa"], False, False),  # chosen knowingly
    (["+exp=demo"], False, False),  # CPU
])
def test_a_gpu_run_left_on_auto_without_transformer_engine_is_warned(monkeypatch, overrides, te_here, warned):
    """Catches: a GPU config whose ``auto`` attention silently falls back to the local spec (one SDPA
    call per sample, ~0.75-0.85x the TE path) without a warning, and the warning given when the user
    chose the backend or TE is there."""
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "transformer_engine" and te_here else (None if name == "transformer_engine" else find_spec(name, *a)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate(compose(overrides))
    messages = [str(w.message) for w in caught if issubclass(w.category, ConfigWarning)]
    assert len(messages) == warned and all("model.attention=auto" in m and "Transformer Engine" in m for m in messages)


def test_tracking_without_wandb_installed_is_refused_before_the_run(monkeypatch, tmp_path):
    """Catches: a run with W&B tracking on a machine without wandb (the bare GPU image: the
    wheelhouse leaves it out) failing on rank 0 after the model is built, the other ranks waiting."""
    import importlib.util

    find_spec = importlib.util.find_spec
    cfg = compose(["+exp=demo", f"run_dir={tmp_path}", "tracking=offline"])
    assert "tracking.mode" not in {p.key for p in problems_of(cfg, stage="run")}
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else find_spec(name, *a))
    found = [p for p in problems_of(cfg, stage="run") if p.key == "tracking.mode"]
    assert len(found) == 1 and "needs wandb" in found[0].message
    assert "tracking.mode" not in {p.key for p in problems_of(compose(["+exp=demo", f"run_dir={tmp_path}", "tracking=disabled"]), stage="run")}
