"""A network's closed forms over a grid of knob values, exactly, and the grid points where
they do not hold recomputed (see :mod:`costmodel.analysis.sweep`).

The counts come from the one exact evaluator, :mod:`costmodel.core.evaluate`. Where a spec
compares a symbolic value (``if t != 1``, a residual add that exists only while two rounded
widths differ), the symbolic build takes the values as different and records the condition
``Ne(a, b)`` (``Network.assumptions``); :func:`assumption_failures` finds the points where one
fails and :class:`Redo` recomputes exactly those.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from ..core.network import exact
from ..core.evaluate import Compiled, compile_forms, evaluate_compiled, numerators, over_axes
from ..errors import CostModelError
from ..zoo import ModelRef
from . import memory
from .grid import Axis, describe_point

#: The count columns of a sweep, after the knob columns.
COUNTS = ("macs", "flops", "params", "activations")
#: The memory columns a sweep adds with a dtype (:mod:`costmodel.analysis.memory`): feature
#: maps read and written and weights read by every kernel, in bytes. Peak activation memory
#: is not among them: it is a Max over the liveness totals of every step, no polynomial in
#: atoms (sympy takes about 4 s just to form that Max for MobileNet v2; see the README).
MEMORY = ("traffic_bytes",)


def columns(dtype: str | None) -> tuple[str, ...]:
    """The count columns of a sweep: COUNTS, and MEMORY when a dtype is given."""
    return COUNTS + MEMORY if dtype else COUNTS


class Progress:
    """Progress reports of a long sweep; the default reports nothing. The CLI passes a rich
    progress bar."""

    def task(self, description: str, total: int) -> Callable[[int], None]:
        return lambda advance=1: None


@dataclass(frozen=True)
class NetworkForms:
    """One network's closed forms (MACs, params, activations) compiled for a grid, and its
    symbolic spatial sizes (each must be at least 1 at every point)."""

    compiled: Compiled
    sizes: tuple[sympy.Expr, ...]


def compile_network(network, symbols: Sequence[sympy.Symbol], convention: str,
                    dtype: str | None = None) -> NetworkForms:
    """Closed forms of MACs, params and activations (and, with a ``dtype``, memory traffic in
    bytes) as polynomials in atoms."""
    forms = {"macs": network.macs(convention), "params": network.params(convention),
             "activations": network.total.activations}
    if dtype:
        forms["traffic_bytes"] = memory.traffic_bytes(network, dtype)
    compiled = compile_forms(forms, symbols)
    sizes = {side for layer in network.layers for shape in (layer.output, *layer.inputs)
             for side in (shape.h, shape.w) if getattr(side, "free_symbols", None)}
    return NetworkForms(compiled, tuple(sorted(sizes, key=sympy.default_sort_key)))


@dataclass
class GridValues:
    """Counts over one group's sub-grid: arrays shaped by the symbolic axes."""

    counts: dict[str, np.ndarray]
    exact: bool                       # every value an exact integer
    invalid: np.ndarray | None        # True where an input is too small for the network


def counts_array(num: np.ndarray, den: int) -> tuple[np.ndarray, bool]:
    """Exact numerators over ``den`` as counts: integers (int64, or Python ints past int64)
    when whole, else float64 (idealized widths c·alpha); and whether they are whole."""
    if den == 1:
        return num, True
    if num.dtype == object:
        return np.array([float(Fraction(int(n), den)) for n in num.flat],
                        dtype=np.float64).reshape(num.shape), False
    return num / den, False


def doubled(macs: np.ndarray) -> np.ndarray:
    """FLOPs = 2 × MACs, exact: in Python ints where int64 would overflow."""
    if macs.dtype == np.int64 and macs.size and int(np.abs(macs).max()) >= 2 ** 62:
        macs = macs.astype(object)
    return 2 * macs


def common_dtype(a: np.dtype, b: np.dtype) -> type | np.dtype:
    """The dtype that holds counts of both: float64 if either is, else Python ints if either
    is, else int64."""
    if np.float64 in (a, b):
        return np.float64
    return object if object in (a, b) else np.int64


def evaluate_network(forms: NetworkForms, axis_values: Sequence[Sequence[Any]]) -> GridValues:
    """Exact counts over the product of ``axis_values`` (exact values per symbol)."""
    shape = tuple(len(v) for v in axis_values)
    memos: dict = defaultdict(dict)  # one per set of axes: a value's points depend on them
    axes = [numerators(values) for values in axis_values]
    counts, exact = {}, True
    for name, (num, den) in evaluate_compiled(forms.compiled, axes, memos).items():
        counts[name], whole = counts_array(num, den)
        exact = exact and whole
    counts["flops"] = doubled(counts["macs"]) if exact or counts["macs"].dtype != np.float64 \
        else 2.0 * counts["macs"]
    symbols = forms.compiled.symbols
    invalid = None
    for size in forms.sizes:
        which = tuple(sorted(symbols.index(s) for s in size.free_symbols))
        num, den = over_axes(size, symbols, axes, which, memos[which])
        bad = (num < den).reshape([shape[i] if i in which else 1 for i in range(len(shape))])
        invalid = bad if invalid is None else invalid | bad  # a side below 1 pixel
    if invalid is not None:
        invalid = np.broadcast_to(invalid, shape)
    return GridValues({k: counts[k] for k in COUNTS + tuple(forms.compiled.forms)
                       if k in counts}, exact, invalid)


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
    axes = [numerators(values) for values in axis_values]
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
        difference = sympy.sympify(condition.lhs - condition.rhs, strict=True)
        stray = {str(s) for s in difference.free_symbols if s not in index}
        if stray:
            raise RuntimeError(f"the assumption {condition} depends on unexpected symbols "
                               f"{sorted(stray)}")
        which = tuple(sorted(index[s] for s in difference.free_symbols))
        num, _ = over_axes(difference, symbols, axes, which, memos[which])
        return which, (num == 0).reshape([shape[i] if i in which else 1
                                          for i in range(len(shape))])

    failures: dict[tuple[int, ...], np.ndarray] = {}
    for condition in assumptions:
        which, failed = fails(condition)
        failed = np.asarray(failed).reshape([shape[i] if i in which else 1
                                             for i in range(len(shape))])
        if failed.any():
            failures[which] = failed | failures[which] if which in failures else failed
    return failures


#: A sub-grid of at most this many points, where an assumption of the closed forms fails, is
#: built point by point (a numeric build takes about 15 ms; a build with symbols, its
#: compilation and evaluation about 0.2 s).
ONE_BY_ONE = 12
#: Sub-grids recomputed, at least, for a progress report of their own.
PROGRESS_COMBOS = 10
#: ... or when it covers this many grid points
PROGRESS_POINTS = 1000


class Redo:
    """Recomputes the grid points where a network's assumptions fail (see the module
    docstring), counting the builds, the points recomputed and the knobs responsible."""

    def __init__(self, ref: ModelRef, axes: list[Axis], convention: str,
                 progress: Progress | None = None, dtype: str | None = None):
        self.ref, self.axes, self.convention, self.dtype = ref, axes, convention, dtype
        self.progress = progress or Progress()
        self.builds = 0
        self.points = 0
        self.knobs: set[str] = set()
        self._ticks = 0  # points built one by one since the top-level repair last advanced
        self._tick: Callable[[int], None] | None = None

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
        # the bar counts grid points, not failing conditions: one condition on one knob can
        # cover most of the grid, and its points built one by one advance it as they go
        covered = lambda which: math.prod(shape[j] for j in range(len(shape))  # noqa: E731
                                          if j not in which)
        points = sum(int(np.count_nonzero(f)) * covered(which) for which, f in failures.items())
        shown = top and (combos >= PROGRESS_COMBOS or points >= PROGRESS_POINTS)
        advance = self.progress.task("recomputing where an assumption fails", points) \
            if shown else (lambda n=1: None)
        if shown:
            self._tick = advance
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
                if redone[index].all():  # recomputed already, for another condition
                    advance(covered(which))
                    continue
                redone[index] = True
                point = dict(fixed)
                point.update({self.axes[pos[j]].name: self.axes[pos[j]].values[i]
                              for j, i in zip(which, combo)})
                args = (point, [pos[j] for j in rest], [symbols[j] for j in rest],
                        [values[j] for j in rest])
                # a condition on no knob at all cannot be lifted by fixing one: point by point
                sub = self.subgrid(*args) if which else self.one_by_one(*args[:2], args[3])
                for name in counts:
                    if counts[name].dtype != sub.counts[name].dtype:
                        counts[name] = counts[name].astype(
                            common_dtype(counts[name].dtype, sub.counts[name].dtype))
                    counts[name][index] = sub.counts[name]
                if shown:
                    advance(max(covered(which) - self._ticks, 0))
                    self._ticks = 0
                exact = exact and sub.exact
                if sub.invalid is not None or invalid is not None:
                    if invalid is None:
                        invalid = np.zeros(shape, dtype=bool)
                    invalid[index] = False if sub.invalid is None else sub.invalid
        if top:
            self.points += int(redone.sum())
            self._tick = None
        return GridValues(counts, exact, invalid)

    def subgrid(self, fixed: dict[str, Any], pos: list[int], symbols: list[sympy.Symbol],
                values: list[list]) -> GridValues:
        """Exact counts over the product of ``values`` (axes ``pos``), the other knobs at
        ``fixed``: built with those axes symbolic (its own failing assumptions recomputed in
        turn), or point by point when the sub-grid is small or cannot stay symbolic."""
        if math.prod(len(v) for v in values) > ONE_BY_ONE:
            knobs = dict(fixed)
            knobs.update({self.axes[k].name: s for k, s in zip(pos, symbols)})
            try:
                self.builds += 1
                network = self.ref.build(**knobs)
                grid = evaluate_network(compile_network(network, symbols, self.convention,
                                                        self.dtype), values)
            except Exception:  # noqa: BLE001 - e.g. a table lookup on a knob: point by point
                pass
            else:
                return self.repair(fixed, pos, symbols, values, network, grid)
        return self.one_by_one(fixed, pos, values)

    def one_by_one(self, fixed: dict[str, Any], pos: list[int],
                   values: list[list]) -> GridValues:
        """Counts over the product of ``values`` from networks built one by one."""
        shape = tuple(len(v) for v in values)
        found: dict[str, list] = {name: [] for name in ("macs", "params", "activations")
                                  + (MEMORY if self.dtype else ())}
        for combo in itertools.product(*(range(n) for n in shape)):
            point = dict(fixed)
            point.update({self.axes[k].name: self.axes[k].values[i] for k, i in zip(pos, combo)})
            point = {a.name: point[a.name] for a in self.axes if a.name in point}
            try:
                network = self.ref.build(**point)
            except CostModelError as exc:
                raise CostModelError(f"{exc} (at {describe_point(point)})") from None
            self.builds += 1
            if self._tick is not None:  # within a repair the bar shows
                self._tick(1)
                self._ticks += 1
            for name, value in point_counts(network, self.convention, self.dtype).items():
                found[name].append(value)
        counts, exact = {}, True
        for name, column in found.items():
            if all(isinstance(v, int) for v in column):
                fits = all(abs(v) < 2 ** 62 for v in column)
                counts[name] = np.array(column, dtype=np.int64 if fits else object)
            else:
                counts[name] = np.array([float(v) for v in column], dtype=np.float64)
                exact = False
            counts[name] = counts[name].reshape(shape)
        counts["flops"] = doubled(counts["macs"])
        return GridValues({k: counts[k] for k in columns(self.dtype)}, exact, None)


def point_counts(network, convention: str, dtype: str | None = None) -> dict[str, Any]:
    """One network's counts as a sweep has them (macs, params, activations, and with a
    ``dtype`` traffic_bytes): exact ints where whole."""
    found = dict(network.evaluate(convention_name=convention))
    if dtype:
        found["traffic_bytes"] = exact(memory.traffic_bytes(network, dtype))
    return found
