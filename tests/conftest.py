"""Test tiers: ``python -m pytest -m "not slow"`` runs without torch and onnx; the full suite
needs them (``pip install '.[test]'``) and says so instead of skipping (see tests/tiers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiers import missing_extras, needs_extras

_IGNORED = pytest.StashKey[list]()


def _selects_slow(config: pytest.Config) -> bool:
    """Whether ``-m`` keeps tests marked slow (no ``-m``: it does)."""
    expression = config.getoption("markexpr") or ""
    if not expression.strip():
        return True
    from _pytest.mark.expression import Expression

    return Expression.compile(expression).evaluate(lambda name, **_: name == "slow")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_IGNORED] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """A test file named on the command line that needs missing extras: say what to install
    (pytest collects a named file whatever pytest_ignore_collect says)."""
    missing = missing_extras()
    named = [Path(session.config.invocation_params.dir, arg.split("::")[0]).resolve()
             for arg in session.config.args]
    needing = [path.name for path in named if path.is_file() and path.suffix == ".py"
               and needs_extras(path)]
    if missing and needing:
        _refuse(missing, f"{', '.join(needing)} needs them")


def _refuse(missing: tuple[str, ...], why: str) -> None:
    pytest.exit(f"the full test suite needs the test extras ({', '.join(missing)} missing): "
                f"pip install '.[test]'; or run the fast tier, python -m pytest -m \"not slow\" "
                f"({why})", returncode=pytest.ExitCode.USAGE_ERROR)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out the modules that import torch or onnx (wholly slow, tests/test_structure.py
    checks) where they are missing, and from the fast tier always (importing torch to
    deselect every test of a module would take a quarter of the fast tier's time)."""
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    if not needs_extras(collection_path.resolve()):
        return None
    if not _selects_slow(config):
        return True
    if missing_extras():
        if _asked_for(collection_path, config):
            config.stash[_IGNORED].append(collection_path.name)
        return True
    return None


def _asked_for(path: Path, config: pytest.Config) -> bool:
    """Whether the command line's paths (or ``testpaths``) hold ``path``: pytest also asks
    about the siblings of a file it was given."""
    asked = [Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
             for arg in config.args]
    return any(path.resolve() == a or a in path.resolve().parents for a in asked)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse, loudly, a run that selects slow tests where the test extras are missing."""
    missing = missing_extras()
    if not missing:
        return
    slow = [item.nodeid for item in items if item.get_closest_marker("slow")]
    ignored = config.stash[_IGNORED] if _selects_slow(config) else []
    if slow or ignored:
        left_out = ", ".join(ignored[:4]) + (" ..." if len(ignored) > 4 else "")
        _refuse(missing, f"this run selects {len(slow)} slow tests"
                         + (f"; {left_out} need the extras" if ignored else ""))
