"""The one megatron-core release cj2 runs on, refused at import when another is installed.

cj2 patches and reads private internals of megatron-core 0.16.1: the distributed optimizer's
``_set_main_param_and_optimizer_states`` (``cj2.models.megatron_fixes``), the output layer's
``sequence_parallel`` flag (``cj2.train.selected_logits``), ``DotProductAttention``'s fields
(``cj2.models.attention``), ``layers._grad_accum_fusion_available`` (``cj2.models.build``), the CUDA
call sites of ``cj2.cpu_shims`` and the checkpoint metadata keys. Another release could fail at the
first step or the first resume, or train differently without an error, so it is refused here.
"""

from __future__ import annotations

# pyproject.toml pins megatron-core to exactly this for every Python (tests/models/test_megatron_pin.py).
PINNED = "0.16.1"


class MegatronVersionError(ImportError):
    """The installed megatron-core is not the release cj2 is written against."""


def require() -> None:
    from megatron.core.package_info import __version__ as found

    if found != PINNED:
        raise MegatronVersionError(
            f"cj2 needs megatron-core=={PINNED} (pinned in pyproject.toml: cj2 patches private internals of that release), "
            f"but megatron-core {found} is installed: pip install megatron-core=={PINNED}"
        )


require()
