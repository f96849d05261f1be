"""A Python that sees only the GPU image's packages plus the wheelhouse (an import blocker).

The bare CUDA image a GPU node runs (bench/offline/gpu-image-packages.txt) lacks most of cj2's
dependencies; the wheelhouse (bench/offline/wheelhouse.txt) brings the rest. :func:`make` builds a
directory of links to exactly those distributions of this interpreter's site-packages (their
packages, modules and ``.dist-info``; the image's with what they require here) and a ``python`` script that starts this interpreter
without its site-packages (``-S``) and with that directory instead. Under it an import of anything
else fails as on the image, ``importlib.util.find_spec`` and ``importlib.metadata`` do not see it
either (optional imports behave as there), and ``PYTHONPATH`` still works.

    python image_python.py SITE_DIR (SCRIPT | -c CODE | -m MODULE | -) [ARGS...]   (what the script runs)
"""

from __future__ import annotations

import os
import re
import runpy
import site
import stat
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGE_PACKAGES = REPO / "bench" / "offline" / "gpu-image-packages.txt"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def listed(path: Path) -> set[str]:
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return {canonical(re.split(r"[=<>!~ ;]", line)[0]) for line in lines if line}


def with_requirements(names: set[str], purelib: Path) -> set[str]:
    """``names`` and everything they require as installed here: this environment's versions of the
    image's packages may need other helpers than the image's own (huggingface_hub's, for one)."""
    from packaging.requirements import Requirement

    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        dist = next(iter(metadata.distributions(name=name, path=[str(purelib)])), None)
        for line in (dist.requires or []) if dist else []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonical(req.name))
    return found


def make(out_dir: Path, wheelhouse: Path) -> tuple[Path, set[str]]:
    """(the ``python`` script, the distributions it sees): the image's packages with what they need,
    and the wheelhouse's wheels (installed without their requirements, as bench/offline/install.py does)."""
    purelib = Path(sysconfig.get_paths()["purelib"])
    allowed = with_requirements(listed(IMAGE_PACKAGES), purelib) | {canonical(w.name.split("-")[0]) for w in wheelhouse.glob("*.whl")}
    site_dir = out_dir / "site-packages"
    site_dir.mkdir(parents=True)
    for dist in metadata.distributions(path=[str(purelib)]):
        if canonical(dist.metadata["Name"]) not in allowed:
            continue
        tops = {Path(f).parts[0] for f in dist.files or []}  # packages, modules, .libs and its .dist-info
        for top in tops - {"..", "__pycache__"}:
            if (purelib / top).exists() and not (site_dir / top).exists() and not top.endswith(".pth"):
                (site_dir / top).symlink_to(purelib / top)
    python = out_dir / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "{Path(__file__).resolve()}" "{site_dir}" "$@"\n')
    python.chmod(python.stat().st_mode | stat.S_IXUSR)
    return python, allowed


def run(site_dir: str, args: list[str]) -> None:
    """Run ``args`` as ``python ARGS`` would, with ``site_dir`` as the only site-packages."""
    sys.path.pop(0)  # this file's directory: the target's goes first instead
    site.addsitedir(site_dir)
    if args[0] in ("-c", "-"):
        code = args[1] if args[0] == "-c" else sys.stdin.read()
        sys.argv = [args[0], *args[2 if args[0] == "-c" else 1 :]]
        sys.path.insert(0, "")
        exec(compile(code, f"<{'string' if args[0] == '-c' else 'stdin'}>", "exec"), {"__name__": "__main__"})
    elif args[0] == "-m":
        sys.argv = [args[1], *args[2:]]
        sys.path.insert(0, os.getcwd())
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))
        runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    refused = os.environ.get("CJ2_TEST_REFUSE_SCRIPT")  # a test's way to make one check fail on purpose
    if refused and any(a.endswith(refused) for a in sys.argv[2:]):
        print(f"refused on purpose: {refused}", file=sys.stderr)
        sys.exit(3)
    run(sys.argv[1], sys.argv[2:])
