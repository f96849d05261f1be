"""Run under torchrun (2 ranks): a packed batch gives the losses and gradients of the same samples
unpacked, through a real GPTModel, at TP=2 and TP=1, for token and sample averaging.

Packed rows reach the model as one THD sequence with ``cu_seqlens`` (cj2.data.packed.stream.collate).
A negative control gives each row as a single segment (attention leaks across samples, RoPE
positions run on) and must differ, so the comparison can fail. A recording core attention
(standing in for Transformer Engine's, which takes the same ``PackedSeqParams``) checks that
what reaches attention is exactly the sample boundaries.
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
from cj2.data.packed.packing import write_tokenized
from cj2.data.packed.stream import PackedDataset, collate, denominators
from cj2.data.packed.tokenize import TokenizedSample
from cj2.losses.objective import judge_loss
from cj2.models import build as model_build
from cj2.models import build_model
from cj2.models.attention import PackedAttention, packed_seq_params
from cj2.train.selected_logits import compact_targets, logits_only_at


class RecordingAttention(PackedAttention):
    """Records the packed-sequence params every core-attention call receives."""

    seen: list = []

    def forward(self, query, key, value, attention_mask, attn_mask_type=None, attention_bias=None, packed_seq_params=None):
        assert attention_mask is None, "packed training must not pass a dense mask"
        RecordingAttention.seen.append((packed_seq_params.cu_seqlens_q.tolist(), packed_seq_params.max_seqlen_q, query.shape[0]))
        return super().forward(query, key, value, attention_mask, attn_mask_type, attention_bias, packed_seq_params)


def forward(model, batch, one_segment_per_row=False):
    cu, longest = batch["cu_seqlens"], batch["max_seqlen"]
    if one_segment_per_row:  # negative control: rows as single segments
        cu = torch.arange(0, batch["tokens"].shape[1] + 1, SEQ, dtype=torch.int32)
        longest = SEQ
    return model(batch["tokens"], batch["position_ids"], None, packed_seq_params=packed_seq_params(cu, longest))

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


def run_layout(model, data_dir, cfg, average, one_segment_per_row=False, selected=False):
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
        if selected:
            targets = compact_targets(batch)
            with logits_only_at(
                model, targets["logit_rows"], targets["logit_pos"], batch["verdict_row"], batch["verdict_pos"]
            ) as extra:
                logits = forward(model, batch)
            assert logits.shape[1] == len(targets["logit_rows"]) < batch["tokens"].numel()
            assert extra.verdict.shape[0] == len(batch["verdict_row"])
            parts = judge_loss(logits, targets, cfg, den.sft, den.pg, verdict_logits=extra.verdict)
        else:
            logits = forward(model, batch, one_segment_per_row)
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
        leaky, _, _ = run_layout(model, work / "packed", cfg, "token", one_segment_per_row=True)
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
        # What reaches core attention: the sample boundaries of the packed micro-batch, every layer.
        model_build.PackedAttention = RecordingAttention
        RecordingAttention.seen.clear()
        recording = build(tp)
        model_build.PackedAttention = PackedAttention
        ds = PackedDataset(work / "packed")
        batch = collate(ds, [0, 1], "token")
        forward(recording, batch)
        starts = sorted({r * SEQ + int(x) for r in (0, 1) for x in ds.row_samples(r)["start"]})
        assert len(RecordingAttention.seen) == MODEL.num_layers
        for cu, longest, tokens in RecordingAttention.seen:
            assert set(starts) <= set(cu[:-1]) and cu[-1] == 2 * SEQ == tokens, (cu, starts)
            assert longest == max(b - a for a, b in zip(cu, cu[1:], strict=False))
        parallel_state.destroy_model_parallel()
    dist.barrier()
    if dist.get_rank() == 0:
        print("PACKING CHECKS PASSED")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
