"""Run under torchrun (2 ranks): every loss and its gradient at TP=1 and TP=2 vs plain PyTorch.

The references below are written from method.md, section 2, on full (unsplit) logits with
torch.nn.functional only; the vocab-parallel code under test never sees the full vocabulary.
"""

import itertools
import os
from types import SimpleNamespace

import torch
import torch.distributed as dist
import torch.nn.functional as F
from megatron.core import parallel_state

from cj2 import cpu_shims
from cj2.losses.objective import judge_loss
from cj2.losses.verdict import dpo_noref, margin, temperature
from cj2.losses.vocab_parallel import argmax_ids, top_k_logits

# 24 ids a rank at TP=2: not a power of two, so rank 1's offset (24) is not one bit
# (catches ``token_ids ^ start`` for ``token_ids - start``, equal when the offset is 2**k).
V, N = 48, 7
ATOL = 1e-5


# ---------- independent references (full vocabulary, one process) ----------
def ref_margin(z, label, gamma, k, reduction):
    out = []
    for row, y in zip(z, label.tolist(), strict=False):
        others = torch.cat([row[:y], row[y + 1 :]])
        top = others.sort(descending=True).values[:k]
        hinge = torch.clamp(gamma - (row[y] - top), min=0)
        out.append(hinge.mean() if reduction == "mean" else hinge.sum())
    return torch.stack(out)


def ref_dpo(z, label, opposite, beta):
    logp = F.log_softmax(z, dim=-1)
    chosen = logp.gather(1, label[:, None])[:, 0]
    rejected = logp.gather(1, opposite[:, None])[:, 0]
    return -F.logsigmoid(beta * (chosen - rejected))


def ref_temperature(z, label, tau):
    return F.cross_entropy(z / tau, label, reduction="none")


def ref_objective(z, batch, cfg, sft_den, pg_den):
    b, s, _ = z.shape
    ce = F.cross_entropy(z.reshape(b * s, -1), batch["labels"].reshape(-1), reduction="none").reshape(b, s)
    weight = batch["token_weight"].clone()
    rows, pos = batch["verdict_row"], batch["verdict_pos"]
    vz = z[rows, pos]
    pg = torch.zeros(len(rows))
    if cfg.name == "margin":
        pg = ref_margin(vz, batch["verdict_label"], cfg.gamma, cfg.top_k, cfg.reduction)
    elif cfg.name == "dpo_noref":
        pg = ref_dpo(vz, batch["verdict_label"], batch["verdict_opposite"], cfg.beta)
    elif cfg.name == "temperature":
        pg = ref_temperature(vz, batch["verdict_label"], cfg.tau)
    if cfg.name != "none" and cfg.combine == "replace":
        for r, p in zip(rows.tolist(), pos.tolist(), strict=False):
            weight[r, p] = 0.0
    total = cfg.sft_weight * (ce * weight).sum() / sft_den
    if cfg.name != "none":
        total = total + cfg.pg_weight * (pg * batch["verdict_weight"]).sum() / pg_den
    return total


# ---------- harness ----------
def shard(full):
    """This rank's vocabulary slice of ``full``, as a fresh leaf."""
    tp = parallel_state.get_tensor_model_parallel_world_size()
    r = parallel_state.get_tensor_model_parallel_rank()
    part = full.shape[-1] // tp
    return full[..., r * part : (r + 1) * part].detach().clone().requires_grad_(True), slice(r * part, (r + 1) * part)


def check(name, fn, ref, full):
    local, cols = shard(full)
    out = fn(local)
    out.sum().backward()
    full_ref = full.detach().clone().requires_grad_(True)
    expected = ref(full_ref)
    expected.sum().backward()
    assert torch.allclose(out, expected, atol=ATOL, rtol=0), f"{name}: value {out} vs {expected}"
    assert torch.allclose(local.grad, full_ref.grad[..., cols], atol=ATOL, rtol=0), (
        f"{name}: grad max diff {(local.grad - full_ref.grad[..., cols]).abs().max()}"
    )
    nonzero = full_ref.grad.abs().sum().item()
    assert nonzero > 0, f"{name}: reference gradient is all zero (test would be vacuous)"
    return out


def per_position_checks(gen, tp):
    z = torch.randn(N, V, generator=gen) * 4
    label = torch.randint(0, V, (N,), generator=gen)
    # Labels on both shards, including the shard edges.
    label[0], label[1], label[2] = 0, V // 2, V - 1
    label[3] = V - 5  # rank 1 at TP=2: an id whose bits overlap the offset's
    # Argmax at both vocabulary edges (catches argmax_ids excluding id 0, as a 0 "no exclusion" would).
    z[4, 0] = z.max() + 1
    z[5, V - 1] = z.max() + 1
    # Row 1's label is rank 1's first id; rank 0's last id tops that row (catches ``exclude_ids <= end``:
    # rank 0 would take the label as its own and exclude its last id, the row's real runner-up).
    z[1, V // 2 - 1] = z.max() + 1
    opposite = (label + torch.randint(1, V, (N,), generator=gen)) % V
    for gamma in (10.0, 3.0):  # 3.0: a mix of active and inactive hinges
        for reduction in ("mean", "sum"):
            out = check(
                f"margin g={gamma} {reduction} tp={tp}",
                lambda x, g=gamma, r=reduction: margin(x.clone(), label, g, 10, r),
                lambda x, g=gamma, r=reduction: ref_margin(x, label, g, 10, r),
                z,
            )
            assert out.abs().sum() > 0
    hinge_terms = ((3.0 - (z.gather(1, label[:, None]) - z)).clamp(min=0) > 0).sum()
    assert 0 < hinge_terms < N * V, "gamma=3 case should have both active and inactive hinges"
    check(
        f"dpo tp={tp}",
        lambda x: dpo_noref(x.clone(), label, opposite, 0.1),
        lambda x: ref_dpo(x, label, opposite, 0.1),
        z,
    )
    check(
        f"temperature tp={tp}",
        lambda x: temperature(x.clone(), label, 5.0),
        lambda x: ref_temperature(x, label, 5.0),
        z,
    )

    # The top-k ids are the reference's, y* excluded, and argmax agrees.
    local, _ = shard(z)
    values, ids = top_k_logits(local.detach(), 10, exclude_ids=label)
    for i, y in enumerate(label.tolist()):
        order = [t for t in z[i].argsort(descending=True).tolist() if t != y][:10]
        assert ids[i].tolist() == order, f"top-k ids tp={tp}: {ids[i].tolist()} vs {order}"
        assert torch.equal(values[i], z[i, order])
    assert torch.equal(argmax_ids(local.detach()), z.argmax(-1))


def objective_checks(gen, tp):
    b, s = 2, 12
    z = torch.randn(b, s, V, generator=gen) * 3
    tokens = torch.randint(0, V, (b, s), generator=gen)
    rows, pos = torch.tensor([0, 0, 1]), torch.tensor([4, 9, 6])
    labels = torch.roll(tokens, -1, dims=1)
    weight = (torch.rand(b, s, generator=gen) > 0.3).float() * torch.tensor([[1.0], [0.5]])
    weight[rows, pos] = torch.tensor([1.0, 1.0, 0.5])
    batch = {
        "labels": labels,
        "token_weight": weight,
        "verdict_row": rows,
        "verdict_pos": pos,
        "verdict_label": labels[rows, pos],
        "verdict_opposite": (labels[rows, pos] + 7) % V,
        "verdict_weight": torch.tensor([1.0, 1.0, 0.5]),
    }
    # As if other micro-batches shared the global batch; and a global batch of one learned token and
    # one verdict (catches a floor of the denominators above 1).
    for (sft_den, pg_den), name, combine in itertools.product(((23.0, 5.0), (1.0, 1.0)), ("none", "dpo_noref", "temperature", "margin"), ("add", "replace")):
        cfg = SimpleNamespace(
            # Built at run time, as a name read from YAML is (not interned): catches
            # ``name is not "none"`` (none+replace would drop the verdict token's CE).
            name=name[:1] + name[1:],
            sft_weight=0.7,
            pg_weight=1.3,
            beta=0.1,
            tau=5.0,
            gamma=10.0,
            top_k=10,
            reduction="mean",
            combine=combine,
        )
        check(
            f"objective {name} {combine} den={sft_den},{pg_den} tp={tp}",
            lambda x, cfg=cfg, d=(sft_den, pg_den): judge_loss(x, batch, cfg, *d).loss.reshape(1),
            lambda x, cfg=cfg, d=(sft_den, pg_den): ref_objective(x, batch, cfg, *d).reshape(1),
            z,
        )
    parts = judge_loss(
        shard(z)[0],
        batch,
        SimpleNamespace(
            name="margin", sft_weight=1.0, pg_weight=1.0, gamma=10.0, top_k=10, reduction="mean", combine="add"
        ),
        1.0,
        1.0,
    )
    expected_correct = (z[rows, pos].argmax(-1) == batch["verdict_label"]).sum().item()
    assert parts.verdict_correct.item() == expected_correct and parts.verdict_count.item() == 3


def main():
    dist.init_process_group("gloo")
    cpu_shims.apply()
    for tp in (2, 1):
        parallel_state.initialize_model_parallel(tensor_model_parallel_size=tp)
        gen = torch.Generator().manual_seed(1234)  # same data on every rank
        per_position_checks(gen, tp)
        objective_checks(gen, tp)
        parallel_state.destroy_model_parallel()
    dist.barrier()
    if dist.get_rank() == 0:
        print("LOSS CHECKS PASSED")
    dist.destroy_process_group()


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
