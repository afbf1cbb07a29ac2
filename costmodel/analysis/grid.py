"""The grid of a sweep: LISTs of knob values (``0.5,0.75,1``, ``start:stop:step``), read
exactly and checked against the knobs' declarations, and the symbols swept knobs become."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import sympy
from sympy import Rational

from ..core import symbols as S
from ..core.numbers import read_number
from ..errors import CostModelError
from ..spec.builder import parse_knob_value, require_knob
from ..spec.syntax import Knob
from ..zoo import ModelRef

#: Largest number of values one LIST may expand to.
MAX_VALUES = 1_000_000

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


def parse_list(text: str, knob: str = "value") -> list[str]:
    """The values of a LIST: ``0.5,0.75,1`` or ``start:stop:step`` (``stop`` included when it
    is on the grid: ``0.25:1:0.25`` is 0.25, 0.5, 0.75, 1, computed in exact decimals), or a
    mix (``96:224:32,300``). Returns the values' texts, for the knob's own checks; a
    malformed item is named in the error."""
    values: list[str] = []
    items = [item.strip() for item in str(text).split(",")]
    if not any(items):
        raise CostModelError(f"--{knob}: empty list; write values separated by commas "
                             "(0.5,0.75,1) or a range start:stop:step (0.25:1:0.25)")
    for item in items:
        if not item:
            raise CostModelError(f"--{knob} {text}: empty item; write values separated by "
                                 "commas, e.g. 0.5,0.75,1")
        if ":" not in item:
            values.append(item)
            continue
        parts = [p.strip() for p in item.split(":")]
        if len(parts) != 3:
            raise CostModelError(f"--{knob}: cannot read range {item!r}: write start:stop:step, "
                                 "e.g. 0.25:1:0.25")
        for part in parts:
            if not _NUMBER.match(part):
                raise CostModelError(f"--{knob}: {part!r} in range {item!r} is not a number; "
                                     "write start:stop:step, e.g. 0.25:1:0.25")
        start, stop, step = (read_number(p, f"--{knob}") for p in parts)
        if step == 0 or (stop - start) * step < 0:
            raise CostModelError(f"--{knob}: range {item!r} never reaches its stop: the step "
                                 f"must be non-zero and go from {parts[0]} towards {parts[1]}")
        count = int(sympy.floor((stop - start) / step)) + 1
        if len(values) + count > MAX_VALUES:
            raise CostModelError(f"--{knob}: range {item!r} has {count:,} values; at most "
                                 f"{MAX_VALUES:,} per list")
        first, delta = Fraction(int(start.p), int(start.q)), Fraction(int(step.p), int(step.q))
        values.extend(_fraction_text(first + i * delta) for i in range(count))
    return values


def list_size(raw: str | Sequence[Any], knob: str = "value") -> int:
    """How many values a LIST holds, counted without expanding its ranges."""
    if not isinstance(raw, str):
        return len(raw)
    size = 0
    for item in (part.strip() for part in raw.split(",")):
        parts = [p.strip() for p in item.split(":")]
        if len(parts) != 3 or not all(_NUMBER.match(p) for p in parts):
            size += 1  # a value, or a malformed range that parse_list names
            continue
        start, stop, step = (read_number(p, f"--{knob}") for p in parts)
        if step != 0 and (stop - start) * step >= 0:
            size += int((stop - start) / step) + 1
    return size


def _fraction_text(value: Fraction) -> str:
    """``decimal_text`` for a Fraction, in integer arithmetic (a range of 10^6 values is
    written out in about a second): 7/20 -> '0.35', 1/3 -> '1/3'."""
    numerator, denominator = value.numerator, value.denominator
    if denominator == 1:
        return str(numerator)
    twos = fives = 0
    rest = denominator
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return f"{numerator}/{denominator}"
    places = max(twos, fives)
    digits = str(abs(numerator) * (10 ** places // denominator)).rjust(places + 1, "0")
    text = f"{digits[:-places]}.{digits[-places:]}".rstrip("0").rstrip(".")
    return "-" + text if numerator < 0 else text


def decimal_text(value: Any) -> str:
    """An exact rational with a terminating decimal expansion as plain text: 7/20 -> '0.35'."""
    value = Rational(value)
    if value.q == 1:
        return str(value.p)
    with localcontext() as ctx:
        ctx.prec = 60
        text = format((Decimal(value.p) / Decimal(value.q)).normalize(), "f")
    return text if Rational(text) == value else str(value)


@dataclass(frozen=True)
class Axis:
    """One swept knob: its declaration and its values (exact sympy numbers or strings)."""

    knob: Knob
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        return self.knob.name

    @property
    def numeric(self) -> bool:
        return all(not isinstance(v, str) for v in self.values)

    @functools.cached_property
    def texts(self) -> list[str]:
        """The values as plain text (0.35, 224, reference)."""
        return [v if isinstance(v, str) else decimal_text(v) for v in self.values]


def make_axes(ref: ModelRef, lists: Mapping[str, str | Sequence[Any]]) -> list[Axis]:
    """Check each LIST against its knob's declaration (the errors of ``costmodel compare``,
    e.g. ``received alpha=0``) and return the axes in the order the spec declares its knobs."""
    known = {knob.name: knob for knob in ref.spec.knobs}
    fixed = dict(ref.values)
    for name in lists:
        require_knob(ref.spec, name, ref.name)
        if name in fixed:
            raise CostModelError(f"{name} is given both in the SPEC ({name}={fixed[name]}) and "
                                 f"as a list to sweep; give it once")
    axes = []
    for name, knob in known.items():
        if name not in lists:
            continue
        raw = lists[name]
        texts = parse_list(raw, name) if isinstance(raw, str) else [str(v) for v in raw]
        values = tuple(parse_knob_value(knob, text, ref.name) for text in texts)
        seen = set()
        for text, value in zip(texts, values):
            if value in seen:
                raise CostModelError(f"--{name}: {text} is listed twice; give each value once")
            seen.add(value)
        axes.append(Axis(knob, values))
    return axes


def knob_symbol(axis: Axis) -> sympy.Symbol:
    """The symbol a swept knob becomes: the project's (alpha, R, t, g) when its assumptions
    (positive, integer) hold for every swept value, else a symbol of the knob's name with the
    assumptions that do hold (sympy simplifies floor(x) to x for an integer x)."""
    positive = all(v > 0 for v in axis.values)
    integer = all(v.is_Integer for v in axis.values)
    known = S.KNOB_SYMBOLS.get(axis.name)
    if known is not None and (not known.is_positive or positive) and \
            (not known.is_integer or integer):
        return known
    return sympy.Symbol(axis.name, positive=positive or None, integer=integer or None)


def text(value: Any) -> str:
    """A knob value as plain text: a string as it is, a number as :func:`decimal_text`."""
    return value if isinstance(value, str) else decimal_text(value)


def describe_point(point: Mapping[str, Any]) -> str:
    """``alpha=0.35, resolution=224``."""
    return ", ".join(f"{k}={text(v)}" for k, v in point.items())
