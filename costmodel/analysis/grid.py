"""The grid of a sweep: LISTs of knob values (``0.5,0.75,1``, ``start:stop:step``), read
exactly and checked against the knobs' declarations, and the symbols swept knobs become."""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy as np
import sympy
from sympy import Rational

from .. import limits
from ..core import symbols as S
from ..core.numbers import read_number
from ..errors import CostModelError
from ..spec.builder import parse_knob_value, require_knob
from ..spec.syntax import Knob
from ..zoo import ModelRef

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")


@dataclass(frozen=True)
class Progression:
    """One item of a LIST, never expanded until the whole list is accepted: ``count`` values
    ``first``, ``first + step``, ... (a single value: ``count`` 1). ``item`` is its text."""

    item: str
    first: Fraction
    step: Fraction
    count: int

    @property
    def last(self) -> Fraction:
        return self.first + (self.count - 1) * self.step

    def value(self, i: int) -> Fraction:
        return self.first + i * self.step


def progressions(text: str, knob: str = "value") -> list[Progression]:
    """The items of a LIST (``0.5,0.75,1``, ``start:stop:step``, or a mix), each range
    counted arithmetically, never expanded: a LIST of more than ``limits.MAX_LIST_VALUES`` values is
    refused before any value is written out. A single value that is not a number is kept as
    it is (``count`` 1, ``first`` None) for a choice knob's own check."""
    items = [item.strip() for item in str(text).split(",")]
    if not any(items):
        raise CostModelError(f"--{knob}: empty list; write values separated by commas "
                             "(0.5,0.75,1) or a range start:stop:step (0.25:1:0.25)")
    out: list[Progression] = []
    total = 0
    for item in items:
        if not item:
            raise CostModelError(f"--{knob} {limits.excerpt(text)}: empty item; write values "
                                 "separated by commas, e.g. 0.5,0.75,1")
        if ":" not in item:
            out.append(Progression(item, None, Fraction(1), 1))  # read by the knob's check
            total += 1
        else:
            parts = [p.strip() for p in item.split(":")]
            if len(parts) != 3:
                raise CostModelError(f"--{knob}: cannot read range {limits.excerpt(item)!r}: "
                                     "write start:stop:step, e.g. 0.25:1:0.25")
            for part in parts:
                if not _NUMBER.match(part):
                    raise CostModelError(f"--{knob}: {limits.excerpt(part)!r} in range "
                                         f"{limits.excerpt(item)!r} is not a number; write "
                                         "start:stop:step, e.g. 0.25:1:0.25")
            start, stop, step = (read_number(p, f"--{knob}") for p in parts)
            if step == 0 or (stop - start) * step < 0:
                raise CostModelError(f"--{knob}: range {item!r} never reaches its stop: the "
                                     f"step must be non-zero and go from {parts[0]} towards "
                                     f"{parts[1]}")
            count = int(sympy.floor((stop - start) / step)) + 1
            if count > limits.MAX_LIST_VALUES:
                raise CostModelError(f"--{knob}: range {item!r} has {count:,} values; at most "
                                     f"{limits.MAX_LIST_VALUES:,} per list (limit "
                                     "MAX_LIST_VALUES)")
            out.append(Progression(item, Fraction(int(start.p), int(start.q)),
                                   Fraction(int(step.p), int(step.q)), count))
            total += count
        if total > limits.MAX_LIST_VALUES:
            raise CostModelError(f"--{knob}: the list has more than {limits.MAX_LIST_VALUES:,} values "
                                 f"(at {limits.excerpt(item)!r}); at most {limits.MAX_LIST_VALUES:,} per "
                                 "list (limit MAX_LIST_VALUES)")
    return out


def parse_list(text: str, knob: str = "value") -> list[str]:
    """The values of a LIST: ``0.5,0.75,1`` or ``start:stop:step`` (``stop`` included when it
    is on the grid: ``0.25:1:0.25`` is 0.25, 0.5, 0.75, 1, computed in exact decimals), or a
    mix (``96:224:32,300``). Returns the values' texts, for the knob's own checks; a
    malformed item is named in the error."""
    values: list[str] = []
    for p in progressions(text, knob):
        if p.first is None or ":" not in p.item:
            values.append(p.item)
        else:
            values.extend(_fraction_text(p.value(i)) for i in range(p.count))
    return values


def list_size(raw: str | Sequence[Any], knob: str = "value") -> int:
    """How many values a LIST holds, counted without expanding its ranges (a malformed LIST
    is refused here, with the error naming its item)."""
    if not isinstance(raw, str):
        return len(raw)
    return sum(p.count for p in progressions(raw, knob))


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
        if isinstance(raw, str) and knob.type != "choice":
            values = _range_values(knob, progressions(raw, name), ref.name)
        else:
            texts = [str(v) for v in raw] if not isinstance(raw, str) else \
                list(itertools.islice(_texts(progressions(raw, name)), len(knob.choices) + 1))
            # a choice knob: of choices+1 values, one is not a choice or one is a duplicate
            values = tuple(parse_knob_value(knob, text, ref.name) for text in texts)
            seen = set()
            for text, value in zip(texts, values):
                if value in seen:
                    raise CostModelError(f"--{name}: {text} is listed twice; give each value "
                                         "once")
                seen.add(value)
        axes.append(Axis(knob, values))
    return axes


def _texts(items: Sequence[Progression]):
    for p in items:
        if ":" not in p.item:
            yield p.item
        else:
            yield from (_fraction_text(p.value(i)) for i in range(p.count))


def _range_values(knob: Knob, items: list[Progression], model: str) -> tuple[Any, ...]:
    """A numeric knob's values from the items of its LIST, every refusal made before a range
    is expanded: a single value is read by the knob's check; a range's first, second and last
    values are (the domains are intervals, whole numbers or not: if those pass, every value
    passes); duplicates are found in integer arithmetic over a common denominator."""
    exact: list[Progression] = []
    for p in items:
        if ":" not in p.item:
            value = parse_knob_value(knob, p.item, model)
            exact.append(Progression(p.item, Fraction(int(value.p), int(value.q)),
                                     Fraction(1), 1))
            continue
        for i in dict.fromkeys((0, min(1, p.count - 1), p.count - 1)):
            parse_knob_value(knob, _fraction_text(p.value(i)), model)
        exact.append(p)
    _refuse_duplicates(knob.name, exact)
    values: list[Any] = []
    for p in exact:
        if p.count == 1:
            values.append(Rational(p.first.numerator, p.first.denominator))
            continue
        den = math.lcm(p.first.denominator, p.step.denominator)
        first, step = int(p.first * den), int(p.step * den)
        if den == 1:
            values.extend(sympy.Integer(first + i * step) for i in range(p.count))
        else:
            values.extend(Rational(first + i * step, den) for i in range(p.count))
    return tuple(values)


def _refuse_duplicates(knob: str, items: list[Progression]) -> None:
    """Refuse a LIST that holds a value twice, naming the first repeated value in order: the
    values as integers over one common denominator, compared in numpy where they fit int64."""
    den = math.lcm(*(d for p in items for d in (p.first.denominator, p.step.denominator)))
    starts = [int(p.first * den) for p in items]
    steps = [int(p.step * den) for p in items]
    bound = max(abs(a) + abs(d) * p.count for a, d, p in zip(starts, steps, items))
    if bound < 2 ** 62:
        flat = np.concatenate([a + d * np.arange(p.count, dtype=np.int64)
                               for a, d, p in zip(starts, steps, items)])
        _, first_seen, counts = np.unique(flat, return_index=True, return_counts=True)
        if (counts == 1).all():
            return
        seen = np.zeros(len(flat), dtype=bool)
        seen[first_seen] = True
        position = int(np.argmin(seen))  # the first position that is not a first sight
        repeated = int(flat[position])
    else:
        found: set[int] = set()
        position, repeated = 0, None
        for a, d, p in zip(starts, steps, items):
            for i in range(p.count):
                value = a + i * d
                if value in found:
                    repeated = value
                    break
                found.add(value)
                position += 1
            if repeated is not None:
                break
        if repeated is None:
            return
    offsets = np.cumsum([p.count for p in items])
    item = items[int(np.searchsorted(offsets, position, side="right"))]
    shown = item.item if item.count == 1 else _fraction_text(Fraction(repeated, den))
    raise CostModelError(f"--{knob}: {shown} is listed twice; give each value once")


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
