"""The examples in costmodel's docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil

import pytest

import costmodel

#: Modules whose docstrings hold examples (``>>>``); every module is searched, none listed
#: by hand. ``costmodel.__main__`` runs the command line when imported, so it is left out.
MODULES = sorted(
    name for name in ["costmodel", *(info.name for info in
                                     pkgutil.walk_packages(costmodel.__path__, "costmodel."))]
    if name != "costmodel.__main__"
    and ">>>" in (importlib.util.find_spec(name).loader.get_source(name) or ""))


def test_the_examples_are_found():
    assert {"costmodel", "costmodel.core.evaluate", "costmodel.core.expr",
            "costmodel.core.rounding"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0, result
