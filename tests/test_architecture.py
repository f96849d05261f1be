"""The import rules of docs/architecture.md, enforced on every module of cj2 (parsed with ``ast``, nothing imported).

An import counts wherever it stands: at module level or inside a function (a lazy import is still a
dependency). So does a literal string naming a cj2 module: ``importlib.import_module("cj2.x")`` and the
``"cj2.x:attr"`` entries of the task, engine and benchmark registries. Imports under
``if TYPE_CHECKING:`` are for type checkers only and do not count. Cycles are looked for among
module-level imports (the ones that run when a module is imported).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MODULE_STRING = re.compile(r"cj2(?:\.\w+)+(?::\w+)?")
HEAVY = ("torch", "megatron", "transformer_engine", "transformers")


@dataclass
class Imports:
    eager: set[str] = field(default_factory=set)  # run when the module is imported
    lazy: set[str] = field(default_factory=set)  # inside functions, or named by a literal string

    @property
    def all(self) -> set[str]:
        return self.eager | self.lazy


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _resolve(name: str, known: set[str]) -> str:
    """The longest known module a dotted name (``a.b.c`` or ``a.b`` + imported ``c``) starts with."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in known:
            return ".".join(parts[:n])
    return name


def imports_of(source: str, module: str, is_package: bool, known: set[str]) -> Imports:
    found = Imports()

    def add(name: str, lazy: bool) -> None:
        (found.lazy if lazy else found.eager).add(_resolve(name, known))

    def visit(node: ast.AST, lazy: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child, lazy)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, lazy)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                # cj2: a submodule when there is one, else the module itself; outside cj2, the module named.
                add(f"{base}.{alias.name}" if within(base, "cj2") else base, lazy)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                add(node.args[0].value, True)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_STRING.fullmatch(node.value):
            add(node.value.split(":")[0], True)
        inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(source), False)
    found.eager.discard(module)
    found.lazy.discard(module)
    return found


def import_graph(root: Path, package: str = "cj2") -> dict[str, Imports]:
    paths = sorted((root / package).rglob("*.py"))
    known = {module_name(p, root) for p in paths}
    return {module_name(p, root): imports_of(p.read_text(encoding="utf-8"), module_name(p, root), p.name == "__init__.py", known) for p in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself), Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def benchmark_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[3] if parts[:3] == ["cj2", "eval", "benchmarks"] and len(parts) > 3 else None


# (the modules a rule covers, the imports they may not have, why). docs/architecture.md states each.
FORBIDDEN = [
    ("cj2.data", ("cj2.sample", "cj2.eval", "cj2.judge", "cj2.train", "cj2.cluster", "cj2.benchmark", "cj2.models", "cj2.losses"),
     "data is read by every stage and reads none of them"),
    ("cj2.data.packed", ("cj2.data.sources", "cj2.data.curation", "cj2.data.job", "cj2.data.process"),
     "the build's only input is records"),
    ("cj2.data.sources", ("cj2.data.curation", "cj2.data.packed", "cj2.data.job", "cj2.data.process"), "reading a source knows nothing of what follows"),
    ("cj2.data.curation", ("cj2.data.packed", "cj2.data.job", "cj2.data.process"), "curation produces records; the stage builds them"),
    ("cj2.verdicts", ("cj2",), "verdict formats are the bottom of the tree"),
    ("cj2.utils", ("cj2",), "utilities serve every package and know none"),
    ("cj2.config", HEAVY, "composing and validating a config imports no torch/megatron"),
    ("cj2.eval", ("cj2.judge", "cj2.train", "cj2.benchmark"), "evaluation is used by them, never the reverse"),
    ("cj2.eval.core", ("cj2.eval.judging", "cj2.eval.benchmarks", "cj2.eval.registry", "cj2.eval.job", "cj2.eval.reporting", "cj2.eval.studies"),
     "core: shared types and pure metrics"),
    ("cj2.eval.judging", ("cj2.eval.benchmarks", "cj2.eval.registry", "cj2.eval.job", "cj2.eval.reporting", "cj2.eval.studies"),
     "judging is shared by every benchmark"),
    ("cj2.eval.benchmarks", ("cj2.eval.registry", "cj2.eval.job", "cj2.eval.reporting", "cj2.eval.studies"), "a benchmark is found by the registry, not the reverse"),
    ("cj2.eval.registry", ("cj2.eval.job", "cj2.eval.reporting", "cj2.eval.studies"), "the registry sits under the job and the reports"),
    ("cj2.eval.reporting", ("cj2.eval.job", "cj2.eval.studies"), "reports show results; they run nothing"),
]
# Evaluation outside studies never imports studies (studies may import all of evaluation).
STUDIES_RULE = ("cj2.eval", "cj2.eval.studies")
# Experiments built from every stage: only the task registry names them.
EXPERIMENTS = ("cj2.miniature",)


@pytest.fixture(scope="module")
def graph() -> dict[str, Imports]:
    return import_graph(REPO)


def violations(graph: dict[str, Imports]) -> list[str]:
    found = []
    for module, imports in sorted(graph.items()):
        for covered, banned, why in FORBIDDEN:
            if within(module, covered):
                for name in sorted(imports.all):
                    if any(within(name, b) for b in banned) and not within(name, covered):
                        found.append(f"{module} imports {name}: {why}")
        if within(module, STUDIES_RULE[0]) and not within(module, STUDIES_RULE[1]):
            found += [f"{module} imports {name}: evaluation never imports its studies" for name in sorted(imports.all) if within(name, STUDIES_RULE[1])]
        if not within(module, "cj2.cluster.tasks") and not any(within(module, e) for e in EXPERIMENTS):
            found += [f"{module} imports {name}: an experiment is a leaf, run only through the task registry"
                      for name in sorted(imports.all) if any(within(name, e) for e in EXPERIMENTS)]
        mine = benchmark_of(module)
        if mine:
            found += [f"{module} imports {name}: one benchmark never imports another" for name in sorted(imports.all) if benchmark_of(name) not in (None, mine)]
    return found


def test_the_import_graph_is_read(graph):
    """The checker sees what is there (a parser that found nothing would pass every rule): eager, lazy and registry imports."""
    assert len(graph) > 150
    assert "cj2.eval.registry" in graph["cj2.eval.job"].eager
    assert "cj2.eval.judging.stored_judging" in graph["cj2.eval.job"].lazy  # inside run_judge_on_benchmark
    assert "cj2.eval.benchmarks.rmb.benchmark" in graph["cj2.eval.registry"].lazy  # a "module:attr" entry
    assert "cj2.judge.job" in graph["cj2.cluster.tasks"].lazy
    assert "cj2.data.records" in graph["cj2.data.packed.tokenize"].eager


def test_import_rules_of_the_architecture_doc(graph):
    """Mutant: ``from cj2.data.sources.loaders import RowError`` planted in cj2/data/packed/packing.py -> this test fails
    naming the module, the import and the rule (the same for each rule of FORBIDDEN)."""
    assert violations(graph) == []


def test_no_import_cycle_at_module_level(graph):
    """Mutant: ``from cj2.eval.core.predictions import Prediction`` planted at the top of cj2/eval/core/files.py
    (predictions imports files) -> the cycle [cj2.eval.core.files, cj2.eval.core.predictions] is reported."""
    assert cycles({m: i.eager for m, i in graph.items()}) == []


def test_the_checker_finds_what_it_must(tmp_path):
    """Independent of cj2: a planted tree with a lazy import, an importlib literal, a registry string and a cycle."""
    pkg = tmp_path / "cj2"
    for name, text in {
        "__init__.py": "",
        "data/__init__.py": "",
        "data/packed/__init__.py": "",
        "data/packed/pack.py": "def f():\n    from cj2.data.sources import read\n",
        "data/sources/__init__.py": "",
        "data/sources/read.py": "import importlib\nM = importlib.import_module('cj2.eval.x')\n",
        "eval/__init__.py": "",
        "eval/x.py": "TASKS = {'t': 'cj2.eval.studies.y:run'}\nfrom cj2.eval import z\n",
        "eval/z.py": "from . import x\n",
        "eval/studies/__init__.py": "",
        "eval/studies/y.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import cj2.eval.x\n",
    }.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(textwrap.dedent(text))
    planted = import_graph(tmp_path)
    assert violations(planted) == [
        "cj2.data.packed.pack imports cj2.data.sources.read: the build's only input is records",
        "cj2.data.sources.read imports cj2.eval.x: data is read by every stage and reads none of them",
        "cj2.eval.x imports cj2.eval.studies.y: evaluation never imports its studies",
    ]
    assert planted["cj2.eval.studies.y"].all == {"typing"}
    assert cycles({m: i.eager for m, i in planted.items()}) == [["cj2.eval.x", "cj2.eval.z"]]


def test_composing_a_config_imports_no_torch(repo_root):
    """At run time too: composing, finalizing and validating the demo preset leaves torch and megatron out of sys.modules."""
    code = (
        "import sys\n"
        "from cj2.config import compose, finalize, validate\n"
        "cfg = finalize(compose(['+exp=demo']))\n"
        "validate(cfg, stage='compose', task='train')\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(repo_root), "PATH": ""})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "[]"
