"""The wheelhouse that lets cj2 run on a bare, offline GPU image, and its private install.

The wheelhouses (Python 3.11 for CI and this machine, 3.12 for the GPU image) are built by
bench/offline/wheelhouse.py (``make wheelhouse``) into the ignored ``wheelhouse/`` folder and
reused while bench/offline/wheelhouse.txt is unchanged: the first run needs the package index
(about 10 s: 7 wheels, ~3 MiB per Python), later ones nothing.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import zipfile

import pytest
from packaging.requirements import Requirement

from tests.bench.image_python import IMAGE_PACKAGES, canonical, listed
from tests.bench.scripts import bench_script

wheelhouse = bench_script("offline/wheelhouse.py")
INSTALL = IMAGE_PACKAGES.with_name("install.py")


HERE = f"{sys.version_info.major}.{sys.version_info.minor}"  # CI's 3.11


@pytest.fixture(scope="module")
def wheels_here():
    return wheelhouse.build(HERE)


def test_the_wheelhouse_holds_a_wheel_per_requirement_for_each_python(repo_root, wheels_here):
    """Catches: a requirement with no wheel for the GPU image's Python 3.12 (or for CI's 3.11), an
    sdist-only one left unbuilt (antlr4), a pin that differs from pyproject.toml's, a wheelhouse over
    the 60 MiB a device check may carry, and one that would shadow an image package."""
    pins = {canonical(r.name): str(r.specifier) for r in map(Requirement, tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"])}
    reqs = {canonical(r.split("==")[0]): r.split("==")[1] for r in wheelhouse.requirements()}
    assert {"megatron-core", "hydra-core", "omegaconf", "antlr4-python3-runtime", "submitit"} <= reqs.keys()
    assert all(pins[name] == f"=={version}" for name, version in reqs.items() if name in pins), (pins, reqs)
    assert not reqs.keys() & listed(IMAGE_PACKAGES)
    for version in sorted({HERE, "3.11", "3.12"}):
        wheels = wheels_here if version == HERE else wheelhouse.build(version)
        tag = "cp" + version.replace(".", "")
        names = {canonical(w.name.split("-")[0]): w.name for w in wheels}
        assert names.keys() == reqs.keys(), version
        for name, file in names.items():
            assert f"-{reqs[name]}-" in file.replace("_", "-") or f"-{reqs[name]}-" in file, file
            assert file.endswith("-py3-none-any.whl") or (f"-{tag}-{tag}-" in file and "manylinux" in file and file.endswith("x86_64.whl")), file
        assert sum(w.stat().st_size for w in wheels) < wheelhouse.MAX_MIB * 2**20


def test_missing_dependencies_go_to_a_private_directory_and_nothing_else_moves(tmp_path, wheels_here):
    """Run with ``python -S`` (no site-packages: every wheelhouse distribution is missing, as on the
    image), bench/offline/install.py installs them into its target only; with them on the path, the
    pure-Python ones import from there; a second run installs nothing; with site-packages (all
    present) it installs nothing and names no target. Catches: an install over the image's packages
    (``--target`` dropped), dependencies pulled in (``--no-deps`` dropped: pip would look for torch
    and fail offline), and a rerun reinstalling or not finding what it installed."""
    target = tmp_path / "site"
    first = subprocess.run([sys.executable, "-S", str(INSTALL), "--target", str(target)], capture_output=True, text=True, timeout=300)
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert first.returncode == 0 and report["ok"], first.stdout + first.stderr
    assert report["installed"] == sorted(canonical(w.name.split("-")[0]) for w in wheels_here) and report["target"] == str(target.resolve())
    installed = {canonical(p.name.split("-")[0]) for p in target.glob("*.dist-info")}
    assert installed == set(report["installed"])  # nothing else: no torch, numpy or packaging
    # First on the path, as gpu_check.sh puts it (the image's torch, yaml ... from site-packages).
    probe = "import sys; sys.path.insert(0, sys.argv[1]); import antlr4, cloudpickle, hydra, omegaconf, submitit, megatron.core, torch; print(*(m.__file__ for m in (antlr4, cloudpickle, hydra, omegaconf, submitit, megatron.core, torch)))"
    where = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True, text=True, timeout=120, check=True).stdout.split()
    assert [f.startswith(str(target)) for f in where] == [True] * 6 + [False]
    again = json.loads(subprocess.run([sys.executable, "-S", str(INSTALL), "--target", str(target)], capture_output=True, text=True, timeout=300, check=True).stdout.strip().splitlines()[-1])
    assert again["installed"] == [] and again["from_target"] == report["installed"] and again["target"] == str(target.resolve())
    here = json.loads(subprocess.run([sys.executable, str(INSTALL), "--target", str(tmp_path / "unused")], capture_output=True, text=True, timeout=300, check=True).stdout.strip().splitlines()[-1])
    assert here["installed"] == [] and here["target"] == "" and not (tmp_path / "unused").exists()


def test_without_pip_the_wheels_are_unpacked(tmp_path, wheels_here):
    """A bare venv without pip: install.py unpacks the wheels itself. Catches: the fallback missing
    (an image without pip could not use the wheelhouse at all)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True, timeout=120)
    python, target = tmp_path / "venv" / "bin" / "python", tmp_path / "site"
    out = subprocess.run([str(python), str(INSTALL), "--target", str(target)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and json.loads(out.stdout.strip().splitlines()[-1])["ok"], out.stdout + out.stderr
    assert (target / "omegaconf" / "__init__.py").is_file() and (target / "megatron" / "core" / "package_info.py").is_file()
    with zipfile.ZipFile(next(w for w in wheels_here if w.name.startswith("hydra_core"))) as z:
        assert all((target / n).exists() for n in z.namelist() if re.match(r"hydra/[^/]+\.py$", n))
