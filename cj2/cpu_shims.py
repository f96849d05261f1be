"""The only place cj2 patches megatron-core (0.16.1) so it runs on CPU with gloo.

megatron-core allocates on "the current CUDA device", seeds a CUDA RNG tracker, synchronises
CUDA streams and passes ``device="cuda"`` literals. On a machine without a GPU those calls fail
with ``Torch not compiled with CUDA enabled``. :func:`apply` redirects them to the CPU; it does
nothing when a GPU is present, so the same training code runs unpatched on GPUs.

Patch numbers follow the project doc "megatron-core on CPU with gloo":

1. ``torch.cuda.current_device`` -> ``"cpu"`` (RoPE, the global memory buffer, DDP buffers,
   pipeline receive buffers, sequence-parallel gathers, checkpoint save).
2. The CUDA RNG tracker on the CPU generator (``DotProductAttention`` always forks it).
3. ``torch.cuda.synchronize`` -> no-op (checkpoint save, pipeline shape exchange).
4. ``device="cuda"`` keyword literals -> CPU, as a ``TorchFunctionMode`` that costs ~30% of
   step time, so it is a context (:func:`cuda_literals_to_cpu`) entered only around the
   megatron optimizer and the pipeline schedules.
5. ``Tensor.type()`` reports CPU float tensors as ``torch.cuda.*`` (the megatron optimizer
   asserts on those names); also scoped to :func:`cuda_literals_to_cpu`.
6. (retired) Sequence parallelism with torch norms is not a CPU matter: the local layer spec
   uses ``cj2.models.norm.TorchNorm`` on every device.
7. (found here, not in the doc) ``Tensor.cuda()`` -> the tensor itself, scoped to model
   construction (:func:`cuda_tensors_stay_on_cpu`) and inside :func:`cuda_literals_to_cpu`:
   with tied embeddings and PP>1, ``LanguageModule.setup_embeddings_and_output_layer`` moves
   the shared weight with ``.cuda()``; the distributed optimizer's ``fully_reshardable``
   checkpoint format gathers its state with ``.cuda()``.
8. (moved) The ``KeyError: 'step'`` of the distributed optimizer without Apex/TE happens on
   GPUs too; its fix lives in ``cj2.models.megatron_fixes``.

The patches touch private megatron functions: megatron-core is pinned exactly for this reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

import cj2.models.megatron_pin  # noqa: F401  (refuses any megatron-core release but the pinned one)

_applied = False


def needed() -> bool:
    """True when there is no GPU, i.e. when megatron-core must be redirected to the CPU."""
    return not torch.cuda.is_available()


def apply() -> bool:
    """Apply patches 1, 2 and 3 once per process; returns whether they are active."""
    global _applied
    if _applied:
        return True
    if not needed():
        return False
    import megatron.core.tensor_parallel.random as mrand

    torch.cuda.current_device = lambda: "cpu"  # 1

    torch.cuda.manual_seed = torch.manual_seed  # 2
    torch.cuda.get_rng_state = lambda device="cuda": torch.get_rng_state()
    torch.cuda.set_rng_state = lambda state, device="cuda": torch.set_rng_state(state)
    torch.cuda.random.get_rng_state = torch.cuda.get_rng_state
    mrand._get_cuda_rng_state = lambda *args, **kwargs: torch.get_rng_state()
    mrand._set_cuda_rng_state = lambda state, *args, **kwargs: torch.set_rng_state(state)

    torch.cuda.synchronize = lambda device=None: None  # 3
    _applied = True
    return True


class _CudaLiteralsToCpu(torch.overrides.TorchFunctionMode):
    """Rewrites ``device="cuda..."`` keyword arguments of torch functions to ``"cpu"``."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        device = kwargs.get("device")
        if device is not None and str(device).startswith("cuda"):
            kwargs = {**kwargs, "device": "cpu"}
        return func(*args, **kwargs)


def _cuda_named_type(original):
    def type_(self, dtype=None, non_blocking=False, **kwargs):
        if dtype is None and not kwargs and self.device.type == "cpu":
            name = original(self)
            return name if ".cuda." in name else name.replace("torch.", "torch.cuda.", 1)
        return original(self, dtype, non_blocking, **kwargs)

    return type_


@contextlib.contextmanager
def cuda_tensors_stay_on_cpu() -> Iterator[None]:
    """Patch 7, around ``GPTModel(...)`` construction. A no-op when a GPU is present."""
    if not needed():
        yield
        return
    original_cuda = torch.Tensor.cuda
    torch.Tensor.cuda = lambda self, *args, **kwargs: self
    try:
        yield
    finally:
        torch.Tensor.cuda = original_cuda


@contextlib.contextmanager
def cuda_literals_to_cpu() -> Iterator[None]:
    """Patches 4, 5 and 7, for the duration of a megatron optimizer or pipeline schedule call.

    Wrap ``get_megatron_optimizer(...)``, ``optimizer.step()``,
    ``optimizer.sharded_state_dict(...)`` (its resharding format moves state with ``.cuda()``)
    and ``get_forward_backward_func()(...)`` in it. A no-op when a GPU is present.
    """
    if not needed():
        yield
        return
    original_type = torch.Tensor.type
    torch.Tensor.type = _cuda_named_type(original_type)
    try:
        with cuda_tensors_stay_on_cpu(), _CudaLiteralsToCpu():
            yield
    finally:
        torch.Tensor.type = original_type
