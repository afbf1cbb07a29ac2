"""The two test tiers, read from the test files without importing them.

The fast tier (``python -m pytest -m "not slow"``) needs only costmodel's own dependencies,
pytest and hypothesis; the full suite (``pip install '.[test]'``, then ``python -m pytest``)
also needs torch, onnx, the counting tools and Jupyter. A test module *needs the test extras*
when it imports one of :data:`EXTRAS` at its top level, itself or through a helper module of
this package (``tests/tool_counts.py``...); such a module must be wholly slow
(``pytestmark = pytest.mark.slow``), so that the fast tier is the same set of tests with or
without the extras installed (``tests/test_structure.py`` checks it). ``tests/conftest.py``
uses :func:`needs_extras` to leave those modules out of the fast tier, and out of any run
where the extras are missing (a run that then selects slow tests stops and says why).
"""

from __future__ import annotations

import ast
import importlib.util
from functools import lru_cache
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

#: Top-level packages of the ``test`` extra that the fast tier never imports.
EXTRAS = frozenset({"torch", "torchvision", "onnx", "onnxscript", "onnxruntime", "fvcore",
                    "iopath", "thop", "ptflops", "torchprofile", "calflops", "transformers",
                    "nbclient", "nbformat", "ipykernel", "jsonschema"})
#: The ones whose absence means the extras are not installed (the others come with them).
MARKERS_OF_THE_EXTRAS = ("torch", "onnx")


def missing_extras() -> tuple[str, ...]:
    """The packages of :data:`MARKERS_OF_THE_EXTRAS` that cannot be imported here."""
    return tuple(name for name in MARKERS_OF_THE_EXTRAS
                 if importlib.util.find_spec(name) is None)


def _skipped_import(call: ast.Call) -> set[str]:
    """``pytest.importorskip("onnx")`` imports onnx too (tests/test_structure.py refuses it: a
    missing extra is a failure, never a skip)."""
    named = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    if named == "importorskip" and call.args and isinstance(call.args[0], ast.Constant):
        return {str(call.args[0].value)}
    return set()


def _top_level_imports(tree: ast.Module) -> set[str]:
    """Dotted module names imported by statements that run when the module is imported (not
    inside functions or classes; inside ``if``/``try`` at the top level too)."""
    names: set[str] = set()
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            stack.extend(ast.iter_child_nodes(node))
        elif isinstance(node, (ast.Expr, ast.Assign)) and isinstance(node.value, ast.Call):
            names.update(_skipped_import(node.value))
    return names


@lru_cache(maxsize=None)
def needs_extras(path: Path) -> frozenset[str]:
    """The packages of :data:`EXTRAS` that importing the test file ``path`` imports, directly
    or through helper modules of ``tests``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    needed: set[str] = set()
    for name in _top_level_imports(tree):
        top = name.split(".")[0]
        if top in EXTRAS:
            needed.add(top)
        elif top == "tests":
            helper = ROOT.joinpath(*name.split("."))
            for candidate in (helper.with_suffix(".py"), helper / "__init__.py"):
                if candidate.is_file() and candidate.resolve() != path.resolve():
                    needed |= needs_extras(candidate.resolve())
    return frozenset(needed)


def is_wholly_slow(path: Path) -> bool:
    """Whether the module sets ``pytestmark`` to (a list holding) ``pytest.mark.slow``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                for t in node.targets):
            return "pytest.mark.slow" in ast.unparse(node.value)
    return False


def all_test_files() -> list[Path]:
    """Every ``test_*.py`` under ``tests``."""
    return sorted(TESTS.rglob("test_*.py"))
