"""Registers the typed schema in Hydra's ConfigStore.

``conf/config.yaml`` lists ``cj2_schema`` first in its defaults, so every YAML group merges
into a typed node: an unknown key or a wrong type is a composition error.
"""

from hydra.core.config_store import ConfigStore

from cj2.config.schema import Cj2Config

SCHEMA_NAME = "cj2_schema"


def register() -> None:
    ConfigStore.instance().store(name=SCHEMA_NAME, node=Cj2Config)


register()
