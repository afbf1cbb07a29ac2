"""Sweeps: exact MACs, params and activations over a grid of knob values, from closed forms.

``sweep("mobilenet_v2", {"alpha": "0.35:1.4:0.05", "resolution": "96:224:32"})`` covers the
Cartesian product of the lists. It does not build one network per grid point (about 20 ms
each, and 0.1 s for a PyTorch-based counter): the network is built once with every swept
numeric knob as a sympy symbol, and its closed forms are compiled for numpy.

How the closed forms are evaluated, exactly:

* A total such as MACs is a polynomial, with integer coefficients, in a few *atoms*:
  ``MakeDivisible(16*alpha, 8, 8)`` (a rounded width), ``floor(R/2 - 1/2)`` (a spatial size),
  ``Max(1, alpha)``... An atom usually depends on one knob, so it takes one value per value of
  that knob: 1,000 values for a 1000-value axis, computed in exact rational arithmetic
  (int64 numerators over one denominator, vectorized; Python fractions where that could
  overflow). No float rounding can move a ``floor`` or a ``make_divisible`` tie.
* The polynomial is then evaluated over the grid, grouped by its monomials in the atoms of one
  axis: Σ_k inner_k(other axes) × factor_k(that axis), a matrix product (float64, exact while
  a bound on every partial sum stays below 2**53) or int64 broadcasting (bound below 2**63).
  Only integers occur, so the counts are exact; they are int64 (below 2**53 in practice, so a
  float64 reader of the CSV reads them exactly too). Counts that are not whole
  (``rounding=none`` widths c·alpha) are float64.
* Knobs that cannot stay symbolic (string choices such as ``rounding``, table lookups such as
  ShuffleNet v1's ``g``, a branch on a knob's value) are *grouped*: the network is built and
  compiled once for each of their values, and the rest is evaluated as above.
* Every grid point's input must pass through the network: spatial sizes are evaluated for
  every resolution, and a point too small gives the same error as ``costmodel compare``.
* Assumptions: where a spec compares a symbolic value (``if t != 1``, ``alpha == 1.5``, a
  residual add that exists only while two rounded widths differ), the symbolic build takes the
  values as different and records the condition ``Ne(a, b)`` on the network
  (``Network.assumptions``): the closed forms hold where every condition does. The sweep
  evaluates each condition's ``a - b`` exactly over the grid of its knobs, as it does the
  atoms. Where one fails (the difference is 0: t = 1, two widths that clamp to 8 channels),
  those points are recomputed: for each failing combination of the values of the knobs that
  condition depends on, the network is built again with those knobs numeric and the other
  swept knobs still symbolic, compiled and evaluated over the remaining axes (its own
  conditions handled the same way, recursively), or built point by point when at most
  ``ONE_BY_ONE`` points remain; the results replace the closed forms' values at exactly those
  points. The sweep is thus exact by construction wherever the structure changes through a
  recorded comparison; ``SweepResult.recomputed`` counts the points recomputed so.
* Verification, a second line of defence: at the grid's corners, at special values (the
  knob's default, 1, whole and half multipliers) and at about ``check`` random points, the
  values are compared with networks built one by one (:func:`costmodel.zoo.build`). A
  mismatch means that the network's structure depends on a knob's value in a way the symbolic
  build neither sees nor records; the knob responsible is then grouped, and the verification
  repeated. ``verify=False`` skips it.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any

import numpy as np
import sympy
from sympy import Rational

from ..core import symbols as S
from ..core.conventions import convention as get_convention
from ..core.expr import MakeDivisible
from ..errors import CostModelError
from ..spec.builder import parse_knob_value
from ..spec.parser import Knob
from ..zoo import ModelRef, resolve_layer_spec

#: The count columns of a sweep, after the knob columns.
COUNTS = ("macs", "flops", "params", "activations")
#: Largest number of values one LIST may expand to.
MAX_VALUES = 1_000_000
#: Largest grid a sweep computes (10^8 points take about 4 GB per count column).
MAX_POINTS = 50_000_000
_INT64 = 2 ** 63
_FLOAT_EXACT = 2 ** 53


# --- lists of values ----------------------------------------------------------------------------

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
        start, stop, step = (Rational(p) for p in parts)
        if step == 0 or (stop - start) * step < 0:
            raise CostModelError(f"--{knob}: range {item!r} never reaches its stop: the step "
                                 f"must be non-zero and go from {parts[0]} towards {parts[1]}")
        count = int(sympy.floor((stop - start) / step)) + 1
        if len(values) + count > MAX_VALUES:
            raise CostModelError(f"--{knob}: range {item!r} has {count:,} values; at most "
                                 f"{MAX_VALUES:,} per list")
        values.extend(decimal_text(start + i * step) for i in range(count))
    return values


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
        if name not in known:
            raise CostModelError(f"{ref.name} has no knob {name!r}; its knobs are: "
                                 f"{', '.join(known) or 'none'}")
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


# --- exact evaluation of atoms ------------------------------------------------------------------

def _md_exact(value, divisor, min_value):
    """MakeDivisible on exact numbers, as :meth:`costmodel.core.expr.MakeDivisible.eval`."""
    rounded = max(min_value, math.floor(value + Fraction(divisor) / 2) // divisor * divisor)
    if rounded < Fraction(9, 10) * value:
        rounded += divisor
    return rounded


_EXACT_FUNCS: dict[Any, Callable[..., Any]] = {
    sympy.floor: math.floor, sympy.ceiling: math.ceil, MakeDivisible: _md_exact,
    sympy.Max: max, sympy.Min: min, sympy.Abs: abs, sympy.Mod: lambda a, b: a % b,
}


class _Unsupported(Exception):
    pass


def _number(value: Any) -> Any:
    value = Fraction(int(value.p), int(value.q))
    return value.numerator if value.denominator == 1 else value


def _exact_lists(expr: sympy.Expr, env: Mapping[sympy.Symbol, list], memo: dict) -> Any:
    """``expr`` at every point of ``env`` (symbol -> list of exact values, all the same length):
    a list of ints and Fractions, or one number when ``expr`` is constant."""
    if expr in memo:
        return memo[expr]
    if expr.is_Symbol:
        result = env[expr]
    elif expr.is_Rational:
        result = _number(expr)
    else:
        args = [_exact_lists(a, env, memo) for a in expr.args]
        if expr.is_Add:
            func = lambda *xs: sum(xs)  # noqa: E731
        elif expr.is_Mul:
            func = lambda *xs: math.prod(xs)  # noqa: E731
        elif expr.is_Pow:
            if not expr.exp.is_Integer:
                raise _Unsupported(expr)
            func = lambda b, e: Fraction(b) ** e if e < 0 else b ** e  # noqa: E731
        elif expr.func in _EXACT_FUNCS:
            func = _EXACT_FUNCS[expr.func]
        else:
            raise _Unsupported(expr)
        lists = [a for a in args if isinstance(a, list)]
        if not lists:
            result = func(*args)
        else:
            n = len(lists[0])
            columns = [a if isinstance(a, list) else itertools.repeat(a, n) for a in args]
            result = [func(*xs) for xs in zip(*columns)]
    if isinstance(result, Fraction) and result.denominator == 1:
        result = result.numerator
    memo[expr] = result
    return result


def _exact_atom(expr: sympy.Expr, env: Mapping[sympy.Symbol, list], memo: dict) -> list:
    """Exact values of one atom; sympy's own evaluation for what the fast path lacks."""
    try:
        values = _exact_lists(expr, env, memo)
    except _Unsupported:
        symbols = list(env)
        values = []
        for point in zip(*(env[s] for s in symbols)):
            value = expr.xreplace({s: Rational(str(v)) if isinstance(v, Fraction) else v
                                   for s, v in zip(symbols, point)})
            if not value.is_Rational:
                raise CostModelError(f"cannot evaluate {expr} exactly at "
                                     f"{dict(zip(map(str, symbols), point))}") from None
            values.append(_number(value))
    n = len(next(iter(env.values())))
    return values if isinstance(values, list) else [values] * n


_LIMIT = 2 ** 62


class _Overflow(Exception):
    pass


def _mag(x: Any) -> int:
    """The largest absolute value of a number or an int64 array."""
    if isinstance(x, np.ndarray):
        return int(np.max(np.abs(x))) if x.size else 0
    return abs(int(x))


def _checked(*magnitudes: int) -> None:
    if math.prod(magnitudes) >= _LIMIT:
        raise _Overflow


def _reduce(num: Any, den: int) -> tuple[Any, int]:
    g = math.gcd(den, int(np.gcd.reduce(num)) if isinstance(num, np.ndarray) and num.size
                 else int(num) if not isinstance(num, np.ndarray) else 0)
    return (num // g, den // g) if g > 1 else (num, den)


def _common(args: Sequence[tuple[Any, int]]) -> tuple[list, int]:
    """Numerators over one common denominator."""
    den = math.lcm(*(d for _, d in args))
    for n, d in args:
        _checked(_mag(n), den // d)
    return [n * (den // d) for n, d in args], den


def _rational_arrays(expr: sympy.Expr, env: Mapping[sympy.Symbol, tuple[np.ndarray, int]],
                     memo: dict) -> tuple[Any, int]:
    """``expr`` at every point of ``env`` as (int64 numerators, one positive denominator):
    exact rational arithmetic, vectorized. Raises _Unsupported or _Overflow when it cannot."""
    if expr in memo:
        return memo[expr]
    if expr.is_Symbol:
        result = env[expr]
    elif expr.is_Rational:
        result = (int(expr.p), int(expr.q))
    else:
        args = [_rational_arrays(a, env, memo) for a in expr.args]
        func = expr.func
        if expr.is_Add:
            nums, den = _common(args)
            _checked(len(nums), max(_mag(n) for n in nums))
            result = (sum(nums[1:], nums[0]), den)
        elif expr.is_Mul:
            num, den = args[0]
            for n, d in args[1:]:
                _checked(_mag(num), _mag(n))
                _checked(den, d)
                num, den = _reduce(num * n, den * d)
            result = (num, den)
        elif expr.is_Pow and expr.exp.is_Integer and expr.exp >= 0:
            (num, den), e = args[0], int(expr.exp)
            _checked(*([max(_mag(num), den)] * e))
            result = (num ** e, den ** e)
        elif func in (sympy.floor, sympy.ceiling):
            num, den = args[0]
            result = (num // den if func is sympy.floor else -((-num) // den), 1)
        elif func is MakeDivisible:
            (a, big_a), (d, dd), (m, md) = args
            if dd != 1 or md != 1 or isinstance(d, np.ndarray) or isinstance(m, np.ndarray):
                raise _Unsupported(expr)
            _checked(10, _mag(a) + (abs(d) + abs(m)) * big_a + 1)  # bounds 10·rounded·A
            rounded = (2 * a + d * big_a) // (2 * big_a) // d * d  # floor(v + d/2) // d * d
            rounded = np.maximum(m, rounded)
            rounded = np.where(10 * rounded * big_a < 9 * a, rounded + d, rounded)
            result = (rounded, 1)
        elif func in (sympy.Max, sympy.Min):
            nums, den = _common(args)
            pick = np.maximum if func is sympy.Max else np.minimum
            result = (pick.reduce(np.broadcast_arrays(*nums)), den)
        elif func is sympy.Abs:
            result = (abs(args[0][0]), args[0][1])
        elif func is sympy.Mod:
            (a, b), den = _common(args)
            result = (a % b, den)
        else:
            raise _Unsupported(expr)
    memo[expr] = result
    return result


def _axis_rationals(values: Sequence[Any]) -> tuple[np.ndarray, int] | None:
    """Exact axis values (ints and Fractions) as int64 numerators over one denominator."""
    den = math.lcm(*(Fraction(v).denominator for v in values))
    nums = [int(Fraction(v) * den) for v in values]
    if max(map(abs, nums), default=0) >= _LIMIT:
        return None
    return np.array(nums, dtype=np.int64), den


def _atom_values(expr: sympy.Expr, symbols: Sequence[sympy.Symbol],
                 axis_values: Sequence[list], which: tuple[int, ...], memo: dict,
                 rationals: Sequence[tuple[np.ndarray, int] | None]
                 ) -> tuple[np.ndarray, int | None]:
    """Exact values of ``expr`` over the product of the axes ``which`` (flat, C order), as
    int64 numerators and their common denominator; (float64 values, None) in the rare case
    that the numerators would not fit in int64."""
    n = math.prod(len(axis_values[i]) for i in which)
    try:
        mine = [rationals[i] for i in which]
        if any(r is None for r in mine):
            raise _Overflow
        grids = np.meshgrid(*(r[0] for r in mine), indexing="ij") if which else []
        env = {symbols[i]: (g.reshape(-1), r[1]) for i, g, r in zip(which, grids, mine)}
        num, den = _rational_arrays(expr, env, memo)
        return np.broadcast_to(np.asarray(num, dtype=np.int64), (n,)), den
    except (_Unsupported, _Overflow):
        values = [Fraction(v) for v in _exact_atom(expr, _axis_env(symbols, axis_values, which),
                                                   {})]
        den = math.lcm(*(v.denominator for v in values))
        nums = [int(v * den) for v in values]
        if all(abs(v) < _LIMIT for v in nums):
            return np.array(nums, dtype=np.int64), den
        return np.array([float(v) for v in values], dtype=np.float64), None


# --- compiled closed forms ----------------------------------------------------------------------

def _atoms(expr: sympy.Expr, out: set) -> None:
    """The outermost non-polynomial pieces of ``expr`` (and its bare symbols)."""
    if expr.is_Symbol:
        out.add(expr)
    elif expr.is_Number:
        return
    elif expr.is_Add or expr.is_Mul:
        for arg in expr.args:
            _atoms(arg, out)
    elif expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        _atoms(expr.base, out)
    else:
        out.add(expr)


@dataclass
class _Polynomial:
    """A count as (integer coefficients over a common denominator) × monomials in atoms."""

    terms: list[tuple[tuple[int, ...], int]]
    denominator: int


@dataclass
class Compiled:
    """One network's closed forms, ready to evaluate over a grid of its symbolic knobs."""

    symbols: tuple[sympy.Symbol, ...]             # in axis order
    atoms: tuple[sympy.Expr, ...]
    atom_axes: tuple[tuple[int, ...], ...]       # indices into ``symbols``
    counts: dict[str, _Polynomial]
    sizes: tuple[sympy.Expr, ...]                # every symbolic spatial size, for validity


def compile_network(network, symbols: Sequence[sympy.Symbol], convention: str) -> Compiled:
    """Closed forms of MACs, params and activations as polynomials in atoms."""
    exprs = {"macs": network.macs(convention), "params": network.params(convention),
             "activations": network.total.activations}
    found: set = set()
    for expr in exprs.values():
        _atoms(sympy.sympify(expr), found)
    atoms = tuple(sorted(found, key=sympy.default_sort_key))
    stray = {str(s) for a in atoms for s in a.free_symbols} - {str(s) for s in symbols}
    if stray:
        raise RuntimeError(f"the closed forms depend on unexpected symbols {sorted(stray)}")
    placeholders = [sympy.Dummy(f"atom{i}") for i in range(len(atoms))]
    swap = dict(zip(atoms, placeholders))
    counts = {}
    for name, expr in exprs.items():
        poly = sympy.Poly(sympy.sympify(expr).xreplace(swap), *placeholders) if placeholders \
            else None
        raw = poly.terms() if poly is not None else [((), sympy.sympify(expr))]
        coefficients = [Rational(c) for _, c in raw]
        denominator = math.lcm(*(int(c.q) for c in coefficients)) if coefficients else 1
        counts[name] = _Polynomial([(tuple(m), int(c * denominator)) for (m, _), c in
                                    zip(raw, coefficients) if c != 0], denominator)
    index = {s: i for i, s in enumerate(symbols)}
    atom_axes = tuple(tuple(sorted(index[s] for s in a.free_symbols)) for a in atoms)
    sizes = {side for layer in network.layers for shape in (layer.output, *layer.inputs)
             for side in (shape.h, shape.w) if getattr(side, "free_symbols", None)}
    return Compiled(tuple(symbols), atoms, atom_axes, counts,
                    tuple(sorted(sizes, key=sympy.default_sort_key)))


def _axis_env(symbols, axis_values, which: tuple[int, ...]) -> dict:
    """Exact values of the symbols ``which`` over the product of their axes, as lists."""
    grids = [axis_values[i] for i in which]
    points = list(itertools.product(*grids))
    return {symbols[i]: [p[k] for p in points] for k, i in enumerate(which)}


def _shaped(values: np.ndarray, which: tuple[int, ...], shape: tuple[int, ...]) -> np.ndarray:
    """Flat values over the product of axes ``which``, reshaped to broadcast to ``shape``."""
    return values.reshape([shape[i] if i in which else 1 for i in range(len(shape))])


def _pairs(poly: _Polynomial, atoms: list[np.ndarray], atom_level: list[int], level: int,
           powers: dict) -> list[tuple[Any, Any]]:
    """``poly`` as Σ inner × factor: the terms grouped by their monomial (the factor) in the
    atoms of axis ``level``; each inner sum is a polynomial in the other axes' atoms."""
    here = [i for i, lv in enumerate(atom_level) if lv == level]
    groups: dict[tuple[int, ...], list] = defaultdict(list)
    for monom, coeff in poly.terms:
        key = tuple(monom[i] for i in here)
        rest = tuple(0 if atom_level[i] == level else e for i, e in enumerate(monom))
        groups[key].append((rest, coeff))
    pairs = []
    for key, terms in groups.items():
        inner = _evaluate_polynomial(_Polynomial(terms, 1), atoms, atom_level, level - 1, powers)
        factor: Any = None  # None: the monomial 1
        for i, e in zip(here, key):
            if e:
                if (i, e) not in powers:
                    powers[(i, e)] = atoms[i] ** e
                factor = powers[(i, e)] if factor is None else factor * powers[(i, e)]
        pairs.append((inner, factor))
    return pairs


def _evaluate_polynomial(poly: _Polynomial, atoms: list[np.ndarray], atom_level: list[int],
                         level: int, powers: dict) -> Any:
    """Σ coefficient × monomial, peeling one axis per level: the terms are grouped by their
    monomial in the atoms of axis ``level``, whose sub-sum is evaluated on the smaller grid of
    the other axes first. Only a handful of operations then touch the whole grid."""
    if level < 0:
        return sum(c for _, c in poly.terms)
    total: Any = 0
    for inner, factor in _pairs(poly, atoms, atom_level, level, powers):
        total = total + (inner if factor is None else inner * factor)
    return total


def _evaluate_matmul(poly: _Polynomial, atoms: list[np.ndarray], atom_level: list[int],
                     axis: int, shape: tuple[int, ...]) -> np.ndarray | None:
    """The top level of :func:`_evaluate_polynomial` as one matrix product (float64, BLAS):
    Σ_k inner_k(other axes) × factor_k(``axis``). Exact when every partial sum is an integer
    below 2**53 (the caller checks a bound). None when some factor or inner sum does not
    separate that way (an atom of several knobs)."""
    pairs = _pairs(poly, atoms, atom_level, len(shape) - 1, {})
    lower = tuple(1 if k == axis else n for k, n in enumerate(shape))
    inners, factors = [], []
    for inner, factor in pairs:
        inner, factor = np.asarray(inner), np.asarray(1 if factor is None else factor)
        if any(n != 1 for k, n in enumerate(np.shape(factor)) if k != axis) or \
                (np.ndim(inner) and np.shape(inner)[axis] != 1):
            return None
        inners.append(np.broadcast_to(inner, lower).reshape(-1).astype(np.float64))
        factors.append(np.broadcast_to(factor.reshape(-1) if factor.ndim else factor,
                                       (shape[axis],)).astype(np.float64))
    product = np.stack(inners, axis=1) @ np.stack(factors, axis=0)  # (others, axis)
    others = [n for k, n in enumerate(shape) if k != axis]
    return np.moveaxis(product.reshape(*others, shape[axis]), -1, axis)


def _bound(poly: _Polynomial, maxima: list[int]) -> int:
    """An upper bound on |every partial sum and product| of the evaluation."""
    return sum(abs(c) * math.prod(m ** e for m, e in zip(maxima, monom)) for monom, c in
               poly.terms)


@dataclass
class GridValues:
    """Counts over one group's sub-grid: arrays shaped by the symbolic axes."""

    counts: dict[str, np.ndarray]
    exact: bool                       # every value an exact integer
    invalid: np.ndarray | None        # True where an input is too small for the network


def evaluate_compiled(compiled: Compiled, axis_values: Sequence[list]) -> GridValues:
    """Evaluate ``compiled`` over the product of ``axis_values`` (exact values per symbol).

    Atoms are integer numerators over one denominator each (1 for a rounded width or a
    spatial size; 20 for alpha itself on a 0.05 grid). A polynomial in them, times the common
    denominator of its terms, is a polynomial with integer coefficients in the numerators:
    evaluated in integers, then divided exactly (an int64 count) or, when the count is not
    whole (``rounding=none``), to the nearest float64."""
    shape = tuple(len(v) for v in axis_values)
    memos: dict = defaultdict(dict)  # one per set of axes: a value's points depend on them
    rationals = [_axis_rationals(values) for values in axis_values]
    found = [_atom_values(a, compiled.symbols, axis_values, axes, memos[axes], rationals)
             for a, axes in zip(compiled.atoms, compiled.atom_axes)]
    atoms = [_shaped(values, axes, shape) for (values, _), axes in zip(found,
                                                                      compiled.atom_axes)]
    dens = [den for _, den in found]
    integral = all(den is not None for den in dens)
    maxima = [_mag(a) for a in atoms] if integral else []
    floats = None
    # order the axes so that the top level (the whole grid) has the fewest distinct monomials
    levels = _axis_levels(compiled, len(shape))
    atom_level = [max(levels[i] for i in axes) for axes in compiled.atom_axes]
    counts, exact = {}, True
    for name, poly in compiled.counts.items():
        value, scaled = None, None
        if integral:
            weights = [math.prod(d ** e for d, e in zip(dens, monom)) for monom, _ in poly.terms]
            scale = math.lcm(*weights) if weights else 1
            scaled = _Polynomial([(m, c * (scale // w)) for (m, c), w in zip(poly.terms,
                                                                             weights)],
                                 poly.denominator * scale)
            bound = _bound(scaled, maxima)
            if bound < _INT64:
                if len(shape) >= 2 and bound < _FLOAT_EXACT:
                    top = levels.index(len(shape) - 1)
                    value = _evaluate_matmul(scaled, atoms, atom_level, top, shape)
                    if value is not None:
                        value = value.astype(np.int64)
                if value is None:
                    value = _evaluate_polynomial(scaled, atoms, atom_level, len(shape) - 1, {})
                value = np.broadcast_to(np.asarray(value, dtype=np.int64), shape)
                if scaled.denominator != 1:
                    if np.any(value % scaled.denominator):
                        value, exact = value / scaled.denominator, False
                    else:
                        value = value // scaled.denominator
        if value is None:  # beyond int64: float64 throughout (never for the zoo's networks)
            if floats is None:
                floats = [a / d if d is not None else a for a, d in zip(atoms, dens)]
            value = _evaluate_polynomial(poly, [f.astype(np.float64) for f in floats],
                                         atom_level, len(shape) - 1, {}) / poly.denominator
            value, exact = np.broadcast_to(np.asarray(value, dtype=np.float64), shape), False
        counts[name] = value
    if counts["macs"].dtype == np.int64 and _mag(counts["macs"]) < _INT64 // 2:
        counts["flops"] = 2 * counts["macs"]
    else:
        counts["flops"] = 2.0 * counts["macs"].astype(np.float64)
    invalid = None
    for size in compiled.sizes:
        which = tuple(sorted(compiled.symbols.index(s) for s in size.free_symbols))
        values, den = _atom_values(size, compiled.symbols, axis_values, which, memos[which],
                                   rationals)
        bad = _shaped(values < (den if den is not None else 1), which, shape)  # size < 1
        invalid = bad if invalid is None else invalid | bad
    if invalid is not None:
        invalid = np.broadcast_to(invalid, shape)
    return GridValues({k: counts[k] for k in COUNTS}, exact, invalid)


def _axis_levels(compiled: Compiled, ndim: int) -> list[int]:
    """A level per axis (ndim - 1 is evaluated on the whole grid): the axis whose atoms form
    the fewest distinct monomials goes on top."""
    def distinct(axis: int) -> int:
        here = [i for i, axes in enumerate(compiled.atom_axes) if axis in axes]
        return len({tuple(m[i] for i in here) for p in compiled.counts.values()
                    for m, _ in p.terms})
    order = sorted(range(ndim), key=lambda a: -distinct(a))
    levels = [0] * ndim
    for level, axis in enumerate(order):
        levels[axis] = level
    return levels



def assumption_failures(assumptions: Iterable[Any], symbols: Sequence[sympy.Symbol],
                        axis_values: Sequence[list]) -> dict[tuple[int, ...], np.ndarray]:
    """Where a network's assumptions (:attr:`Network.assumptions`: ``Ne(a, b)`` conditions,
    or ``Or`` of them) fail over the product of ``axis_values`` (exact values per symbol):
    each ``a - b`` is evaluated exactly, as the atoms are, and compared with 0 (an ``Or``
    fails where all its conditions do). Returns, for each set of axes (indices into
    ``symbols``) that failing conditions depend on, a boolean array shaped to broadcast to
    the grid, True where one of them fails; empty when every condition holds everywhere."""
    shape = tuple(len(v) for v in axis_values)
    index = {s: i for i, s in enumerate(symbols)}
    rationals = [_axis_rationals(values) for values in axis_values]
    memos: dict = defaultdict(dict)

    def fails(condition) -> tuple[tuple[int, ...], np.ndarray | bool]:
        if condition is sympy.true or condition is sympy.false:
            return (), condition is sympy.false
        if isinstance(condition, sympy.Or):
            parts = [fails(c) for c in condition.args]
            which = tuple(sorted(set().union(*(w for w, _ in parts))))
            return which, functools.reduce(np.logical_and, (f for _, f in parts))
        if not isinstance(condition, sympy.Ne):
            raise RuntimeError(f"unexpected assumption {condition} (an Ne(a, b) condition)")
        difference = sympy.sympify(condition.lhs - condition.rhs)
        stray = {str(s) for s in difference.free_symbols if s not in index}
        if stray:
            raise RuntimeError(f"the assumption {condition} depends on unexpected symbols "
                               f"{sorted(stray)}")
        which = tuple(sorted(index[s] for s in difference.free_symbols))
        values, _ = _atom_values(difference, symbols, axis_values, which, memos[which],
                                 rationals)
        return which, _shaped(np.asarray(values) == 0, which, shape)

    failures: dict[tuple[int, ...], np.ndarray] = {}
    for condition in assumptions:
        which, failed = fails(condition)
        failed = np.asarray(failed).reshape([shape[i] if i in which else 1
                                             for i in range(len(shape))])
        if failed.any():
            failures[which] = failed | failures[which] if which in failures else failed
    return failures

# --- the sweep ----------------------------------------------------------------------------------

class Progress:
    """Progress reports of a long sweep; the default reports nothing. The CLI passes a rich
    progress bar."""

    def task(self, description: str, total: int) -> Callable[[int], None]:
        return lambda advance=1: None


@dataclass
class SweepResult:
    """A sweep's grid (C order over ``axes``, the last knob varying fastest) and its counts."""

    model: str
    convention: str
    axes: list[Axis]
    fixed: dict[str, Any]                    # the knobs not swept, defaults filled in
    counts: dict[str, np.ndarray]            # flat, one value per grid point
    exact: bool
    symbolic: tuple[str, ...]                # knobs compiled as symbols
    grouped: tuple[str, ...]                 # knobs built once per value
    builds: int                              # networks built (symbolic and checks)
    checked: int                             # grid points compared with one-by-one builds
    recomputed: int = 0                      # grid points where an assumption failed
    recomputed_by: tuple[str, ...] = ()      # knobs of those assumptions (nested included)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.axes)

    def __len__(self) -> int:
        return math.prod(self.shape)

    def index(self, position: int) -> tuple[int, ...]:
        return tuple(int(i) for i in np.unravel_index(position, self.shape))

    def knob_values(self, position: int) -> dict[str, Any]:
        return {a.name: a.values[i] for a, i in zip(self.axes, self.index(position))}

    def knob_index(self, name: str) -> np.ndarray:
        """For every grid point, the index of its value of knob ``name``."""
        return self.knob_index_of([a.name for a in self.axes].index(name))

    def knob_index_of(self, k: int) -> np.ndarray:
        shape = self.shape
        inner = math.prod(shape[k + 1:])
        return np.tile(np.repeat(np.arange(shape[k]), inner), math.prod(shape[:k]))

    def column(self, name: str) -> np.ndarray:
        """A knob's values at every grid point (float64 or strings), or a count column."""
        if name in self.counts:
            return self.counts[name]
        axis = next(a for a in self.axes if a.name == name)
        values = np.array([v if isinstance(v, str) else float(v) for v in axis.values]) \
            if not axis.numeric or any(not v.is_Integer for v in axis.values) \
            else np.array([int(v) for v in axis.values], dtype=np.int64)
        return values[self.knob_index(name)]

    def records(self, rows: Iterable[int] | None = None) -> list[dict[str, Any]]:
        """Grid points as dicts (exact ints for counts, plain numbers for knobs)."""
        rows = range(len(self)) if rows is None else rows
        out = []
        for r in rows:
            record = {k: _plain(v) for k, v in self.knob_values(r).items()}
            record.update({c: self.counts[c][r].item() for c in COUNTS})
            out.append(record)
        return out

    def frame(self):
        """A pandas DataFrame: the knob columns, then macs, flops, params, activations."""
        import pandas as pd

        return pd.DataFrame({name: self.column(name) for name in self.columns})

    @property
    def columns(self) -> list[str]:
        return [a.name for a in self.axes] + list(COUNTS)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return value
    return int(value) if value.is_Integer else float(value)


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


def _exact_value(value: Any) -> Any:
    return int(value) if value.is_Integer else Fraction(int(value.p), int(value.q))


def sweep(spec: str, lists: Mapping[str, str | Sequence[Any]], convention: str = "paper",
          check: int = 4, progress: Progress | None = None, seed: int = 0,
          verify: bool = True) -> SweepResult:
    """MACs, FLOPs, params and activations at every point of the product of ``lists``
    (knob name -> LIST text or values), computed from compiled closed forms, recomputed where
    their assumptions fail, and checked against networks built one by one at a few points
    (see the module docstring): the corners, special values and ``check`` random points.
    ``verify=False`` skips those checks altogether (``check=0`` keeps the corners and
    special values)."""
    get_convention(convention)
    progress = progress or Progress()
    ref = resolve_layer_spec(spec, "sweeps")
    axes = make_axes(ref, lists)
    points = math.prod(len(a.values) for a in axes)
    if points > MAX_POINTS:
        raise CostModelError(f"the grid has {points:,} points; at most {MAX_POINTS:,} (sweep "
                             "fewer values)")
    fixed = {k: v for k, v in ref.config().items() if k not in {a.name for a in axes}}
    candidates = [a for a in axes if len(a.values) > 1 and a.numeric]
    # knobs to group first when the closed forms fail: choices, then the shortest lists
    drop_order = sorted(candidates, key=lambda a: (a.knob.type != "choice", len(a.values)))
    symbolic = [a.name for a in candidates]
    start = time.perf_counter()
    builds = 0
    while True:
        try:
            result, used = _run(ref, axes, symbolic, convention, check if verify else None,
                                progress, seed)
            builds += used
            break
        except _Attempt as failed:
            builds += failed.builds
            if not symbolic:
                raise RuntimeError("a grid without symbolic knobs cannot mismatch") from None
            order = [a for a in drop_order if a.name in symbolic]
            drop, tried = _culprit(ref, order, failed, convention)
            builds += tried
            symbolic = [name for name in symbolic if name != drop]
    counts, exact, checked, recomputed, recomputed_by, timings = result
    grouped = tuple(a.name for a in axes if a.name not in symbolic and len(a.values) > 1)
    timings["total"] = time.perf_counter() - start
    return SweepResult(ref.name, convention, axes, fixed, counts, exact, tuple(symbolic),
                       grouped, builds, checked, recomputed=recomputed,
                       recomputed_by=recomputed_by, timings=timings)


class _Attempt(Exception):
    """This choice of symbolic knobs does not give the networks' counts: the symbolic build
    failed at ``point`` (the grouped knobs' values), or its counts differ from ``truth`` there
    (every knob's value)."""

    def __init__(self, reason: str, builds: int, point: dict[str, Any],
                 truth: dict[str, Any] | None = None):
        super().__init__(reason)
        self.builds, self.point, self.truth = builds, point, truth


def _culprit(ref: ModelRef, order: list[Axis], failed: _Attempt,
             convention: str) -> tuple[str, int]:
    """The symbolic knob to group: the first (in ``order``) that, given its value at the
    failing point while the others stay symbolic, builds and gives the right counts there.
    Falls back to the first of ``order``. Returns it and the number of builds tried."""
    tried = 0
    if len(order) > 1:
        for axis in order:
            others = [a for a in order if a is not axis]
            value = failed.point.get(axis.name, axis.values[0])
            values = {k: v for k, v in failed.point.items() if k not in {a.name for a in order}}
            values[axis.name] = value
            values = _texts(values)
            values.update({a.name: knob_symbol(a) for a in others})
            tried += 1
            try:
                network = ref.build(**values)
                if failed.truth is not None:
                    at = {knob_symbol(a): failed.point[a.name] for a in others}
                    got = network.evaluate(at, convention_name=convention)
                    if any(not _agrees(got[k], failed.truth[k], False) for k in failed.truth):
                        continue
            except Exception:  # noqa: BLE001 - this knob is not the (only) one
                continue
            return axis.name, tried
    return order[0].name, tried


def _run(ref: ModelRef, axes: list[Axis], symbolic: list[str], convention: str,
         check: int | None, progress: Progress, seed: int):
    """One attempt at the grid with the knobs ``symbolic`` as symbols, the others grouped
    (``check`` None: no verification). Raises _Attempt when this choice does not work."""
    shape = tuple(len(a.values) for a in axes)
    sym_pos = [k for k, a in enumerate(axes) if a.name in symbolic]
    group_pos = [k for k in range(len(axes)) if k not in sym_pos]
    symbols = tuple(knob_symbol(axes[k]) for k in sym_pos)
    sym_values = [[_exact_value(v) for v in axes[k].values] for k in sym_pos]
    groups = list(itertools.product(*(range(shape[k]) for k in group_pos)))
    out = {name: None for name in COUNTS}
    exact, builds, checked = True, 0, 0
    timings = dict.fromkeys(("build", "compile", "evaluate", "assumptions", "check"), 0.0)
    clock = time.perf_counter
    rng = random.Random(seed)
    per_group = -(-(check or 0) // len(groups))  # random checks: about ``check`` in all
    redo = _Redo(ref, axes, convention, progress)
    steps = 3 if sym_pos else 1  # build and compile, evaluate, check
    advance = progress.task("sweeping: compiling, evaluating, checking" if sym_pos else
                            "building networks one by one", steps * len(groups)) \
        if len(groups) > 1 or math.prod(shape) > 200_000 else (lambda n=1: None)
    for group in groups:
        values = {axes[k].name: _text(axes[k].values[i]) for k, i in zip(group_pos, group)}
        values.update({axes[k].name: s for k, s in zip(sym_pos, symbols)})
        start = clock()
        try:
            network = ref.build(**values)
            builds += 1
            timings["build"] += clock() - start
            start = clock()
            compiled = compile_network(network, symbols, convention)
            timings["compile"] += clock() - start
            if sym_pos:
                advance(1)
            start = clock()
            grid = evaluate_compiled(compiled, sym_values)
            timings["evaluate"] += clock() - start
        except Exception as exc:  # noqa: BLE001 - any failure of the symbolic path: group
            if sym_pos:
                fixed = {axes[k].name: axes[k].values[i] for k, i in zip(group_pos, group)}
                raise _Attempt(f"cannot stay symbolic: {exc}", builds + redo.builds + 1,
                               fixed) from None
            if isinstance(exc, CostModelError):
                raise _at_point(exc, axes, group_pos, group) from None
            raise
        if sym_pos:
            start = clock()
            fixed = {axes[k].name: axes[k].values[i] for k, i in zip(group_pos, group)}
            grid = redo.repair(fixed, sym_pos, symbols, sym_values, network, grid, top=True)
            timings["assumptions"] += clock() - start
            advance(1)
        if grid.invalid is not None and grid.invalid.any():
            bad = tuple(int(i) for i in np.argwhere(grid.invalid)[0])
            point = _point(axes, group_pos, group, sym_pos, bad)
            ref.build(**_texts(point))  # raises the error `compare` gives for this point
            raise CostModelError(f"{ref.name}: the network cannot take "
                                 f"{_describe(point)}")
        start = clock()
        if sym_pos and check is not None:
            for sub in _samples(grid.counts["macs"].shape, axes, sym_pos, per_group, rng):
                point = _point(axes, group_pos, group, sym_pos, sub)
                try:
                    one = ref.build(**_texts(point))
                except CostModelError as exc:
                    raise CostModelError(f"{exc} (at {_describe(point)})") from None
                builds += 1
                checked += 1
                truth = one.evaluate(convention_name=convention)
                for name in ("macs", "params", "activations"):
                    got = grid.counts[name][sub].item()
                    want = truth[name]
                    if not _agrees(got, want, grid.exact):
                        raise _Attempt(f"{name} at {_describe(point)}: {got} != {want}",
                                       builds + redo.builds, point, truth)
        timings["check"] += clock() - start
        start = clock()
        exact = exact and grid.exact
        for name in COUNTS:
            array = grid.counts[name]
            if out[name] is None:
                out[name] = np.empty(shape, dtype=array.dtype)
            elif out[name].dtype != array.dtype:
                out[name] = out[name].astype(np.float64)
            index = [slice(None)] * len(shape)
            for k, i in zip(group_pos, group):
                index[k] = i
            out[name][tuple(index)] = array
        timings["evaluate"] += clock() - start
        advance(1)
    builds += redo.builds
    recomputed_by = tuple(a.name for a in axes if a.name in redo.knobs)
    return ({name: array.reshape(-1) for name, array in out.items()}, exact, checked,
            redo.points, recomputed_by, timings), builds


#: A sub-grid of at most this many points, where an assumption of the closed forms fails, is
#: built point by point (a numeric build takes about 15 ms; a build with symbols, its
#: compilation and evaluation about 0.2 s).
ONE_BY_ONE = 12
#: Sub-grids recomputed, at least, for a progress report of their own.
PROGRESS_COMBOS = 10


class _Redo:
    """Recomputes the grid points where a network's assumptions fail (see the module
    docstring), counting the builds, the points recomputed and the knobs responsible."""

    def __init__(self, ref: ModelRef, axes: list[Axis], convention: str,
                 progress: Progress | None = None):
        self.ref, self.axes, self.convention = ref, axes, convention
        self.progress = progress or Progress()
        self.builds = 0
        self.points = 0
        self.knobs: set[str] = set()

    def repair(self, fixed: dict[str, Any], pos: list[int], symbols: Sequence[sympy.Symbol],
               values: Sequence[list], network, grid: GridValues, top: bool = False
               ) -> GridValues:
        """``grid`` (``network``'s closed forms over the product of ``values``, the axes
        ``pos``; the other knobs at ``fixed``) with the points where an assumption of
        ``network`` fails recomputed."""
        failures = assumption_failures(network.assumptions, symbols, values)
        if not failures:
            return grid
        shape = tuple(len(v) for v in values)
        counts = {name: np.array(np.broadcast_to(array, shape))
                  for name, array in grid.counts.items()}
        invalid = None if grid.invalid is None else np.array(grid.invalid)
        exact = grid.exact
        redone = np.zeros(shape, dtype=bool)
        combos = sum(int(np.count_nonzero(f)) for f in failures.values())
        advance = self.progress.task("recomputing where an assumption fails", combos) \
            if top and combos >= PROGRESS_COMBOS else (lambda n=1: None)
        # the conditions of fewest knobs first: one build covers a whole sub-grid
        for which, fails in sorted(failures.items(), key=lambda item: len(item[0])):
            self.knobs.update(self.axes[pos[j]].name for j in which)
            rest = [j for j in range(len(shape)) if j not in which]
            mask = fails.reshape([shape[j] for j in which])
            for combo in np.argwhere(mask):
                index = [slice(None)] * len(shape)
                for j, i in zip(which, combo):
                    index[j] = int(i)
                index = tuple(index)
                advance(1)
                if redone[index].all():  # recomputed already, for another condition
                    continue
                redone[index] = True
                point = dict(fixed)
                point.update({self.axes[pos[j]].name: self.axes[pos[j]].values[i]
                              for j, i in zip(which, combo)})
                args = (point, [pos[j] for j in rest], [symbols[j] for j in rest],
                        [values[j] for j in rest])
                # a condition on no knob at all cannot be lifted by fixing one: point by point
                sub = self.subgrid(*args) if which else self.one_by_one(*args[:2], args[3])
                for name in COUNTS:
                    if counts[name].dtype != sub.counts[name].dtype:
                        counts[name] = counts[name].astype(np.float64)
                    counts[name][index] = sub.counts[name]
                exact = exact and sub.exact
                if sub.invalid is not None or invalid is not None:
                    if invalid is None:
                        invalid = np.zeros(shape, dtype=bool)
                    invalid[index] = False if sub.invalid is None else sub.invalid
        if top:
            self.points += int(redone.sum())
        return GridValues(counts, exact, invalid)

    def subgrid(self, fixed: dict[str, Any], pos: list[int], symbols: list[sympy.Symbol],
                values: list[list]) -> GridValues:
        """Exact counts over the product of ``values`` (axes ``pos``), the other knobs at
        ``fixed``: built with those axes symbolic (its own failing assumptions recomputed in
        turn), or point by point when the sub-grid is small or cannot stay symbolic."""
        if math.prod(len(v) for v in values) > ONE_BY_ONE:
            knobs = _texts(fixed)
            knobs.update({self.axes[k].name: s for k, s in zip(pos, symbols)})
            try:
                self.builds += 1
                network = self.ref.build(**knobs)
                grid = evaluate_compiled(compile_network(network, symbols, self.convention),
                                         values)
            except Exception:  # noqa: BLE001 - e.g. a table lookup on a knob: point by point
                pass
            else:
                return self.repair(fixed, pos, symbols, values, network, grid)
        return self.one_by_one(fixed, pos, values)

    def one_by_one(self, fixed: dict[str, Any], pos: list[int],
                   values: list[list]) -> GridValues:
        """Counts over the product of ``values`` from networks built one by one."""
        shape = tuple(len(v) for v in values)
        found: dict[str, list] = {name: [] for name in ("macs", "params", "activations")}
        for combo in itertools.product(*(range(n) for n in shape)):
            point = dict(fixed)
            point.update({self.axes[k].name: self.axes[k].values[i] for k, i in zip(pos, combo)})
            point = {a.name: point[a.name] for a in self.axes if a.name in point}
            try:
                network = self.ref.build(**_texts(point))
            except CostModelError as exc:
                raise CostModelError(f"{exc} (at {_describe(point)})") from None
            self.builds += 1
            for name, value in network.evaluate(convention_name=self.convention).items():
                found[name].append(value)
        counts, exact = {}, True
        for name, column in found.items():
            if all(isinstance(v, int) and abs(v) < _INT64 // 2 for v in column):
                counts[name] = np.array(column, dtype=np.int64).reshape(shape)
            else:
                counts[name] = np.array([float(v) for v in column],
                                        dtype=np.float64).reshape(shape)
                exact = False
        counts["flops"] = 2 * counts["macs"]
        return GridValues({k: counts[k] for k in COUNTS}, exact, None)


def _agrees(got: Any, want: Any, exact: bool) -> bool:
    if isinstance(want, int) and isinstance(got, int):
        return got == want
    try:
        return math.isclose(float(got), float(want), rel_tol=1e-9, abs_tol=1e-9)
    except TypeError:
        return False


def _point(axes, group_pos, group, sym_pos, sub) -> dict[str, Any]:
    point = {axes[k].name: axes[k].values[i] for k, i in zip(group_pos, group)}
    point.update({axes[k].name: axes[k].values[i] for k, i in zip(sym_pos, sub)})
    return {a.name: point[a.name] for a in axes}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else decimal_text(value)


def _texts(point: Mapping[str, Any]) -> dict[str, str]:
    """Knob values as the texts the spec's knob checks read (7/20 -> '0.35')."""
    return {k: _text(v) for k, v in point.items()}


def _describe(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_text(v)}" for k, v in point.items())


def _at_point(exc: Exception, axes, group_pos, group) -> CostModelError:
    point = {axes[k].name: axes[k].values[i] for k, i in zip(group_pos, group)}
    return CostModelError(f"{exc} (at {_describe(point)})" if point else str(exc))


def _samples(shape, axes, sym_pos, check: int, rng: random.Random):
    """Grid points to verify: the corners, special values of each axis (whole and half
    numbers, the knob's default) with the others at their first value, and ``check`` random
    points."""
    chosen: list[tuple[int, ...]] = []
    for corner in itertools.product(*((0, n - 1) for n in shape)):
        chosen.append(corner)
    for j, k in enumerate(sym_pos):
        knob = axes[k].knob
        default = Rational(knob.default) if _NUMBER.match(knob.default) else None
        special = [i for i, v in enumerate(axes[k].values) if v == default or v == 1
                   or (knob.type == "positive" and (2 * v).is_Integer)][:4]
        for i in special:
            chosen.append(tuple(i if jj == j else 0 for jj in range(len(shape))))
    for _ in range(check):
        chosen.append(tuple(rng.randrange(n) for n in shape))
    return list(dict.fromkeys(chosen))


# --- output -------------------------------------------------------------------------------------

UNIT_NOTE = "MACs = multiply-accumulates; 1 MAC = 2 FLOPs (the papers' FLOPs/Mult-Adds are MACs)."
#: Rows written per block (and per step of the progress bar).
CHUNK = 250_000


def describe(result: SweepResult) -> list[str]:
    """Notes that say what a sweep counts and how it was computed."""
    from .compare import convention_note

    fixed = ", ".join(f"{k}={_text(v)}" for k, v in result.fixed.items()) or "none"
    how = (f"Closed forms compiled once with {', '.join(result.symbolic)} symbolic"
           if result.symbolic else "Networks built one by one")
    if result.grouped:
        how += f"; built once per value of {', '.join(result.grouped)}"
    if result.symbolic:
        n = result.recomputed
        how += (f"; recomputed at {n:,} grid point{'s' if n != 1 else ''} where an assumption "
                f"of the closed forms fails (conditions on {', '.join(result.recomputed_by)})"
                if n else "; every assumption of the closed forms holds on the grid")
        n = result.checked
        how += (f"; checked against networks built one by one at {n:,} grid "
                f"point{'s' if n != 1 else ''}" if n else
                "; not checked against networks built one by one")
    notes = [UNIT_NOTE, convention_note(result.convention),
             "activations: elements of every layer's output, summed.",
             f"Other knobs: {fixed}.", f"{how}."]
    if not result.exact:
        notes.append("Some counts are not whole (idealized widths c·alpha): shown as float64.")
    return notes


def table(result: SweepResult, rows: int = 10):
    """The grid as a :class:`~costmodel.report.table.Table`: every row of a small grid, else
    the first and last ``rows`` with a note."""
    from ..report.table import Column, Table

    n = len(result)
    shown = list(range(n)) if n <= max(2 * rows + 1, 50) else [*range(rows), *range(n - rows, n)]
    records = []
    for r in shown:
        record = {a.name: a.texts[i] for a, i in zip(result.axes, result.index(r))}
        record.update({c: result.counts[c][r].item() for c in COUNTS})
        records.append(record)
    columns = (*(Column(a.name, a.name) for a in result.axes),
               Column("macs", "MACs", "count"), Column("flops", "FLOPs", "count"),
               Column("params", "params", "count"), Column("activations", "activations", "count"))
    notes = describe(result)
    if len(shown) < n:
        records.insert(rows, {c.key: "…" for c in columns})
        notes.insert(0, f"Showing the first {rows} and the last {rows} of {n:,} rows; "
                        "--format csv|json|parquet --output FILE writes them all.")
    title = (f"{result.model} sweep: {n:,} configuration{'s' if n != 1 else ''} "
             f"({result.convention} convention)")
    return Table(title, columns, tuple(records), tuple(notes))


_POWERS = 10 ** np.arange(1, 19, dtype=np.int64)


def _digits(values: np.ndarray) -> np.ndarray:
    """Non-negative int64 values as ASCII digits, one column per value (width × n), leading
    positions zero bytes (dropped when the rows are joined). The low 8 digits are cut in
    uint32, which numpy divides about twice as fast as int64."""
    width = len(str(int(values.max()))) if len(values) else 1
    out = np.empty((width, len(values)), np.uint8)
    high = values // 100_000_000
    parts = [((values - high * 100_000_000).astype(np.uint32), range(width - 1, width - 9, -1)),
             (high.astype(np.uint32) if width <= 17 else high, range(width - 9, -1, -1))]
    for v, positions in parts:
        for j in positions:
            if j < 0:
                break
            q = v // 10
            out[j] = v - q * 10
            v = q
    count = np.searchsorted(_POWERS, values, side="right") + 1  # digits of each value
    out += 48
    out *= np.arange(width)[:, None] >= (width - count)[None, :]
    return out


def _text_bytes(texts: Sequence[str]) -> np.ndarray:
    """Short texts as a (width × count) byte matrix, zero-padded."""
    array = np.array([t.encode() for t in texts], dtype="S")
    width = max(array.dtype.itemsize, 1)
    return array.view(np.uint8).reshape(len(texts), width).T if len(texts) else \
        np.zeros((1, 0), np.uint8)


def _count_bytes(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.int64 and (len(values) == 0 or values.min() >= 0):
        return _digits(values)
    return _text_bytes([repr(v) if v != int(v) else str(int(v))
                        for v in values.astype(np.float64).tolist()])


def _column_bytes(result: SweepResult, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A column as a byte matrix (width × m) and, unless m is the number of rows, the index
    of each row's entry: a knob's distinct values are formatted once, and so is a count on
    the knobs it depends on (params, constant along resolution, 1,000 times not 10^6)."""
    shape = result.shape
    if name not in result.counts:
        return _text_bytes(_axis(result, name).texts), result.knob_index(name)
    grid = result.counts[name].reshape(shape)
    constant = [k for k, n in enumerate(shape)
                if n > 1 and np.array_equal(np.broadcast_to(grid.take([0], axis=k), shape), grid)]
    if not constant:
        return _count_bytes(result.counts[name]), None
    reduced = grid[tuple(0 if k in constant else slice(None) for k in range(len(shape)))]
    index = np.zeros(len(result), dtype=np.int64)
    stride = 1
    for k in reversed(range(len(shape))):
        if k not in constant:
            index += result.knob_index_of(k) * stride
            stride *= shape[k]
    return _count_bytes(reduced.reshape(-1)), index


def _write_rows(result: SweepResult, out, pieces: Sequence[bytes | str],
                progress: Progress) -> None:
    """Every row, ``pieces`` (literal bytes and column names, in order) joined, in blocks."""
    n = len(result)
    advance = progress.task("writing rows", -(-n // CHUNK)) if n > CHUNK else \
        (lambda k=1: None)
    sources = {p: _column_bytes(result, p) for p in pieces if isinstance(p, str)}
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        blocks = []
        for piece in pieces:
            if isinstance(piece, bytes):
                blocks.append(np.frombuffer(piece, np.uint8)[:, None].repeat(stop - start, 1))
            else:
                matrix, index = sources[piece]
                blocks.append(matrix[:, start:stop] if index is None else
                              matrix[:, index[start:stop]])
        flat = np.ascontiguousarray(np.concatenate(blocks, axis=0).T).ravel()
        out.write(flat[flat != 0].tobytes())
        advance(1)


def write_csv(result: SweepResult, out, progress: Progress | None = None) -> None:
    """CSV to the binary stream ``out``: the knobs, then macs, flops, params, activations
    (exact integers)."""
    out.write((",".join(result.columns) + "\n").encode())
    pieces: list[bytes | str] = []
    for name in result.columns:
        pieces += [name, b","]
    pieces[-1] = b"\n"
    _write_rows(result, out, pieces, progress or Progress())


def write_json(result: SweepResult, out, progress: Progress | None = None) -> None:
    """A JSON list of records, one line each: knob values, then macs, flops, params,
    activations (exact integers)."""
    import json

    pieces: list[bytes | str] = []
    for k, name in enumerate(result.columns):
        pieces.append((("{" if k == 0 else ", ") + json.dumps(name) + ": ").encode())
        pieces.append(name)
    pieces.append(b"},\n")
    quoted = _quoted_axes(result)
    out.write(b"[\n")
    n = len(result)
    if n:
        last = bytearray()

        class _Tail:
            def write(self, data: bytes) -> None:
                nonlocal last
                if last:
                    out.write(bytes(last))
                last = bytearray(data)
        _write_rows(quoted, _Tail(), pieces, progress or Progress())
        out.write(bytes(last[:-2]) + b"\n")
    out.write(b"]\n")


def _quoted_axes(result: SweepResult) -> SweepResult:
    """The same sweep with string knob values quoted, for JSON."""
    import dataclasses
    import json

    axes = [a if a.numeric else Axis(a.knob, tuple(json.dumps(v) for v in a.values))
            for a in result.axes]
    return dataclasses.replace(result, axes=axes)


def write_parquet(result: SweepResult, path) -> None:
    """A Parquet file (needs pyarrow): the knob columns, then macs, flops, params,
    activations; the model, convention and units in the file's metadata."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise CostModelError("writing Parquet needs pyarrow, which is not installed: "
                             "pip install 'costmodel[parquet]' or pip install pyarrow "
                             "(or use --format csv)") from None
    columns = {name: result.column(name) for name in result.columns}
    metadata = {"model": result.model, "convention": result.convention,
                "units": "macs: multiply-accumulates; flops = 2 x macs; params: parameters; "
                         "activations: output elements",
                "notes": " ".join(describe(result))}
    table_ = pa.table(columns).replace_schema_metadata(metadata)
    pq.write_table(table_, str(path))


# --- plot ---------------------------------------------------------------------------------------

Y_LABELS = {"macs": "MACs", "flops": "FLOPs", "params": "parameters",
            "activations": "activations (elements)"}
MAX_CURVES = 10


def plot(result: SweepResult, path, y: str = "macs", x: str | None = None,
         hue: str | None = None) -> dict[str, Any]:
    """Draw ``y`` against knob ``x`` (default: the first knob with several values), one curve
    per value of ``hue`` (default: the next such knob; at most 10 curves, evenly picked), the
    other knobs at their first value. Returns what was drawn."""
    from pathlib import Path

    from matplotlib.figure import Figure

    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise CostModelError(f"--plot {path}: the file must end in .png, .svg or .pdf")
    if y not in Y_LABELS:
        raise CostModelError(f"--y {y}: choose one of {', '.join(Y_LABELS)}")
    names = [a.name for a in result.axes]
    varied = [a.name for a in result.axes if len(a.values) > 1]
    for option, value in (("--x", x), ("--hue", hue)):
        if value is not None and value not in names:
            raise CostModelError(f"{option} {value}: not a swept knob; swept: "
                                 f"{', '.join(names) or 'none'}")
    x = x or next((n for n in varied if _axis(result, n).numeric and n != hue), None)
    if x is None:
        raise CostModelError("--plot needs a swept numeric knob with several values for the "
                             "x axis (e.g. --resolution 96:224:32)")
    if not _axis(result, x).numeric:
        raise CostModelError(f"--x {x}: its values are not numbers; use it as --hue")
    if hue is None:
        hue = next((n for n in varied if n != x), None)
    if hue == x:
        raise CostModelError(f"--hue {hue} is also the x axis; choose another knob")
    x_axis = _axis(result, x)
    hue_axis = _axis(result, hue) if hue else None
    hue_index = list(range(len(hue_axis.values))) if hue_axis else [None]
    if len(hue_index) > MAX_CURVES:
        hue_index = sorted({int(round(i)) for i in np.linspace(0, len(hue_index) - 1,
                                                                MAX_CURVES)})
    counts = result.counts[y].reshape(result.shape)
    peak = float(np.max(counts)) if counts.size else 0.0
    scale, scale_word = next(((s, w) for s, w in ((1e9, "billions"), (1e6, "millions"),
                                                   (1e3, "thousands")) if peak >= s),
                             (1, ""))
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    xs = [float(v) for v in x_axis.values]
    marker = "o" if len(xs) <= 30 else None
    k_x, k_hue = names.index(x), names.index(hue) if hue else None
    for j in hue_index:
        index = [0] * len(names)
        index[k_x] = slice(None)
        if k_hue is not None:
            index[k_hue] = j
        ys = np.asarray(counts[tuple(index)], dtype=np.float64) / scale
        label = hue_axis.texts[j] if hue_axis else None
        ax.plot(xs, ys, marker=marker, markersize=4, linewidth=1.6, label=label)
    unit = Y_LABELS[y]
    detail = ", ".join(filter(None, [scale_word, "1 MAC = 2 FLOPs" if y in ("macs", "flops")
                                     else ""]))
    ax.set_ylabel(f"{unit} ({detail})" if detail else unit)
    help_text = x_axis.knob.help.strip()
    ax.set_xlabel(f"{x} ({help_text})" if help_text else x)
    ax.grid(True, alpha=0.3)
    others = [f"{a.name}={a.texts[0]}" for a in result.axes if a.name not in (x, hue)
              and len(a.values) > 1]
    fixed = others + [f"{k}={_text(v)}" for k, v in result.fixed.items()]
    ax.set_title(f"{result.model}: {unit.split(' (')[0]} vs {x} ({result.convention} "
                 f"convention)\n" + _wrap("fixed: " + ", ".join(fixed) if fixed else "", 90),
                 fontsize=10)
    if hue_axis:
        shown = len(hue_index)
        title = hue if shown == len(hue_axis.values) else \
            f"{hue} ({shown} of {len(hue_axis.values)} values)"
        ax.legend(title=title, fontsize=8, title_fontsize=9, loc="best")
    fig.savefig(path, dpi=150)
    return {"x": x, "hue": hue, "curves": len(hue_index), "y": y, "path": str(path)}


def _axis(result: SweepResult, name: str) -> Axis:
    return next(a for a in result.axes if a.name == name)


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
