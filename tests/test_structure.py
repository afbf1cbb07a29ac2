"""The package's structure, read from the source with ``ast`` (nothing is imported): no import
cycle between modules or between subpackages, no module past 600 lines, and test tiers that
hold without the test extras (tests/tiers.py)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import pytest

from tests.tiers import ROOT, all_test_files, is_wholly_slow, needs_extras

PACKAGE = ROOT / "costmodel"
MAX_MODULE_LINES = 600


def modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of the package (``costmodel.zoo`` for
    ``costmodel/zoo/__init__.py``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path, known: Mapping[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports, anywhere in it (inside functions
    and ``if TYPE_CHECKING:`` too), relative imports resolved. ``from pkg import x`` imports
    the submodule ``pkg.x`` where there is one, else ``pkg`` itself."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[:len(package) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                imported.add(submodule if submodule in known else base)
    return {target for target in imported if target in known and target != name}


@lru_cache(maxsize=1)
def graph() -> dict[str, frozenset[str]]:
    known = modules()
    return {name: frozenset(imports_of(name, path, known)) for name, path in known.items()}


def find_cycle(edges: Mapping[str, frozenset[str] | set[str]]) -> list[str] | None:
    """One cycle of the directed graph ``edges`` as [a, b, ..., a], or None."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def subpackage(name: str) -> str:
    """``costmodel.analysis.derive`` -> ``costmodel.analysis``; top-level modules are their
    own unit (``costmodel.limits``)."""
    return ".".join(name.split(".")[:2])


def test_the_graph_sees_relative_function_level_and_submodule_imports():
    edges = graph()
    # `from .derive_network import derive_network` inside a function of analysis/derive.py
    assert "costmodel.analysis.derive_network" in edges["costmodel.analysis.derive"]
    # `from ..analysis.derive import ...` inside a function of cli/commands_derive.py
    assert "costmodel.analysis.derive" in edges["costmodel.cli.commands_derive"]
    # `from . import onnx_consts, onnx_names`: submodules, not the package
    assert {"costmodel.frontends.onnx_consts", "costmodel.frontends.onnx_names"} <= \
        edges["costmodel.frontends.onnx_translate"]
    assert "costmodel.frontends" not in edges["costmodel.frontends.onnx_translate"]


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def strongly_connected(edges: Mapping[str, frozenset[str] | set[str]]) -> set[frozenset[str]]:
    """Every set of nodes that reach each other (of two or more), by Tarjan's algorithm."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in edges:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules():
    found = strongly_connected(graph())
    assert not found, "import cycle: " + "; ".join(" <-> ".join(sorted(c)) for c in found)
    assert find_cycle(graph()) is None


def test_no_import_cycle_between_subpackages():
    units: dict[str, set[str]] = {}
    for name, targets in graph().items():
        units.setdefault(subpackage(name), set()).update(
            subpackage(t) for t in targets if subpackage(t) != subpackage(name))
    found = strongly_connected(units)
    assert not found, "subpackages import each other: " + "; ".join(
        " <-> ".join(sorted(c)) for c in found)


def test_the_cycle_finders_agree_on_a_graph_with_two_cycles():
    edges = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert strongly_connected(edges) == {frozenset("ab"), frozenset("cde")}
    assert find_cycle(edges) == ["a", "b", "a"]


def test_no_module_is_longer_than_600_lines():
    long = {str(path.relative_to(ROOT)): n for path in modules().values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"split these modules (at most {MAX_MODULE_LINES} lines): {long}"


@pytest.mark.parametrize("path", all_test_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_module_that_needs_the_test_extras_is_wholly_slow(path):
    """Else the fast tier would differ with and without torch: tests/conftest.py leaves such
    a module out where torch or onnx is missing."""
    needed = needs_extras(path)
    assert not needed or is_wholly_slow(path), \
        f"{path.name} imports {', '.join(sorted(needed))}: set pytestmark = pytest.mark.slow"


@pytest.mark.parametrize("path", all_test_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_test_skips_when_a_package_is_missing(path):
    """A missing test dependency fails the run (tests/conftest.py says what to install)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skips = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Call) and
             "importorskip" in (getattr(node.func, "attr", ""), getattr(node.func, "id", ""))]
    assert not skips, f"{path.name} lines {skips}: import the package; never importorskip"


def test_the_extras_detection_follows_helper_modules():
    assert "torch" in needs_extras(ROOT / "tests" / "test_tool_conventions.py")
    assert "onnx" in needs_extras(ROOT / "tests" / "test_onnx_graph.py")
    assert not needs_extras(ROOT / "tests" / "test_spec.py")
