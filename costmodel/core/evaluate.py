"""Closed forms evaluated exactly over grids of knob values: the one evaluator that sweeps,
figures and ``solve`` use.

A total such as MACs is a polynomial, with rational coefficients, in a few *atoms*:
``MakeDivisible(16*alpha, 8, 8)`` (a rounded width), ``floor(R/2 - 1/2)`` (a spatial size),
``Max(1, alpha)``, or a bare knob. An atom usually depends on one knob, so it takes one value
per value of that knob: it is evaluated once per value of its own knobs (1,000 values for a
1000-value axis), in exact rational arithmetic -- numerators over one common denominator, in
int64 numpy arrays while a bound says they fit and in object arrays of Python ints past it.
No float rounding can move a ``floor`` or a ``make_divisible`` tie.

The polynomial is then evaluated over the whole grid by broadcasting the atoms' numerators,
its terms grouped by their monomial in the atoms of one axis at a time (Σ inner × factor), so
only a handful of operations touch every point. It runs in int64 when a bound on every partial
sum is below 2**63, and in object arrays of Python ints otherwise: every count is exact at
every size. A count that is not whole (``rounding=none`` widths c·alpha) comes back as
float64, and :attr:`GridValues.exact` says so.

>>> import sympy
>>> from fractions import Fraction
>>> a, R = sympy.symbols("a R", positive=True)
>>> evaluate(R**2 * sympy.floor(a * 10) + 1, {a: [Fraction(1, 2), 1], R: [224, 2**32]})
array([[250881, 92233720368547758081],
       [501761, 184467440737095516161]], dtype=object)
>>> evaluate(R**2 * sympy.floor(a * 10) + 1, {a: [Fraction(1, 2)], R: [224]}).dtype
dtype('int64')
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from .rounding import MakeDivisible, round_to_multiple

#: Numerators at or past this bound leave int64 for Python ints (object arrays).
INT64_SAFE = 2 ** 62
_INT64 = 2 ** 63
_FLOAT_EXACT = 2 ** 53


class Unsupported(ValueError):
    """An expression the evaluator does not know (a function other than floor, ceiling,
    MakeDivisible, Max, Min, Abs, Mod; a non-integer power)."""


# --- exact rationals, vectorized: (numerators, one positive denominator) -----------------------

def _magnitude(x: Any) -> int:
    if isinstance(x, np.ndarray):
        if not x.size:
            return 0
        return int(np.abs(x).max()) if x.dtype != object else max(abs(v) for v in x.flat)
    return abs(int(x))


def _widen(x: Any) -> Any:
    return x.astype(object) if isinstance(x, np.ndarray) and x.dtype != object else x


def _fit(bound: int, *xs: Any) -> tuple[Any, ...]:
    """``xs`` as they are while ``bound`` (on any result of an operation on them) fits int64;
    as object arrays of Python ints otherwise."""
    return xs if bound < INT64_SAFE else tuple(_widen(x) for x in xs)


def _gcd(x: Any) -> int:
    if not isinstance(x, np.ndarray):
        return abs(int(x))
    if not x.size:
        return 0
    flat = x.reshape(-1)
    return int(np.gcd.reduce(flat)) if x.dtype != object else math.gcd(*flat.tolist())


def _common(args: Sequence[tuple[Any, int]]) -> tuple[list, int]:
    """Numerators over one common denominator."""
    den = math.lcm(*(d for _, d in args))
    nums = [_fit(_magnitude(n) * (den // d), n)[0] * (den // d) for n, d in args]
    return nums, den


def rational(expr: sympy.Expr, env: Mapping[sympy.Symbol, tuple[Any, int]],
             memo: dict | None = None) -> tuple[Any, int]:
    """``expr`` at every point of ``env`` (symbol -> (numerators, denominator), arrays of one
    length): its exact values as (numerators, one positive denominator)."""
    memo = {} if memo is None else memo
    if expr in memo:
        return memo[expr]
    if expr.is_Symbol:
        result = env[expr]
    elif expr.is_Rational:
        result = (int(expr.p), int(expr.q))
    else:
        result = _apply(expr, [rational(a, env, memo) for a in expr.args])
    memo[expr] = result
    return result


def _apply(expr: sympy.Expr, args: list[tuple[Any, int]]) -> tuple[Any, int]:
    func = expr.func
    if expr.is_Add:
        nums, den = _common(args)
        nums = _fit(len(nums) * max(map(_magnitude, nums)), *nums)
        return sum(nums[1:], nums[0]), den
    if expr.is_Mul:
        num, den = args[0]
        for n, d in args[1:]:
            num, n = _fit(_magnitude(num) * _magnitude(n), num, n)
            num, den = num * n, den * d
            g = math.gcd(den, _gcd(num))
            if g > 1:
                num, den = num // g, den // g
        return num, den
    if expr.is_Pow and expr.exp.is_Integer:
        (num, den), e = args[0], int(expr.exp)
        if e < 0:
            if np.any(np.asarray(num) == 0):
                raise ZeroDivisionError(f"{expr} at 0")
            num, den, e = den * np.sign(num), abs(num), -e
            if isinstance(den, np.ndarray):  # a denominator per point: only as a whole
                raise Unsupported(expr)
        (num,) = _fit(max(_magnitude(num), den) ** e, num)
        return num ** e, den ** e
    if func in (sympy.floor, sympy.ceiling):
        num, den = args[0]
        return (num // den if func is sympy.floor else -((-num) // den)), 1
    if func is MakeDivisible:
        (value, den), (d, dd), (m, md) = args
        if dd != 1 or md != 1:
            raise Unsupported(expr)
        value, d, m = _fit(20 * (_magnitude(value) + (_magnitude(d) + _magnitude(m)) * den),
                           value, d, m)
        return round_to_multiple(value, d, m, den), 1
    if func in (sympy.Max, sympy.Min):
        nums, den = _common(args)
        pick = np.maximum if func is sympy.Max else np.minimum
        return pick.reduce(np.broadcast_arrays(*nums)), den
    if func is sympy.Abs:
        return abs(args[0][0]), args[0][1]
    if func is sympy.Mod:
        (a, b), den = _common(args)
        return a % b, den
    raise Unsupported(expr)


def numerators(values: Sequence[Any]) -> tuple[np.ndarray, int]:
    """Exact numbers (ints, Fractions, sympy Rationals) as numerators over one denominator."""
    pairs = [(int(v.p), int(v.q)) if isinstance(v, sympy.Basic) else
             (Fraction(v).numerator, Fraction(v).denominator) for v in values]
    den = math.lcm(*(q for _, q in pairs)) if pairs else 1
    nums = [p * (den // q) for p, q in pairs]
    dtype = np.int64 if max(map(abs, nums), default=0) < INT64_SAFE else object
    return np.array(nums, dtype=dtype), den


def over_axes(expr: sympy.Expr, symbols: Sequence[sympy.Symbol],
              axes: Sequence[tuple[np.ndarray, int]], which: tuple[int, ...],
              memo: dict | None = None) -> tuple[Any, int]:
    """``expr`` (free symbols among ``symbols[i]`` for i in ``which``) over the product of
    those axes (``axes[i]``: numerators and denominator of each value), flat in C order."""
    grids = np.meshgrid(*(axes[i][0] for i in which), indexing="ij") if which else []
    env = {symbols[i]: (grid.reshape(-1), axes[i][1]) for i, grid in zip(which, grids)}
    num, den = rational(expr, env, memo)
    n = math.prod(len(axes[i][0]) for i in which)
    return np.broadcast_to(np.asarray(num, dtype=num.dtype if isinstance(num, np.ndarray)
                                      else object if abs(num) >= INT64_SAFE else np.int64),
                           (n,)), den


# --- polynomials in atoms -----------------------------------------------------------------------

def atoms(expr: sympy.Expr, out: set | None = None) -> set:
    """The outermost non-polynomial pieces of ``expr`` (and its bare symbols)."""
    out = set() if out is None else out
    if expr.is_Symbol:
        out.add(expr)
    elif expr.is_Number:
        pass
    elif expr.is_Add or expr.is_Mul:
        for arg in expr.args:
            atoms(arg, out)
    elif expr.is_Pow and expr.exp.is_Integer and expr.exp > 0:
        atoms(expr.base, out)
    else:
        out.add(expr)
    return out


@dataclass(frozen=True)
class Polynomial:
    """A count as integer coefficients over a common denominator × monomials in atoms."""

    terms: tuple[tuple[tuple[int, ...], int], ...]
    denominator: int


@dataclass(frozen=True)
class Compiled:
    """Closed forms as polynomials in atoms, ready to evaluate over a grid of ``symbols``."""

    symbols: tuple[sympy.Symbol, ...]            # in axis order
    atoms: tuple[sympy.Expr, ...]
    atom_axes: tuple[tuple[int, ...], ...]       # indices into ``symbols``
    forms: dict[str, Polynomial]


def compile_forms(exprs: Mapping[str, Any], symbols: Sequence[sympy.Symbol]) -> Compiled:
    """``exprs`` (name -> closed form in ``symbols``) as polynomials in their atoms."""
    exprs = {name: sympy.sympify(expr, strict=True) for name, expr in exprs.items()}
    found: set = set()
    for expr in exprs.values():
        atoms(expr, found)
    ordered = tuple(sorted(found, key=sympy.default_sort_key))
    stray = {str(s) for a in ordered for s in a.free_symbols} - {str(s) for s in symbols}
    if stray:
        raise Unsupported(f"the closed forms depend on unexpected symbols {sorted(stray)}")
    placeholders = [sympy.Dummy(f"atom{i}") for i in range(len(ordered))]
    swap = dict(zip(ordered, placeholders))
    forms = {}
    for name, expr in exprs.items():
        raw = sympy.Poly(expr.xreplace(swap), *placeholders).terms() if placeholders \
            else [((), expr)]
        coefficients = [sympy.Rational(c) for _, c in raw]
        den = math.lcm(*(int(c.q) for c in coefficients)) if coefficients else 1
        forms[name] = Polynomial(tuple((tuple(m), int(c * den)) for (m, _), c
                                       in zip(raw, coefficients) if c != 0), den)
    index = {s: i for i, s in enumerate(symbols)}
    atom_axes = tuple(tuple(sorted(index[s] for s in a.free_symbols)) for a in ordered)
    return Compiled(tuple(symbols), ordered, atom_axes, forms)


def _shaped(values: Any, which: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """Flat values over the product of axes ``which``, reshaped to broadcast to ``shape``."""
    return values.reshape([shape[i] if i in which else 1 for i in range(len(shape))])


def _groups(terms, atom_level: list[int], level: int) -> dict[tuple[int, ...], list]:
    """The terms grouped by their monomial in the atoms of axis ``level`` (the key), each
    with that part of the monomial set to 1."""
    here = [i for i, lv in enumerate(atom_level) if lv == level]
    groups: dict[tuple[int, ...], list] = defaultdict(list)
    for monom, coeff in terms:
        rest = tuple(0 if atom_level[i] == level else e for i, e in enumerate(monom))
        groups[tuple(monom[i] for i in here)].append((rest, coeff))
    return groups


def _factor(key: tuple[int, ...], here: list[int], atoms_: list, powers: dict) -> Any:
    factor: Any = 1
    for i, e in zip(here, key):
        if e:
            if (i, e) not in powers:
                powers[(i, e)] = atoms_[i] ** e
            factor = factor * powers[(i, e)]
    return factor


def _polynomial(terms, atoms_: list, atom_level: list[int], level: int, powers: dict) -> Any:
    """Σ coefficient × monomial, peeling one axis per level: the terms are grouped by their
    monomial in the atoms of axis ``level``, whose sub-sum is evaluated on the smaller grid of
    the other axes first. Only a handful of operations then touch the whole grid."""
    if level < 0:
        return sum(c for _, c in terms)
    here = [i for i, lv in enumerate(atom_level) if lv == level]
    total: Any = 0
    for key, group in _groups(terms, atom_level, level).items():
        inner = _polynomial(group, atoms_, atom_level, level - 1, powers)
        total = total + inner * _factor(key, here, atoms_, powers)
    return total


def _matmul(terms, atoms_: list, atom_level: list[int], top: int,
            shape: tuple[int, ...]) -> np.ndarray | None:
    """The top level of :func:`_polynomial` as one float64 matrix product (BLAS),
    Σ_k inner_k(other axes) × factor_k(axis ``top``): exact when a bound on every partial sum
    is below 2**53 (the caller checks). None when a term does not separate that way."""
    level = len(shape) - 1
    here = [i for i, lv in enumerate(atom_level) if lv == level]
    lower = tuple(1 if k == top else n for k, n in enumerate(shape))
    inners, factors = [], []
    for key, group in _groups(terms, atom_level, level).items():
        inner = np.asarray(_polynomial(group, atoms_, atom_level, level - 1, {}))
        factor = np.asarray(_factor(key, here, atoms_, {}))
        if any(n != 1 for k, n in enumerate(factor.shape) if k != top) or \
                (inner.ndim and inner.shape[top] != 1):
            return None
        inners.append(np.broadcast_to(inner, lower).reshape(-1).astype(np.float64))
        factors.append(np.broadcast_to(factor.reshape(-1), (shape[top],)).astype(np.float64))
    product = np.stack(inners, axis=1) @ np.stack(factors, axis=0)  # (others, top)
    others = [n for k, n in enumerate(shape) if k != top]
    return np.moveaxis(product.reshape(*others, shape[top]), -1, top).astype(np.int64)


def _levels(compiled: Compiled, ndim: int) -> list[int]:
    """A level per axis (ndim - 1 is evaluated on the whole grid): the axis whose atoms form
    the fewest distinct monomials goes on top."""
    def distinct(axis: int) -> int:
        here = [i for i, axes in enumerate(compiled.atom_axes) if axis in axes]
        return len({tuple(m[i] for i in here) for p in compiled.forms.values()
                    for m, _ in p.terms})
    levels = [0] * ndim
    for level, axis in enumerate(sorted(range(ndim), key=lambda a: -distinct(a))):
        levels[axis] = level
    return levels


def evaluate_compiled(compiled: Compiled, axes: Sequence[tuple[np.ndarray, int]],
                      memos: dict | None = None) -> dict[str, tuple[np.ndarray, int]]:
    """Each form over the product of ``axes`` (each axis's exact values as
    :func:`numerators`), exactly: name -> (integer numerators shaped by the axes, one positive
    denominator). The numerators are int64 where they fit, Python ints past int64."""
    shape = tuple(len(num) for num, _ in axes)
    memos = defaultdict(dict) if memos is None else memos
    found = [over_axes(a, compiled.symbols, axes, which, memos[which])
             for a, which in zip(compiled.atoms, compiled.atom_axes)]
    atom_nums = [_shaped(num, which, shape) for (num, _), which in zip(found,
                                                                      compiled.atom_axes)]
    dens = [den for _, den in found]
    maxima = [_magnitude(num) for num, _ in found]
    levels = _levels(compiled, len(shape))
    atom_level = [max((levels[i] for i in which), default=-1) for which in compiled.atom_axes]
    results = {}
    for name, poly in compiled.forms.items():
        # Σ c·Π (n/d)^e over D = lcm of the monomials' denominators: integer coefficients
        weights = [math.prod(d ** e for d, e in zip(dens, monom)) for monom, _ in poly.terms]
        scale = math.lcm(*weights) if weights else 1
        terms = [(m, c * (scale // w)) for (m, c), w in zip(poly.terms, weights)]
        bound = sum(abs(c) * math.prod(x ** e for x, e in zip(maxima, m)) for m, c in terms)
        wide = bound >= _INT64
        nums = [_widen(a) for a in atom_nums] if wide else atom_nums
        value = None
        if len(shape) >= 2 and bound < _FLOAT_EXACT:
            value = _matmul(terms, nums, atom_level, levels.index(len(shape) - 1), shape)
        if value is None:
            value = _polynomial(terms, nums, atom_level, len(shape) - 1, {})
        value = np.broadcast_to(np.asarray(value, dtype=object if wide else np.int64), shape)
        den = poly.denominator * scale
        g = math.gcd(den, _gcd(value)) if den != 1 else 1
        results[name] = (value // g if g > 1 else value, den // g if g > 1 else den)
    return results


def evaluate(expr: Any, axes: Mapping[sympy.Symbol, Sequence[Any]]) -> np.ndarray:
    """``expr`` exactly over the product of ``axes`` (symbol -> exact values: ints,
    Fractions, sympy Rationals): int64 where every value is a whole number that fits, Python
    ints (object array) past int64, Fractions (object array) where some value is not whole."""
    compiled = compile_forms({"value": expr}, tuple(axes))
    num, den = evaluate_compiled(compiled, [numerators(v) for v in axes.values()])["value"]
    if den == 1:
        return num
    return np.vectorize(lambda n: Fraction(int(n), den), otypes=[object])(num)


def point_function(exprs: Mapping[str, Any], symbols: Sequence[sympy.Symbol]):
    """``exprs`` (name -> closed form in ``symbols``) compiled once, for many single points:
    returns ``at(*values)`` -> {name: exact value (int or Fraction)}, values in the order of
    ``symbols``. (Compiling is the costly part; a point then takes about a millisecond.)"""
    compiled = compile_forms(exprs, symbols)

    def at(*values: Any) -> dict[str, int | Fraction]:
        results = evaluate_compiled(compiled, [numerators([v]) for v in values])
        return {name: _number(int(num.reshape(-1)[0]), den)
                for name, (num, den) in results.items()}
    return at


def _number(numerator: int, denominator: int) -> int | Fraction:
    value = Fraction(numerator, denominator)
    return value.numerator if value.denominator == 1 else value
