"""Run under torchrun (2 ranks): a packed batch gives the losses and gradients of the same samples
unpacked, through a real GPTModel, at TP=2 and TP=1, for token and sample averaging.

A negative control packs with a plain causal mask (attention leaks across samples) and must
differ, so the comparison can fail.
"""

import sys
from pathlib import Path
from types import SimpleNamespace

import torch
import torch.distributed as dist
from megatron.core import parallel_state
from megatron.core.tensor_parallel.random import model_parallel_cuda_manual_seed

from cj2 import cpu_shims
from cj2.config.schema import ModelConfig, ParallelConfig
from cj2.data.packing import write_tokenized
from cj2.data.stream import PackedDataset, collate, denominators
from cj2.data.tokenize import TokenizedSample
from cj2.losses.objective import judge_loss
from cj2.models import build_model
from cj2.train.selected_logits import compact_targets, logits_only_at

VOCAB, SEQ = 256, 40
MODEL = ModelConfig(
    name="t",
    num_layers=2,
    hidden_size=64,
    ffn_hidden_size=128,
    num_attention_heads=4,
    num_query_groups=2,
    vocab_size=VOCAB,
    max_position_embeddings=128,
    tie_word_embeddings=False,
)


def samples():
    gen = torch.Generator().manual_seed(7)
    out = []
    for i, (n, prompt) in enumerate([(17, 6), (9, 4), (22, 8), (11, 5), (6, 3), (14, 7)]):
        ids = torch.randint(0, VOCAB, (n,), generator=gen).tolist()
        s = TokenizedSample(input_ids=ids, loss_mask=[0] * prompt + [1] * (n - prompt), weight=[1.0, 0.5, 2.0][i % 3])
        if i % 2 == 0:  # a verdict in the response
            s.verdict_index = n - 3
            s.label_id, s.opposite_id = ids[n - 3], (ids[n - 3] + 1) % VOCAB
        out.append(s)
    return out


def run_layout(model, data_dir, cfg, average, causal_only=False, selected=False):
    """Total loss over all rows (micro-batches of 2) and the gradients it leaves.

    ``selected``: the training step's path (output layer only at learned/verdict positions).
    """
    ds = PackedDataset(data_dir)
    rows = list(range(len(ds)))
    den = denominators(ds, rows, average)
    model.zero_grad()
    total = 0.0
    for first in range(0, len(rows), 2):
        batch = collate(ds, rows[first : first + 2], average)
        if causal_only:
            s = batch["tokens"].shape[1]
            batch["attention_mask"] = ~torch.ones(s, s, dtype=torch.bool).tril()[None, None]
        if selected:
            targets = compact_targets(batch)
            with logits_only_at(
                model, targets["logit_rows"], targets["logit_pos"], batch["verdict_row"], batch["verdict_pos"]
            ) as extra:
                logits = model(batch["tokens"], batch["position_ids"], batch["attention_mask"])
            assert logits.shape[1] == len(targets["logit_rows"]) < batch["tokens"].numel()
            assert extra.verdict.shape[0] == len(batch["verdict_row"])
            parts = judge_loss(logits, targets, cfg, den.sft, den.pg, verdict_logits=extra.verdict)
        else:
            logits = model(batch["tokens"], batch["position_ids"], batch["attention_mask"])
            parts = judge_loss(logits, batch, cfg, den.sft, den.pg)
        parts.loss.backward()
        total += parts.loss.item()
    for p in model.parameters():
        if getattr(p, "sequence_parallel", False):  # what finalize_model_grads does for SP norms
            dist.all_reduce(p.grad, group=parallel_state.get_tensor_model_parallel_group())
    return total, {n: p.grad.clone() for n, p in model.named_parameters()}, len(rows)


def assert_same(a, b, what):
    (loss_a, grads_a, _), (loss_b, grads_b, _) = a, b
    assert abs(loss_a - loss_b) < 1e-5, f"{what}: loss {loss_a} vs {loss_b}"
    for n in grads_a:
        diff = (grads_a[n] - grads_b[n]).abs().max().item()
        assert diff < 1e-5, f"{what}: grad {n} differs by {diff}"


def build(tp, sp=False):
    model_parallel_cuda_manual_seed(11)
    torch.manual_seed(11)
    return build_model(MODEL, ParallelConfig(tp=tp, sp=sp))


def main():
    dist.init_process_group("gloo")
    cpu_shims.apply()
    work = Path(sys.argv[1])
    if dist.get_rank() == 0:
        write_tokenized(samples(), work / "packed", SEQ, pad_id=0, packing=True)
        write_tokenized(samples(), work / "unpacked", SEQ, pad_id=0, packing=False)
    dist.barrier()
    for tp in (2, 1):
        parallel_state.initialize_model_parallel(tensor_model_parallel_size=tp)
        model = build(tp)
        for name in ("margin", "dpo_noref", "none"):
            for average in ("token", "sample"):
                cfg = SimpleNamespace(
                    name=name,
                    sft_weight=1.0,
                    pg_weight=1.0,
                    beta=0.1,
                    tau=5.0,
                    gamma=10.0,
                    top_k=10,
                    reduction="mean",
                    combine="add",
                )
                packed, g_packed, packed_rows = run_layout(model, work / "packed", cfg, average)
                unpacked, g_unpacked, unpacked_rows = run_layout(model, work / "unpacked", cfg, average)
                assert packed_rows < unpacked_rows, "the packed layout should use fewer rows"
                assert abs(packed - unpacked) < 1e-5, (
                    f"tp={tp} {name} {average}: loss packed {packed} vs unpacked {unpacked}"
                )
                for n in g_packed:
                    diff = (g_packed[n] - g_unpacked[n]).abs().max().item()
                    assert diff < 1e-5, f"tp={tp} {name} {average}: grad {n} differs by {diff}"
        leaky, _, _ = run_layout(model, work / "packed", cfg, "token", causal_only=True)
        clean, _, _ = run_layout(model, work / "unpacked", cfg, "token")
        assert abs(leaky - clean) > 1e-4, "negative control: attention across samples should change the loss"
        # The training step's output layer at selected positions only: same losses and grads.
        margin_cfg = SimpleNamespace(
            name="margin", sft_weight=1.0, pg_weight=1.0, gamma=10.0, top_k=10, reduction="mean", combine="replace"
        )
        full = run_layout(model, work / "packed", margin_cfg, "sample")
        assert_same(
            run_layout(model, work / "packed", margin_cfg, "sample", selected=True), full, f"selected logits tp={tp}"
        )
        if tp == 2:
            assert_same(
                run_layout(build(tp, sp=True), work / "packed", margin_cfg, "sample", selected=True),
                full,
                "selected logits tp=2 sp",
            )
        parallel_state.destroy_model_parallel()
    dist.barrier()
    if dist.get_rank() == 0:
        print("PACKING CHECKS PASSED")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
