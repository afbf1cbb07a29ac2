"""Channel rounding: the one definition of MobileNet's ``make_divisible``, for every kind
of number costmodel evaluates it on (Python ints and Fractions, numpy arrays, sympy).

:func:`round_to_multiple` is the arithmetic; :class:`MakeDivisible` is the same rounding as a
sympy function, which stays unevaluated on a symbolic width so closed forms remain exact;
:func:`make_divisible` is the helper that spec expressions call.
"""

from __future__ import annotations

from fractions import Fraction

import sympy
from sympy import Integer, Rational


def round_to_multiple(value, divisor, min_value, denominator=1):
    """``value / denominator`` rounded to the nearest multiple of ``divisor`` (halves up), never
    below ``min_value`` and never more than 10% below the value: the channel rounding of the
    MobileNet v2/v3 reference code (TF-slim's and torchvision's ``_make_divisible``).

    The one definition of that rounding. It uses only ``+ - * //`` and comparisons, so the
    same lines serve Python ints and Fractions (exact), int64 or object numpy arrays of
    numerators over one ``denominator`` (costmodel's exact grid evaluator) and float arrays
    (numpy code printed from :class:`MakeDivisible`); a comparison counts as 0 or 1.

    >>> round_to_multiple(Fraction(7, 20) * 32, 8, 8), round_to_multiple(44, 8, 8)
    (16, 48)
    """
    # floor(v + d/2) // d * d, as floor((2v + d) / 2d) * d: no division of the divisor
    rounded = (2 * value + divisor * denominator) // (2 * divisor * denominator) * divisor
    rounded = rounded + (min_value - rounded) * (rounded < min_value)
    return rounded + divisor * (10 * rounded * denominator < 9 * value)


class MakeDivisible(sympy.Function):
    """``MakeDivisible(v, d, m)``: :func:`round_to_multiple` as a sympy function.

    With numbers it evaluates to an Integer; with a free symbol (a symbolic alpha) it stays an
    unevaluated function, so a closed form under reference rounding is still exact. It knows
    it is an integer, and prints itself for numpy (``lambdify(..., "numpy")``).
    """

    is_positive = True

    @classmethod
    def eval(cls, value, divisor, min_value):
        if value.is_Rational and divisor.is_Rational and min_value.is_Rational:
            rounded = round_to_multiple(Fraction(int(value.p), int(value.q)),
                                        Fraction(int(divisor.p), int(divisor.q)),
                                        Fraction(int(min_value.p), int(min_value.q)))
            return Rational(rounded.numerator, rounded.denominator) \
                if isinstance(rounded, Fraction) else Integer(rounded)
        return None

    def _eval_is_integer(self):
        divisor, min_value = self.args[1:]
        if divisor.is_integer and min_value.is_integer:
            return True
        return None

    def _numpycode(self, printer):
        function = printer._module_format("costmodel.core.rounding.round_to_multiple")
        return f"{function}({', '.join(printer._print(a) for a in self.args)})"


def make_divisible(value, divisor=8, min_value=None):
    """The ``make_divisible(v, d[, m])`` helper of spec expressions (``m`` defaults to ``d``)."""
    return MakeDivisible(value, divisor, divisor if min_value is None else min_value)
