"""Teacher-forced verdict logits of the model being trained, over a packed evaluation set.

Every sample of the set is a prompt followed by a reference judgment whose verdict token is the
gold label (built like training samples: cj2.data.packed). One forward per micro-batch, no
generation: the output layer runs only at the verdict positions, and for each verdict the
logits of the gold label's token (y*) and of the other label's (y-), the log-sum-exp over the
whole vocabulary and the argmax token are kept, computed in fp32 whatever the model's dtype. That
is what the verdict metric needs
(cj2.eval.core.verdict_metric); the caller maps ``index`` (the sample's position in the set,
kept by the packer) back to its item.
"""

from __future__ import annotations

import torch

from cj2 import cpu_shims
from cj2.data.packed.stream import PackedDataset, collate
from cj2.losses.vocab_parallel import argmax_ids, logsumexp, token_logits
from cj2.models.attention import packed_seq_params
from cj2.models.checkpoint import unwrap
from cj2.placement import to_device
from cj2.train.selected_logits import logits_only_at


def verdict_order(dataset: PackedDataset, rows: list[int]) -> list[int]:
    """Sample indices of the verdicts :func:`collate` lists for ``rows``, in its order."""
    order = []
    for row in rows:
        table = dataset.row_samples(row)
        order += [int(i) for i, v in zip(table["index"], table["verdict"], strict=True) if v >= 0]
    return order


@torch.no_grad()
def verdict_logits(model, dataset: PackedDataset, rows_per_batch: int = 1) -> list[dict]:
    """One record per verdict of ``dataset``, sorted by sample index (see the module docstring)."""
    from megatron.core import parallel_state

    if parallel_state.get_pipeline_model_parallel_world_size() != 1:
        raise NotImplementedError("verdict logits are read at pp=1 (the output layer on this rank)")
    if len(dataset) and int(dataset.samples["index"].min()) < 0:
        raise ValueError(f"{dataset.dir} was packed without sample indices (an older build): rebuild it")
    gpt = unwrap(model)
    device = next(gpt.parameters()).device
    dtype = next(gpt.parameters()).dtype
    uses_te = gpt.cj2_attention_backend == "te"
    was_training = gpt.training
    gpt.eval()
    records = []
    try:
        with cpu_shims.cuda_literals_to_cpu():
            for first in range(0, len(dataset), rows_per_batch):
                rows = list(range(first, min(first + rows_per_batch, len(dataset))))
                host = collate(dataset, rows, "token")
                batch = to_device(host, device)
                nothing = torch.zeros(0, dtype=torch.long, device=device)
                with logits_only_at(gpt, nothing, nothing, batch["verdict_row"], batch["verdict_pos"], verdict_in_fp32=True) as selected:
                    gpt(
                        batch["tokens"],
                        batch["position_ids"],
                        None,
                        decoder_input=batch["hidden"].to(dtype) if "hidden" in batch else None,
                        packed_seq_params=packed_seq_params(batch["cu_seqlens"], batch["max_seqlen"], None if uses_te else host["cu_seqlens"]),
                    )
                z = selected.verdict.float()
                values = torch.stack([token_logits(z, batch["verdict_label"]), token_logits(z, batch["verdict_opposite"]), logsumexp(z)], dim=-1)
                top = argmax_ids(z)
                for index, (z_label, z_opposite, lse), label, opposite, best in zip(
                    verdict_order(dataset, rows), values.tolist(), host["verdict_label"].tolist(), host["verdict_opposite"].tolist(), top.tolist(), strict=True
                ):
                    records.append({"index": index, "z_label": z_label, "z_opposite": z_opposite, "logsumexp": lse,
                                    "label_id": label, "opposite_id": opposite, "argmax_id": best})
    finally:
        gpt.train(was_training)
    return sorted(records, key=lambda r: r["index"])
