"""Install what this Python lacks from the wheelhouse into a private directory, touching nothing else.

    python bench/offline/install.py [--wheelhouse wheelhouse] [--target DIR]

For a GPU node without network (bench/gpu_check.sh runs it first): every wheel of
``wheelhouse/py<major.minor>/`` whose distribution this interpreter does not have is installed into
``--target`` (default ``wheelhouse/site-py<major.minor>``) with ``pip install --no-index --no-deps
--target``, so the image's own packages (its CUDA torch above all) are never replaced or shadowed.
Prints one JSON line (what was installed, what the image had, the directory to put on PYTHONPATH)
and exits 1 when something is missing and no wheel for it is there.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_of(wheel: Path) -> str:
    return canonical(wheel.name.split("-")[0])


def has(name: str, paths: list[str]) -> bool:
    return any(True for _ in metadata.distributions(name=name, path=paths))


def install(wheels: list[Path], target: Path) -> None:
    """``pip install --no-deps --target``; without pip, the wheels unpacked (what pip does for pure
    and binary wheels alike, minus scripts)."""
    target.mkdir(parents=True, exist_ok=True)
    pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if pip.returncode == 0:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index", "--no-deps", "--upgrade", "--target", str(target), *map(str, wheels)], check=True)
        return
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as z:
            z.extractall(target)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wheelhouse", type=Path, default=REPO / "wheelhouse")
    p.add_argument("--target", type=Path, default=None)
    args = p.parse_args()
    house = args.wheelhouse / f"py{VERSION}"
    target = (args.target or args.wheelhouse / f"site-py{VERSION}").resolve()
    image = [entry for entry in sys.path if Path(entry or ".").resolve() != target]
    wheels = sorted(house.glob("*.whl"))
    present = sorted(distribution_of(w) for w in wheels if has(distribution_of(w), image))
    needed = [w for w in wheels if distribution_of(w) not in present]
    missing = [w for w in needed if not has(distribution_of(w), [str(target)])]
    if missing:
        install(missing, target)
    from_requirements = [line.split("==")[0].strip() for line in (Path(__file__).with_name("wheelhouse.txt")).read_text().splitlines() if line.strip() and not line.startswith("#")]
    absent = sorted({canonical(r) for r in from_requirements} - {distribution_of(w) for w in wheels} - set(present))
    report = {
        "check": "dependencies",
        "python": VERSION,
        "wheelhouse": str(house),
        "image_has": present,
        "installed": sorted(distribution_of(w) for w in missing),
        "from_target": sorted(distribution_of(w) for w in needed),
        "target": str(target) if needed else "",
        "ok": not absent,
    }
    if absent:
        report["error"] = f"no wheel for {absent} in {house}: build it where the index is reachable (make wheelhouse PYTHON_VERSION={VERSION}) and copy wheelhouse/py{VERSION} here"
    print(json.dumps(report), flush=True)
    return 0 if not absent else 1


if __name__ == "__main__":
    sys.exit(main())
