"""Model entries of a config (``bench.*`` models, ``curate.policy_models``): one :class:`ModelSpec`
per entry, and engines built lazily from it.

An entry is a string (the model, served or loaded with the section's engine settings) or a mapping
overriding them for that model: ``{name: qwen7b, engine: openai, model: Qwen2.5-7B-Instruct, base_url: ...}``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from cj2.config.schema import EngineSettings

ENGINE_KEYS = tuple(f.name for f in fields(EngineSettings))


class ModelEntryError(ValueError):
    """A model entry that cannot be used; the message names the setting."""

    def __init__(self, setting: str, message: str):
        super().__init__(f"{setting}: {message}")


@dataclass(kw_only=True)
class ModelSpec(EngineSettings):
    name: str  # what records, the win table and the report call it
    model: str | None

    def fingerprint(self) -> dict[str, Any]:
        """What decides this model's outputs (not where it is served, nor how many requests fly)."""
        return {"name": self.name, "model": self.model, "engine": self.engine}


def model_spec(entry: Any, section, setting: str) -> ModelSpec:
    """A config entry (string or mapping) with the section's engine settings (``bench``, ``sample``) filled in."""
    defaults = {k: section[k] for k in ENGINE_KEYS}
    if isinstance(entry, str):
        return ModelSpec(name=_default_name(entry), model=entry, **defaults)
    if isinstance(entry, Mapping):
        entry = dict(entry)
        known = {f.name for f in fields(ModelSpec)}
        unknown = sorted(set(entry) - known)
        if unknown:
            raise ModelEntryError(setting, f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        if not entry.get("model") and not entry.get("name"):
            raise ModelEntryError(setting, "a model entry needs 'model' (or at least 'name' for a server's default model)")
        name = entry.get("name") or _default_name(entry["model"])
        return replace(ModelSpec(name=name, model=entry.get("model"), **defaults), **{k: v for k, v in entry.items() if k not in ("name", "model")})
    raise ModelEntryError(setting, f"expected a model (string) or a mapping {{name, model, engine, base_url ...}}, got {type(entry).__name__}")


def _default_name(model: str) -> str:
    return Path(str(model).rstrip("/")).name or str(model)


def engine_options(spec: ModelSpec) -> dict[str, Any]:
    """Constructor options of the spec's engine, as launch/sample.py builds them."""
    if spec.engine == "openai":
        base_url = spec.base_url
        if not base_url:
            if not spec.base_url_file:
                raise ModelEntryError(f"model {spec.name!r}", "engine openai needs base_url=http://host:port/v1 or base_url_file=FILE (written by slurm/teacher_server.sbatch)")
            from cj2.sample.server_address import resolve_base_url

            base_url = resolve_base_url(spec.base_url_file, spec.server_wait_s)
        return {"base_url": base_url, "model": spec.model, "concurrency": spec.concurrency, "request_timeout_s": spec.request_timeout_s, "max_retries": spec.max_retries}
    if spec.engine == "hf":
        model = Path(str(spec.model))
        if model.suffix == ".gguf":
            return {"model": str(model.parent), "gguf_file": model.name, "device": spec.device, "dtype": spec.dtype}
        return {"model": str(model), "device": spec.device, "dtype": spec.dtype}
    if spec.engine == "megatron":
        raise ModelEntryError(f"model {spec.name!r}", "engine megatron runs one process per TP rank (launch/sample.py); serve the model (slurm/teacher_server.sbatch) and use engine openai")
    return {"model": spec.model}


def build_engine_for(spec: ModelSpec):
    """cj2's sampling engines by kind (hf | openai | megatron); ``module:Class`` names any class with
    the same ``generate`` / ``close`` protocol (your own client; the tests' scripted models)."""
    if ":" in spec.engine:
        module, name = spec.engine.split(":", 1)
        return getattr(importlib.import_module(module), name)(**engine_options(spec))
    from cj2.sample.engines import build_engine

    return build_engine(spec.engine, **engine_options(spec))


EngineFactory = Callable[[ModelSpec], Any]


class LazyEngine:
    """The engine of one model, built on first use: a stage whose calls are all stored loads no model."""

    def __init__(self, spec: ModelSpec, factory: EngineFactory = build_engine_for):
        self.spec, self.factory, self.engine = spec, factory, None

    def __call__(self):
        if self.engine is None:
            self.engine = self.factory(self.spec)
        return self.engine

    def generate(self, *args, **kwargs):
        return self().generate(*args, **kwargs)

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
