"""One optimizer step over a global batch: micro-batches through megatron's schedule (pipeline
or not), gradient reduction, clipping and the AdamW update."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist

from cj2 import cpu_shims
from cj2.data.packed.stream import Denominators
from cj2.losses.objective import judge_loss
from cj2.models.attention import packed_seq_params
from cj2.models.checkpoint import unwrap
from cj2.placement import to_device
from cj2.train.selected_logits import compact_targets, logits_only_at

LOGGED_SUMS = ("sft_sum", "pg_sum", "verdict_correct", "verdict_count")


@dataclass
class StepResult:
    loss: float
    sft: float
    pg: float
    verdict_accuracy: float  # over this batch's verdicts; nan without any
    grad_norm: float = float("nan")
    lr: float = float("nan")
    skipped: bool = False


def global_sums(per_micro_batch: list[dict[str, torch.Tensor]], device: torch.device) -> torch.Tensor:
    """Logged sums (``LOGGED_SUMS`` order) over all micro-batches and data-parallel ranks, on
    every rank, as a tensor on ``device`` (the model's: the one the backend reduces on).

    Only the last pipeline stage computes losses; every TP rank there holds the same values,
    so a world all-reduce (zeros elsewhere) divided by the TP size gives the global sums.
    """
    from megatron.core import parallel_state

    sums = torch.zeros(len(LOGGED_SUMS), dtype=torch.float64, device=device)
    for parts in per_micro_batch:
        sums += torch.stack([parts[k].double() for k in LOGGED_SUMS])
    dist.all_reduce(sums)
    return sums / parallel_state.get_tensor_model_parallel_world_size()


def _forward_backward(model, micro_batches: list[dict], den: Denominators, loss_cfg, forward_only: bool) -> torch.Tensor:
    from megatron.core import parallel_state
    from megatron.core.pipeline_parallel import get_forward_backward_func

    num_micro_batches = len(micro_batches)
    # The schedule divides each micro-batch loss by their number and megatron DDP averages
    # gradients over data-parallel ranks; the loss is already divided by global-batch
    # denominators, so both are undone to keep the exact global-batch gradient.
    rescale = num_micro_batches * parallel_state.get_data_parallel_world_size()

    device = model_device(model)
    dtype = next(unwrap(model).parameters()).dtype
    # Transformer Engine takes every boundary tensor on the GPU; the local spec reads a host copy.
    uses_te = unwrap(model).cj2_attention_backend == "te"

    def forward_step(data_iterator, model):
        host_batch = next(data_iterator)
        # The one host-to-device hand-over of a micro-batch (pinned, asynchronous).
        batch = to_device(host_batch, device)
        host_bounds = None if uses_te else host_batch["cu_seqlens"]
        targets = compact_targets(batch)
        with logits_only_at(
            unwrap(model), targets["logit_rows"], targets["logit_pos"], batch["verdict_row"], batch["verdict_pos"]
        ) as selected:
            logits = model(
                batch["tokens"],
                batch["position_ids"],
                None,
                # A frozen bottom's cached output (model.frozen_layers) instead of the embedding.
                decoder_input=batch["hidden"].to(dtype) if "hidden" in batch else None,
                packed_seq_params=packed_seq_params(batch["cu_seqlens"], batch["max_seqlen"], host_bounds),
            )

        def loss_func(output):
            parts = judge_loss(output, targets, loss_cfg, den.sft, den.pg, verdict_logits=selected.verdict)
            logged = {k: getattr(parts, k) for k in LOGGED_SUMS}
            return parts.loss * rescale, logged

        return logits, loss_func

    per_micro_batch = get_forward_backward_func()(
        forward_step_func=forward_step,
        data_iterator=iter(micro_batches),
        model=[model],
        num_microbatches=num_micro_batches,
        # One packed sequence per micro-batch: the pipeline's activation shape is [s, 1, h].
        seq_length=micro_batches[0]["tokens"].shape[1],
        micro_batch_size=1,
        forward_only=forward_only,
    )
    return global_sums(per_micro_batch if parallel_state.is_pipeline_last_stage() else [], device)


def model_device(model) -> torch.device:
    return next(unwrap(model).parameters()).device


def _result(sums_tensor: torch.Tensor, den: Denominators, loss_cfg, **extra) -> StepResult:
    sums = dict(zip(LOGGED_SUMS, sums_tensor.tolist(), strict=True))  # the step's one host sync
    sft = sums["sft_sum"] / max(den.sft, 1e-12)
    pg = sums["pg_sum"] / max(den.pg, 1.0)
    loss = loss_cfg.sft_weight * sft + (loss_cfg.pg_weight * pg if loss_cfg.name != "none" else 0.0)
    count = sums["verdict_count"]
    accuracy = sums["verdict_correct"] / count if count else float("nan")
    return StepResult(loss=loss, sft=sft, pg=pg, verdict_accuracy=accuracy, **extra)


def train_step(
    model, optimizer, scheduler, micro_batches: list[dict], den: Denominators, loss_cfg
) -> StepResult:
    model.zero_grad_buffer()
    optimizer.zero_grad()
    scheduler.step(increment=1)  # this step's learning rate (warm-up starts above 0)
    with cpu_shims.cuda_literals_to_cpu():
        sums = _forward_backward(model, micro_batches, den, loss_cfg, forward_only=False)
        updated, grad_norm, _ = optimizer.step()
    return _result(
        sums,
        den,
        loss_cfg,
        grad_norm=float(grad_norm) if grad_norm is not None else float("nan"),
        lr=optimizer.param_groups[0]["lr"],
        skipped=not updated,
    )


@torch.no_grad()
def eval_step(model, micro_batches: list[dict], den: Denominators, loss_cfg) -> StepResult:
    """Loss parts and teacher-forced verdict accuracy of a held-out batch (no update)."""
    model.eval()
    try:
        with cpu_shims.cuda_literals_to_cpu():
            sums = _forward_backward(model, micro_batches, den, loss_cfg, forward_only=True)
    finally:
        model.train()
    return _result(sums, den, loss_cfg)
