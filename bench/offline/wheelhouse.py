"""Write the wheelhouse a GPU node without network installs cj2's missing dependencies from.

    python bench/offline/wheelhouse.py [--python-version 3.12] [--dest wheelhouse/py3.12]
    (make wheelhouse [PYTHON_VERSION=3.11] runs it)

Every requirement of ``bench/offline/wheelhouse.txt`` as a wheel for that CPython on manylinux
x86_64: binary wheels are downloaded (``pip download --only-binary``), the sdist-only ones built
here (``pip wheel``: they are pure Python, so the wheel fits any Python). Needs the package index
once; a complete wheelhouse of the same list is reused. Refused above ``MAX_MIB``.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
REQUIREMENTS = HERE / "wheelhouse.txt"
SDIST_ONLY = ("antlr4-python3-runtime",)  # no wheel on PyPI
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
# What the device check may carry to a GPU machine along with the working tree (64 MiB in all).
MAX_MIB = 60
STAMP = ".complete"


def requirements(path: Path = REQUIREMENTS) -> list[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def wheelhouse_dir(python_version: str) -> Path:
    return REPO / "wheelhouse" / f"py{python_version}"


def build(python_version: str, dest: Path | None = None) -> list[Path]:
    """The wheels of every requirement for ``python_version`` in ``dest``; built once per list."""
    dest = dest or wheelhouse_dir(python_version)
    wanted = hashlib.sha256(f"{python_version}\n{REQUIREMENTS.read_text()}".encode()).hexdigest()
    if (dest / STAMP).is_file() and (dest / STAMP).read_text() == wanted:
        return sorted(dest.glob("*.whl"))
    staging = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    reqs = requirements()
    binary = [r for r in reqs if r.split("==")[0] not in SDIST_ONLY]
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
    abi = "cp" + python_version.replace(".", "")
    subprocess.run([*pip, "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version", python_version, "--implementation", "cp", "--abi", abi, *platforms, "-d", str(staging), *binary], check=True)
    subprocess.run([*pip, "wheel", "-q", "--no-deps", "-w", str(staging), *[r for r in reqs if r not in binary]], check=True)
    wheels = sorted(staging.glob("*.whl"))
    if len(wheels) != len(reqs):
        raise SystemExit(f"expected {len(reqs)} wheels for {reqs}, got {[w.name for w in wheels]}")
    mib = sum(w.stat().st_size for w in wheels) / 2**20
    if mib > MAX_MIB:
        raise SystemExit(f"the wheelhouse holds {mib:.1f} MiB, more than {MAX_MIB} MiB: leave out what the GPU path does not import")
    (staging / STAMP).write_text(wanted)
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return sorted(dest.glob("*.whl"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--python-version", default="3.12")
    p.add_argument("--dest", type=Path, default=None)
    args = p.parse_args()
    wheels = build(args.python_version, args.dest)
    mib = sum(w.stat().st_size for w in wheels) / 2**20
    print(f"{len(wheels)} wheels, {mib:.1f} MiB in {wheels[0].parent}:")
    for w in wheels:
        print(f"  {w.name}  {w.stat().st_size / 2**20:.2f} MiB")


if __name__ == "__main__":
    main()
