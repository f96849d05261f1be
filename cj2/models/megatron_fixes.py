"""Fixes to megatron-core 0.16.1 defects that bite on every device (not CPU shims).

1. The distributed optimizer without Apex/TE (torch Adam: any machine without those, GPU
   included) keeps a per-param ``step`` in its state. Loading a ``fully_reshardable``
   checkpoint reads only ``param``/``exp_avg``/``exp_avg_sq`` but copies every destination
   state, ``step`` included: ``KeyError: 'step'``. ``dp_reshardable`` loading copies a per-param
``step`` that its bucket layout does not preserve (Adam's bias correction then uses the wrong
step). The fix copies the states both sides have, except ``step``, which megatron already
restores from the checkpoint's param groups.

megatron-core is pinned exactly because this touches a private method.
"""

from __future__ import annotations

import cj2.models.megatron_pin  # noqa: F401  (refuses any megatron-core release but the pinned one)

_applied = False


def apply() -> None:
    global _applied
    if _applied:
        return
    import torch
    from megatron.core.optimizer.distrib_optimizer import DistributedOptimizer

    original = DistributedOptimizer._set_main_param_and_optimizer_states

    def set_states(self, model_param, tensors):
        if self.config.use_precision_aware_optimizer_no_fp8_or_ds_fp8:
            return original(self, model_param, tensors)
        group_index, group_order = self.model_param_group_index_map[model_param]
        main_param = self.optimizer.param_groups[group_index]["params"][group_order]
        destination = {"param": main_param, **self.optimizer.state[main_param]}
        # Only states both sides have: fully_reshardable sources lack "step"; dp_reshardable
        # sources also carry bucket bookkeeping ("padding", "gbuf_local_*"). "step" itself
        # is not taken from the per-param state: megatron's load_state_dict has already set it
        # from the checkpoint's param groups (a 0-dim state does not survive the bucket layout).
        with torch.no_grad():  # the main param is a leaf that requires grad
            for key in (destination.keys() & tensors.keys()) - {"step"}:
                destination[key].copy_(tensors[key])

    DistributedOptimizer._set_main_param_and_optimizer_states = set_states
    _applied = True
