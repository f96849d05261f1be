"""Where tensors live: the one place that puts a micro-batch, or a collective's tensor, on a device.

A run's model lives on this rank's GPU (``cuda:LOCAL_RANK``) when CUDA is present, else on the
CPU. Everything that enters the model goes through :func:`to_device`; every tensor a cj2
collective reduces is created on :func:`collective_device`, the device its process group's
backend accepts (NCCL refuses CPU tensors; gloo refuses CUDA ones). Micro-batches are collated
on the CPU (from memory-mapped shards) and copied over from pinned memory without blocking, so
the copy of the next micro-batch overlaps the current one's compute.

A run that asks for GPUs on a machine without CUDA stops here with a clear error instead of
training silently on the CPU.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass, replace
from typing import Any

import torch


class NoGpuError(RuntimeError):
    """The config asks for GPUs and this process sees none."""


def compute_device() -> torch.device:
    """This rank's device for the model: the current CUDA device, or the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def require_gpus(gpus_per_node: int) -> None:
    """Fail fast when a run asks for GPUs (``cluster.gpus_per_node > 0``) and CUDA is missing."""
    if gpus_per_node > 0 and not torch.cuda.is_available():
        raise NoGpuError(
            f"cluster.gpus_per_node={gpus_per_node} but this process sees no CUDA device "
            f"(torch {torch.__version__}, CUDA_VISIBLE_DEVICES={_visible_devices()!r}): "
            "a CPU torch build, a job without --gpus, or a driver problem. "
            "Use cluster.gpus_per_node=0 to train on CPU on purpose."
        )


def _visible_devices() -> str | None:
    import os

    return os.environ.get("CUDA_VISIBLE_DEVICES")


def collective_device(group=None) -> torch.device:
    """The device a collective's tensors must be on for ``group``'s backend."""
    import torch.distributed as dist

    backend = str(dist.get_backend(group))
    if backend == "gloo":
        return torch.device("cpu")
    # nccl, or a device-qualified backend such as "cuda:nccl" / "cuda:gloo": the CUDA device.
    return torch.device("cuda", torch.cuda.current_device())


def to_device(value: Any, device: torch.device) -> Any:
    """``value`` (a tensor, or dicts / lists / dataclasses of them) on ``device``.

    CPU tensors bound for a GPU are pinned first, so the copy runs asynchronously (torch's
    caching host allocator does not reuse the pinned block before the copy has finished).
    """
    if isinstance(value, torch.Tensor):
        if value.device == device:
            return value
        if device.type == "cuda" and value.device.type == "cpu":
            return value.pin_memory().to(device, non_blocking=True)
        return value.to(device)
    if isinstance(value, dict):
        return {k: to_device(v, device) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(to_device(v, device) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        moved = {f.name: to_device(getattr(value, f.name), device) for f in fields(value) if isinstance(getattr(value, f.name), torch.Tensor)}
        return replace(value, **moved) if moved else value
    return value
