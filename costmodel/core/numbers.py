"""Exact numbers as JSON: the one converter every ``--format json`` uses."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any


def plain(value: Any, exact_fractions: bool = False) -> Any:
    """The one JSON form of a value: whole numbers as exact ints; other numbers as floats,
    except, with ``exact_fractions``, a fraction without a finite decimal expansion, which
    stays exact text ("1/3"; 7/5 is 1.4 either way, as a user writes it); expressions as
    text; dicts and lists converted item by item."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, Mapping):
        return {k: plain(v, exact_fractions) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, exact_fractions) for v in value]
    if hasattr(value, "item") and not hasattr(value, "free_symbols"):  # a numpy scalar
        return value.item()
    if isinstance(value, Fraction) or getattr(value, "is_Rational", False):
        fraction = value if isinstance(value, Fraction) else Fraction(int(value.p), int(value.q))
        if fraction.denominator == 1:
            return fraction.numerator
        rest = fraction.denominator
        for prime in (2, 5):
            while rest % prime == 0:
                rest //= prime
        return str(fraction) if exact_fractions and rest != 1 else float(fraction)
    if getattr(value, "is_number", False):
        return float(value)
    return str(value)
