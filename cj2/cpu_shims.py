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
6. Sequence parallel: the torch norm refuses ``sequence_parallel=True``; build it from a config
   copy without it and tag its params ``sequence_parallel`` so their grads are all-reduced.
7. (found here, not in the doc) ``Tensor.cuda()`` -> the tensor itself, scoped to model
   construction (:func:`cuda_tensors_stay_on_cpu`) and inside :func:`cuda_literals_to_cpu`:
   with tied embeddings and PP>1, ``LanguageModule.setup_embeddings_and_output_layer`` moves
   the shared weight with ``.cuda()``; the distributed optimizer's ``fully_reshardable``
   checkpoint format gathers its state with ``.cuda()``.
8. (found here) The distributed optimizer without Apex/TE (torch Adam, i.e. on CPU) keeps a
   per-param ``step`` that ``fully_reshardable`` loading skips on the source side but still
   copies on the destination side (``KeyError: 'step'``): copy only the states that were read.

The patches touch private megatron functions: megatron-core is pinned exactly for this reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import torch

_applied = False


def needed() -> bool:
    """True when there is no GPU, i.e. when megatron-core must be redirected to the CPU."""
    return not torch.cuda.is_available()


def apply() -> bool:
    """Apply patches 1, 2, 3, 6 and 8 once per process; returns whether they are active."""
    global _applied
    if _applied:
        return True
    if not needed():
        return False
    import megatron.core.tensor_parallel.random as mrand
    from megatron.core.optimizer.distrib_optimizer import DistributedOptimizer
    from megatron.core.transformer import torch_norm

    torch.cuda.current_device = lambda: "cpu"  # 1

    torch.cuda.manual_seed = torch.manual_seed  # 2
    torch.cuda.get_rng_state = lambda device="cuda": torch.get_rng_state()
    torch.cuda.set_rng_state = lambda state, device="cuda": torch.set_rng_state(state)
    torch.cuda.random.get_rng_state = torch.cuda.get_rng_state
    mrand._get_cuda_rng_state = lambda *args, **kwargs: torch.get_rng_state()
    mrand._set_cuda_rng_state = lambda state, *args, **kwargs: torch.set_rng_state(state)

    torch.cuda.synchronize = lambda device=None: None  # 3

    _patch_torch_norm_for_sequence_parallel(torch_norm.WrappedTorchNorm)  # 6
    _patch_optimizer_state_loading(DistributedOptimizer)  # 8
    _applied = True
    return True


def _patch_torch_norm_for_sequence_parallel(norm_class) -> None:
    original_new = norm_class.__new__

    def new(cls, config, *args, **kwargs):
        if not config.sequence_parallel:
            return original_new(cls, config, *args, **kwargs)
        norm = original_new(cls, dataclasses.replace(config, sequence_parallel=False), *args, **kwargs)
        for param in norm.parameters():
            # finalize_model_grads all-reduces grads of params tagged like this across TP.
            param.sequence_parallel = True
        return norm

    norm_class.__new__ = new


def _patch_optimizer_state_loading(optimizer_class) -> None:
    original = optimizer_class._set_main_param_and_optimizer_states

    def set_states(self, model_param, tensors):
        if self.config.use_precision_aware_optimizer_no_fp8_or_ds_fp8:
            return original(self, model_param, tensors)
        group_index, group_order = self.model_param_group_index_map[model_param]
        main_param = self.optimizer.param_groups[group_index]["params"][group_order]
        destination = {"param": main_param, **self.optimizer.state[main_param]}
        for key, value in tensors.items():
            destination[key].copy_(value)

    optimizer_class._set_main_param_and_optimizer_states = set_states


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
