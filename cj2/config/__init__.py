"""Config schema, composition, validation and planning (import-light: no torch)."""

from cj2.config import store as _store  # noqa: F401  (registers the schema with Hydra)
from cj2.config.compose import CONF_DIR, compose, finalize
from cj2.config.validate import ConfigError, Problem, problems_of, validate

__all__ = ["CONF_DIR", "ConfigError", "Problem", "compose", "finalize", "problems_of", "validate"]
