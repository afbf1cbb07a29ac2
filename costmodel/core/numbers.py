"""Numbers in and out: as users write them, read exactly and within bounds; as JSON.

One reader for every number that comes from outside: literals in architecture files, SPEC
settings (``alpha=0.75``), ``--at``, sweep LISTs, solve budgets, knob declarations. It accepts
plain decimals (``14``, ``0.75``, ``1e-3``) and fractions of two (``7/10``, as sympy prints a
Rational) and nothing else: no ``_`` digit separators, no hex, no ``inf``. It never calls
``sympify`` and never :class:`fractions.Fraction` or :class:`decimal.Decimal` on the text,
which accept ``1_0`` and would spend minutes building ``10**999999999``: the digits and the
exponent are bounded (:mod:`costmodel.limits`) before any number is made.

:func:`plain` is the one JSON form of an exact number every ``--format json`` uses;
:func:`human` the one abbreviated form people read (568.7M), in tables and in sentences.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from sympy import Rational

from .. import limits
from ..errors import CostModelError
from ..limits import excerpt

#: What a MAC is, under every table that counts them.
UNIT_NOTE = "MACs = multiply-accumulates; 1 MAC = 2 FLOPs (the papers' FLOPs/Mult-Adds are MACs)."

_DECIMAL = re.compile(r"[+-]?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?\Z", re.ASCII)


def is_number_text(text: str) -> bool:
    """Whether ``text`` is written as a number: a plain decimal (``0.75``, ``300e6``) or a
    fraction of two (``7/10``, as sympy prints a Rational). No ``_``, no hex, no ``inf``."""
    numerator, slash, denominator = str(text).strip().partition("/")
    return bool(_DECIMAL.match(numerator.strip())) and (
        not slash or bool(_DECIMAL.match(denominator.strip())))


def _read_decimal(text: str, what: str) -> Rational:
    match = _DECIMAL.match(text)
    if not match:
        raise CostModelError(f"{what}: {excerpt(text)!r} is not a number; write a decimal "
                             "such as 14, 0.75 or 1e-3 (no '_', no hex)")
    whole, fraction, bare_fraction, exponent = match.groups()
    digits = ((whole or "") + (fraction or "") + (bare_fraction or "")).lstrip("0")
    if len(digits.rstrip("0")) > limits.MAX_LITERAL_DIGITS:
        raise CostModelError(f"{what}: {excerpt(text)!r} has more than "
                             f"{limits.MAX_LITERAL_DIGITS} significant digits")
    shift = 0
    if exponent is not None:
        if len(exponent.lstrip("+-").lstrip("0")) > 4 or \
                abs(int(exponent)) > limits.MAX_LITERAL_EXPONENT:
            raise CostModelError(f"{what}: the exponent of {excerpt(text)!r} is beyond "
                                 f"±{limits.MAX_LITERAL_EXPONENT}")
        shift = int(exponent)
    decimals = len(fraction or bare_fraction or "")
    mantissa = int((whole or "0") + (fraction or bare_fraction or ""))
    if text.lstrip().startswith("-"):
        mantissa = -mantissa
    power = shift - decimals
    value = Rational(mantissa * 10 ** power) if power >= 0 else Rational(mantissa, 10 ** -power)
    return check_number(value, what, text)


def read_number(text: str, what: str = "number") -> Rational:
    """The exact value of a number a user wrote (``0.75`` is 3/4, ``7/10``, ``300e6``), within
    the literal limits of :mod:`costmodel.limits`; a :class:`CostModelError` naming ``what``
    otherwise. Never ``sympify``, never :class:`fractions.Fraction` (which accepts ``1_0`` and
    would spend minutes on ``1e-999999999``)."""
    text = str(text).strip()
    if len(text) > 2 * limits.MAX_LITERAL_DIGITS + 20:
        raise CostModelError(f"{what}: {excerpt(text)!r} is too long for a number (at most "
                             f"{limits.MAX_LITERAL_DIGITS} significant digits)")
    numerator, slash, denominator = text.partition("/")
    value = _read_decimal(numerator.strip(), what)
    if slash:
        divisor = _read_decimal(denominator.strip(), what)
        if divisor == 0:
            raise CostModelError(f"{what}: {text!r} divides by zero")
        value = check_number(value / divisor, what, text)
    return value


def beyond_max_number(value: Any) -> bool:
    """Whether ``value`` is a sympy rational whose numerator or denominator exceeds
    :data:`~costmodel.limits.MAX_NUMBER` (anything else is not judged here)."""
    return isinstance(value, Rational) and (abs(value.p) > limits.MAX_NUMBER
                                            or value.q > limits.MAX_NUMBER)


def check_number(value: Any, what: str, text: str = "") -> Any:
    """``value`` if it is within :data:`~costmodel.limits.MAX_NUMBER` (numerator and
    denominator); a :class:`CostModelError` otherwise."""
    if beyond_max_number(value):
        shown = f" {excerpt(text)!r}" if text else ""
        raise CostModelError(f"{what}{shown}: a number beyond 10^{limits.MAX_NUMBER_DIGITS} "
                             "(or a fraction finer than 10^-"
                             f"{limits.MAX_NUMBER_DIGITS}) is outside what costmodel reads")
    return value


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


def human(value: Any) -> str:
    """568740352 -> '568.7M'; small numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    number = float(value)
    if abs(number) < 10_000 and number == int(number):
        return str(int(number))  # small counts read best exactly: 864, 2048
    for suffix, scale in (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6),
                          ("K", 1e3)):
        if abs(number) >= scale:
            return f"{number / scale:.4g}{suffix}"
    return f"{number:.4g}" if number != int(number) else str(int(number))
