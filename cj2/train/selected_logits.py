"""Run the output layer only where a loss needs logits: learned tokens and verdict positions.

A judge sample is mostly prompt (about 75% of the tokens in the demo mixture), and the output
layer (hidden x vocabulary, 152k wide) is the largest matmul of a small model and a large
share of a big one; skipping the prompt positions saves that share of its forward and
backward. The hidden states are selected just before the output layer, so the transformer,
pipeline stages and sequence parallelism are untouched; under sequence parallelism the
sequence is gathered first, exactly as megatron does for last-token inference logits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

import cj2.models.megatron_pin  # noqa: F401  (refuses any megatron-core release but the pinned one)


def compact_targets(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The loss inputs of a collated micro-batch re-indexed for logits ``[1, n, V]`` at its n
    needed positions (``batch["logit_pos"]``, chosen by :func:`cj2.data.packed.stream.collate`).

    Pure gathers on the batch's device: no data-dependent op, no host sync.
    ``logit_rows`` / ``logit_pos`` say which (row, position) each of the n logits belongs to.
    """
    positions = batch["logit_pos"]
    return {
        "logit_rows": torch.zeros_like(positions),
        "logit_pos": positions,
        "labels": batch["labels"][0, positions].unsqueeze(0),
        "token_weight": batch["token_weight"][0, positions].unsqueeze(0),
        "verdict_row": torch.zeros_like(batch["verdict_row"]),
        "verdict_pos": batch["verdict_slot"],
        "verdict_label": batch["verdict_label"],
        "verdict_opposite": batch["verdict_opposite"],
        "verdict_weight": batch["verdict_weight"],
    }


class Selected:
    """What :func:`logits_only_at` computed besides the model's output."""

    verdict: torch.Tensor | None = None  # [n_verdicts, V_local]


@contextlib.contextmanager
def logits_only_at(
    gpt_model, rows: torch.Tensor, positions: torch.Tensor, verdict_rows: torch.Tensor, verdict_positions: torch.Tensor,
    verdict_in_fp32: bool = False,
) -> Iterator[Selected]:
    """Inside, ``gpt_model`` returns logits ``[1, n, V_local]`` for the given (row, position) pairs,
    and the yielded object's ``verdict`` holds the verdict positions' logits ``[n_verdicts, V_local]``.

    The verdict logits come from a second, small output-layer call instead of rows of the main
    logits: a gradient on a few rows of a tensor is materialised at the full tensor's size
    (n x 152k per micro-batch), which cost about 19% of a CPU demo step. A no-op on pipeline
    stages without the output layer. ``verdict_in_fp32`` (evaluation only): those logits in fp32
    whatever the model's dtype.
    """
    selected = Selected()
    layer = getattr(gpt_model, "output_layer", None)
    if layer is None or not gpt_model.post_process:
        yield selected
        return
    from megatron.core.tensor_parallel import gather_from_sequence_parallel_region

    pending = {}

    def select(module, args, kwargs):
        hidden = args[0]  # [s, b, h]; [s / tp, b, h] under sequence parallelism
        if module.sequence_parallel:
            # Gather the sequence; the backward only splits it again, because the layer's own
            # input-grad all-reduce (active once sequence_parallel is off) already sums over TP.
            hidden = gather_from_sequence_parallel_region(hidden, tensor_parallel_output_grad=False)
            module.sequence_parallel = False
            pending["restore_sequence_parallel"] = True
        pending["verdict_hidden"], pending["kwargs"] = hidden[verdict_positions, verdict_rows].unsqueeze(1), kwargs
        return (hidden[positions, rows].unsqueeze(1), *args[1:]), kwargs

    def add_verdict_logits(module, args, output):
        hidden, kwargs = pending.pop("verdict_hidden"), pending.pop("kwargs")
        if verdict_in_fp32:
            # Evaluation (no backward): this rank's vocabulary shard in fp32. bf16 logits near 20
            # are 0.125 apart, which turns close verdicts into ties and rounds every margin.
            weight = kwargs.get("weight") if kwargs.get("weight") is not None else module.weight
            selected.verdict = torch.nn.functional.linear(hidden.squeeze(1).float(), weight.float())
        else:
            # module.forward, not module(...): these hooks must not run again.
            selected.verdict = module.forward(hidden, **kwargs)[0].squeeze(1)
        if pending.pop("restore_sequence_parallel", False):
            module.sequence_parallel = True

    handles = [
        layer.register_forward_pre_hook(select, with_kwargs=True),
        layer.register_forward_hook(add_verdict_logits),
    ]
    try:
        yield selected
    finally:
        for handle in handles:
            handle.remove()
