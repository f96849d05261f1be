"""Registers the typed schema in Hydra's ConfigStore.

``conf/config.yaml`` lists ``cj2_schema`` first in its defaults, so every YAML group merges
into a typed node: an unknown key or a wrong type is a composition error.
"""

from hydra.core.config_store import ConfigStore

from cj2.config.schema import Cj2Config

SCHEMA_NAME = "cj2_schema"


def register() -> None:
    from omegaconf import OmegaConf

    schema = OmegaConf.structured(Cj2Config)
    # Hydra merges a dict override into the existing dict under struct mode, which refuses any new
    # key: without this, eval.label_map={0: A, 1: B, 2: tie} (or eval.fields={...}) could not be
    # given on the command line.
    OmegaConf.set_struct(schema.eval.label_map, False)
    OmegaConf.set_struct(schema.eval.fields, False)
    ConfigStore.instance().store(name=SCHEMA_NAME, node=schema)


register()
