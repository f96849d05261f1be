"""The converter's config: the usual cj2 tree plus ``src``, ``dst`` and ``verify``.

Import-light (dataclasses, omegaconf): registered before ``launch/convert.py`` composes
``conf/convert.yaml``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from cj2.config.schema import Cj2Config

SCHEMA_NAME = "cj2_convert_schema"


@dataclass
class ConvertJob(Cj2Config):
    # A HF checkpoint directory (-> cj2 checkpoint) or a cj2 checkpoint (-> HF directory).
    src: str = MISSING
    dst: str = MISSING
    # Re-read what was written and compare it with the source, tensor by tensor.
    verify: bool = True


def register() -> None:
    ConfigStore.instance().store(name=SCHEMA_NAME, node=ConvertJob)
    if not OmegaConf.has_resolver("cj2.product"):
        # conf/convert.yaml starts one local process per model-parallel rank: nproc = tp * pp.
        OmegaConf.register_new_resolver("cj2.product", lambda *factors: math.prod(int(f) for f in factors))


register()
