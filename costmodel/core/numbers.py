"""Exact numbers as JSON: the one converter every ``--format json`` uses."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Any


def plain(value: Any) -> Any:
    """The one JSON form of a value: whole numbers as exact ints, a fraction with a finite
    decimal expansion as that float (7/5 -> 1.4, as a user writes it), any other fraction as
    exact text ("1/3"), other numbers as floats, expressions as text; dicts and lists
    converted item by item."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not hasattr(value, "free_symbols"):  # a numpy scalar
        return value.item()
    if isinstance(value, Fraction) or getattr(value, "is_Rational", False):
        fraction = Fraction(int(value.numerator), int(value.denominator)) \
            if isinstance(value, Fraction) else Fraction(int(value.p), int(value.q))
        if fraction.denominator == 1:
            return fraction.numerator
        rest = fraction.denominator
        for prime in (2, 5):
            while rest % prime == 0:
                rest //= prime
        return float(fraction) if rest == 1 else str(fraction)
    if getattr(value, "is_number", False):
        return float(value)
    return str(value)
