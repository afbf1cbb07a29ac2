"""Equality of values that may hold free symbols, and the conditions a closed form relies on.

A spec's ``==`` (and the builder's choice between shapes that agree or not) must decide
whether two values are equal; with free symbols (a symbolic alpha, a resolution) that may
depend on the symbols' values. Such pairs are taken as different and the condition is
recorded while a network is built (:func:`recording_assumptions`), so the closed form states
where it holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import sympy

_ASSUMED: ContextVar[list | None] = ContextVar("costmodel_assumed", default=None)


@contextmanager
def recording_assumptions() -> Iterator[list]:
    """Collect, while building one network, the conditions its closed form relies on."""
    token = _ASSUMED.set([])
    try:
        yield _ASSUMED.get()
    finally:
        _ASSUMED.reset(token)


def equal_if_decidable(a: Any, b: Any) -> bool | None:
    """True or False where ``a == b`` is settled whatever the free symbols; None where it
    depends on their values."""
    if isinstance(a, str) or isinstance(b, str) or isinstance(a, dict) or isinstance(b, dict):
        return a == b
    if a == b:
        return True
    relation = sympy.Eq(a, b)
    if relation in (sympy.true, sympy.false):
        return bool(relation)
    if sympy.expand(a - b) == 0:  # not simplify(): it is slow on nested floors
        return True
    return None


def assume_different(*pairs: tuple[Any, Any]) -> bool:
    """Take undecidable pairs as different, recording that at least one pair differs
    (``Ne(a, b)``, or ``Or`` of several) as the condition the closed form relies on; False."""
    assumed = _ASSUMED.get()
    if assumed is not None and pairs:
        assumed.append(sympy.Or(*(sympy.Ne(a, b) for a, b in pairs)))
    return False


def decide_equal(a: Any, b: Any) -> bool:
    """Whether ``a`` equals ``b``, for a spec's ``==`` and ``!=``.

    Equal-looking values are equal. Values that differ by their free symbols (``t`` and 1, two
    rounded widths such as ``MakeDivisible(24*alpha, 8, 8)`` and ``MakeDivisible(32*alpha, 8,
    8)``) may still coincide at some values; they are taken as different, and the condition
    ``Ne(a, b)`` is recorded (see :func:`recording_assumptions`), so that a closed form states
    where it holds instead of being silently wrong there.
    """
    equal = equal_if_decidable(a, b)
    return assume_different((a, b)) if equal is None else equal
