"""Sweeps: exact MACs, params and activations over a grid of knob values, from closed forms.

``sweep("mobilenet_v2", {"alpha": "0.35:1.4:0.05", "resolution": "96:224:32"})`` covers the
Cartesian product of the lists. It does not build one network per grid point (about 20 ms
each, and 0.1 s for a PyTorch-based counter): the network is built once with every swept
numeric knob as a sympy symbol, and its closed forms are compiled for numpy.

How the closed forms are evaluated, exactly:

* The closed forms are evaluated by :mod:`costmodel.core.evaluate`: each total is a
  polynomial in a few *atoms* (``MakeDivisible(16*alpha, 8, 8)``, ``floor(R/2 - 1/2)``...),
  each atom is evaluated exactly once per value of its own knobs, and the polynomial over the
  broadcast grid in int64 (Python ints past the int64 bound). Every count is exact at every
  size. Counts that are not whole (``rounding=none`` widths c·alpha) are float64.
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

import itertools
import math
import random
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sympy import Rational

from .. import limits
from ..core.conventions import convention as get_convention
from ..core.network import exact
from ..core.numbers import plain
from ..errors import CostModelError
from ..zoo import ModelRef, resolve
from .memory import dtype_bytes, traffic_bytes
from .closed_forms import (COUNTS, MEMORY, Progress, Redo, columns, common_dtype,
                           compile_network, evaluate_network, point_counts)
from .grid import _NUMBER, Axis, describe_point, knob_symbol, list_size, make_axes

__all__ = ["COUNTS", "MAX_POINTS", "MEMORY", "Progress", "SweepResult", "sweep"]

#: Largest grid a sweep computes (10^8 points take about 4 GB per count column).
MAX_POINTS = limits.MAX_GRID_POINTS


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
    dtype: str | None = None                 # with memory columns: their element type

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
            record = {k: plain(v) for k, v in self.knob_values(r).items()}
            record.update({c: count(self.counts[c][r]) for c in self.count_columns})
            out.append(record)
        return out

    def frame(self):
        """A pandas DataFrame: the knob columns, then macs, flops, params, activations (and
        traffic_bytes with a dtype)."""
        import pandas as pd

        return pd.DataFrame({name: self.column(name) for name in self.columns})

    @property
    def count_columns(self) -> tuple[str, ...]:
        return columns(self.dtype)

    @property
    def columns(self) -> list[str]:
        return [a.name for a in self.axes] + list(self.count_columns)


def count(value: Any) -> Any:
    """One grid point's count as a plain Python number (int, or float where not whole)."""
    return value.item() if isinstance(value, np.generic) else value


def sweep(spec: str, lists: Mapping[str, str | Sequence[Any]], convention: str = "paper",
          check: int = 4, progress: Progress | None = None, seed: int = 0,
          verify: bool = True, dtype: str | None = None) -> SweepResult:
    """MACs, FLOPs, params and activations at every point of the product of ``lists``
    (knob name -> LIST text or values), computed from compiled closed forms, recomputed where
    their assumptions fail, and checked against networks built one by one at a few points
    (see the module docstring): the corners, special values and ``check`` random points.
    ``verify=False`` skips those checks altogether (``check=0`` keeps the corners and
    special values). With ``dtype`` (fp32, fp16, int8) every point also gets
    ``traffic_bytes`` (:func:`costmodel.analysis.memory.traffic_bytes`), compiled, repaired and
    checked with the other counts."""
    get_convention(convention)
    if dtype is not None:
        dtype_bytes(dtype)  # an unknown dtype is refused before any work
    if not 0 <= check <= limits.MAX_SWEEP_CHECKS:
        raise CostModelError(f"--check {check}: check 0 to {limits.MAX_SWEEP_CHECKS:,} random "
                             "points (limit MAX_SWEEP_CHECKS; each is a network built)")
    progress = progress or Progress()
    ref = resolve(spec, "sweeps")
    points = math.prod(list_size(raw, name) for name, raw in lists.items())
    if points > MAX_POINTS:  # before any value is read: a refusal takes no time
        raise CostModelError(f"the grid has {points:,} points; at most {MAX_POINTS:,} (limit "
                             "MAX_GRID_POINTS; sweep fewer values)")
    axes = make_axes(ref, lists)
    points = math.prod(len(a.values) for a in axes)
    if points > MAX_POINTS:
        raise CostModelError(f"the grid has {points:,} points; at most {MAX_POINTS:,} (limit "
                             "MAX_GRID_POINTS; sweep fewer values)")
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
                                progress, seed, dtype)
            builds += used
            break
        except _Attempt as failed:
            builds += failed.builds
            if not symbolic:
                raise RuntimeError("a grid without symbolic knobs cannot mismatch") from None
            order = [a for a in drop_order if a.name in symbolic]
            drop, tried = _culprit(ref, order, failed, convention, dtype)
            builds += tried
            symbolic = [name for name in symbolic if name != drop]
    counts, exact, checked, recomputed, recomputed_by, timings = result
    grouped = tuple(a.name for a in axes if a.name not in symbolic and len(a.values) > 1)
    timings["total"] = time.perf_counter() - start
    return SweepResult(ref.name, convention, axes, fixed, counts, exact, tuple(symbolic),
                       grouped, builds, checked, recomputed=recomputed,
                       recomputed_by=recomputed_by, timings=timings, dtype=dtype)


class _Attempt(Exception):
    """This choice of symbolic knobs does not give the networks' counts: the symbolic build
    failed at ``point`` (the grouped knobs' values), or its counts differ from ``truth`` there
    (every knob's value)."""

    def __init__(self, reason: str, builds: int, point: dict[str, Any],
                 truth: dict[str, Any] | None = None):
        super().__init__(reason)
        self.builds, self.point, self.truth = builds, point, truth


def _culprit(ref: ModelRef, order: list[Axis], failed: _Attempt,
             convention: str, dtype: str | None = None) -> tuple[str, int]:
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
            values.update({a.name: knob_symbol(a) for a in others})
            tried += 1
            try:
                network = ref.build(**values)
                if failed.truth is not None:
                    at = {knob_symbol(a): failed.point[a.name] for a in others}
                    got = network.evaluate(at, convention_name=convention)
                    if dtype:
                        got["traffic_bytes"] = exact(traffic_bytes(network, dtype).subs(at))
                    if any(not _agrees(got[k], failed.truth[k], False) for k in failed.truth):
                        continue
            except Exception:  # noqa: BLE001 - this knob is not the (only) one
                continue
            return axis.name, tried
    return order[0].name, tried


def _run(ref: ModelRef, axes: list[Axis], symbolic: list[str], convention: str,
         check: int | None, progress: Progress, seed: int, dtype: str | None = None):
    """One attempt at the grid with the knobs ``symbolic`` as symbols, the others grouped
    (``check`` None: no verification). Raises _Attempt when this choice does not work."""
    shape = tuple(len(a.values) for a in axes)
    sym_pos = [k for k, a in enumerate(axes) if a.name in symbolic]
    group_pos = [k for k in range(len(axes)) if k not in sym_pos]
    symbols = tuple(knob_symbol(axes[k]) for k in sym_pos)
    sym_values = [list(axes[k].values) for k in sym_pos]
    groups = list(itertools.product(*(range(shape[k]) for k in group_pos)))
    out = {name: None for name in columns(dtype)}
    exact, builds, checked = True, 0, 0
    timings = dict.fromkeys(("build", "compile", "evaluate", "assumptions", "check"), 0.0)
    clock = time.perf_counter
    rng = random.Random(seed)
    per_group = -(-(check or 0) // len(groups))  # random checks: about ``check`` in all
    redo = Redo(ref, axes, convention, progress, dtype)
    steps = 3 if sym_pos else 1  # build and compile, evaluate, check
    advance = progress.task("sweeping: compiling, evaluating, checking" if sym_pos else
                            "building networks one by one", steps * len(groups)) \
        if len(groups) > 1 or math.prod(shape) > 200_000 else (lambda n=1: None)
    for group in groups:
        values = {axes[k].name: axes[k].values[i] for k, i in zip(group_pos, group)}
        values.update({axes[k].name: s for k, s in zip(sym_pos, symbols)})
        start = clock()
        try:
            network = ref.build(**values)
            builds += 1
            timings["build"] += clock() - start
            start = clock()
            compiled = compile_network(network, symbols, convention, dtype)
            timings["compile"] += clock() - start
            if sym_pos:
                advance(1)
            start = clock()
            grid = evaluate_network(compiled, sym_values)
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
            ref.build(**point)  # raises the error `compare` gives for this point
            raise CostModelError(f"{ref.name}: the network cannot take "
                                 f"{describe_point(point)}")
        start = clock()
        if sym_pos and check is not None:
            for sub in _samples(grid.counts["macs"].shape, axes, sym_pos, per_group, rng):
                point = _point(axes, group_pos, group, sym_pos, sub)
                try:
                    one = ref.build(**point)
                except CostModelError as exc:
                    raise CostModelError(f"{exc} (at {describe_point(point)})") from None
                builds += 1
                checked += 1
                truth = point_counts(one, convention, dtype)
                for name in truth:
                    got = count(grid.counts[name][sub])
                    want = truth[name]
                    if not _agrees(got, want, grid.exact):
                        raise _Attempt(f"{name} at {describe_point(point)}: {got} != {want}",
                                       builds + redo.builds, point, truth)
        timings["check"] += clock() - start
        start = clock()
        exact = exact and grid.exact
        for name in out:
            array = grid.counts[name]
            if out[name] is None:
                out[name] = np.empty(shape, dtype=array.dtype)
            elif out[name].dtype != array.dtype:
                out[name] = out[name].astype(common_dtype(out[name].dtype, array.dtype))
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


def _at_point(exc: Exception, axes, group_pos, group) -> CostModelError:
    point = {axes[k].name: axes[k].values[i] for k, i in zip(group_pos, group)}
    return CostModelError(f"{exc} (at {describe_point(point)})" if point else str(exc))


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
