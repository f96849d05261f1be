"""megatron-core is pinned to the release cj2 patches, for every Python, and refused otherwise."""

from __future__ import annotations

import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement

from cj2.models import megatron_pin


def test_pyproject_pins_megatron_core_exactly_for_every_python(repo_root):
    """Catches: a range for some Pythons (the old ``>=0.16.1,<0.20; python_version >= '3.12'``,
    which let NGC's Python 3.12 resolve 0.19), or a pin that differs from the code's."""
    deps = tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = [Requirement(d) for d in deps if Requirement(d).name == "megatron-core"]
    assert len(pins) == 1, pins
    assert str(pins[0].specifier) == f"=={megatron_pin.PINNED}" and pins[0].marker is None, pins[0]
    assert metadata.version("megatron-core") == megatron_pin.PINNED


def test_another_release_is_refused_with_the_pin_named(monkeypatch):
    """Catches: ``require`` accepting any version (cj2 would patch a release it was not written for)."""
    import megatron.core.package_info as info

    megatron_pin.require()  # the installed one passes
    monkeypatch.setattr(info, "__version__", "0.19.2")
    with pytest.raises(megatron_pin.MegatronVersionError, match=r"megatron-core==0\.16\.1 .*pyproject\.toml.*0\.19\.2 is installed"):
        megatron_pin.require()


@pytest.mark.parametrize("module", ["cj2.models.attention", "cj2.models.build", "cj2.models.megatron_fixes", "cj2.train.selected_logits", "cj2.cpu_shims"])
def test_every_module_that_patches_megatron_refuses_another_release(monkeypatch, module):
    """Each module re-imported with megatron-core reporting 0.19.2 must fail. Catches: one of them
    imported without the check (its patches would then run on a release they were not written for)."""
    import importlib
    import sys

    import megatron.core.package_info as info

    monkeypatch.setattr(info, "__version__", "0.19.2")
    for name in ("cj2.models.megatron_pin", module):
        monkeypatch.delitem(sys.modules, name, raising=False)  # restored after the test
    with pytest.raises(ImportError, match=r"megatron-core==0\.16\.1"):
        importlib.import_module(module)
