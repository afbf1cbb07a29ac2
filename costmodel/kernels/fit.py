"""Fit one small linear model: ``time ≈ Σ coefficient × feature``, every coefficient ≥ 0
(seconds per MAC, per byte, per operation, per call: a negative one would have no physical
reading), in relative terms (each sample's error divided by its measured time, so a 5 µs
kernel weighs as much as a 5 ms one). numpy only, deterministic.

Non-negative least squares by enumeration: every subset of the features (at most
``2**len(features)``, a handful here) is solved by ordinary weighted least squares, the subsets
whose solution has a negative coefficient are discarded, and the best of the rest is kept. The
optimum of the constrained problem is the unconstrained optimum of the features it leaves
non-zero, so this finds it exactly.

Timing noise on a shared machine gives outliers (a sample that ran while another job did);
:func:`fit_robust` refits once without the samples whose error is more than ``TRIM`` times the
median error, at most a tenth of them, and records how many it dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

TRIM = 4.0
IRLS_ITERATIONS = 4


@dataclass(frozen=True)
class LinearFit:
    """Coefficients by feature name, and the fit's relative errors on its samples."""

    coefficients: tuple[tuple[str, float], ...]
    errors: tuple[float, ...]
    dropped: int = 0

    def predict(self, row: Sequence[float], names: Sequence[str]) -> float:
        coefficients = dict(self.coefficients)
        return float(sum(coefficients.get(n, 0.0) * v for n, v in zip(names, row)))

    @property
    def median_abs_error(self) -> float:
        return float(np.median(np.abs(self.errors))) if self.errors else 0.0

    @property
    def max_abs_error(self) -> float:
        return float(np.max(np.abs(self.errors))) if self.errors else 0.0


def nonnegative_least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin ‖x·β − y‖² subject to β ≥ 0, for a few columns (see the module doc)."""
    n, f = x.shape
    best, best_residual = np.zeros(f), float(np.sum(y * y))
    for size in range(1, f + 1):
        for columns in itertools.combinations(range(f), size):
            sub = x[:, columns]
            solution, *_ = np.linalg.lstsq(sub, y, rcond=None)
            if np.any(solution < 0):
                continue
            residual = float(np.sum((sub @ solution - y) ** 2))
            if residual < best_residual - 1e-15 * max(1.0, best_residual):
                best = np.zeros(f)
                best[list(columns)] = solution
                best_residual = residual
    return best


def fit_relative(names: Sequence[str], rows: Sequence[Sequence[float]],
                 measured: Sequence[float], iterations: int = IRLS_ITERATIONS) -> LinearFit:
    """Coefficients ≥ 0 for relative errors that are unbiased on average: iteratively
    reweighted least squares with each sample weighted by 1 / prediction² (a gamma model
    with an identity link), started from weights 1 / measured². Dividing by the measured
    time alone would favour predictions below it (an error of −50% costs less than +100%),
    and a network's kernels would then sum short."""
    x = np.asarray(rows, dtype=float).reshape(len(measured), len(names))
    y = np.asarray(measured, dtype=float)
    if len(y) == 0:
        raise ValueError("no samples to fit")
    if np.any(y <= 0):
        raise ValueError("measured times must be positive")
    scale = np.max(np.abs(x / y[:, None]), axis=0)
    scale[scale == 0] = 1.0  # a feature that is 0 everywhere: its coefficient stays 0
    weight = 1 / y
    beta = np.zeros(len(names))
    for _ in range(iterations + 1):
        w = weight[:, None]
        beta = nonnegative_least_squares(x * w / scale, y * weight) / scale
        prediction = x @ beta
        weight = 1 / np.where(prediction > 0, prediction, y)
    errors = tuple(float(e) for e in (x @ beta) / y - 1)
    return LinearFit(tuple(zip(names, (float(b) for b in beta))), errors)


def fit_robust(names: Sequence[str], rows: Sequence[Sequence[float]],
               measured: Sequence[float]) -> LinearFit:
    """:func:`fit_relative`, refitted once without the worst outliers (module doc)."""
    return _refitted(lambda r, _, m: fit_relative(names, r, m), rows, [0.0] * len(measured),
                     measured)


def fit_offset(names: Sequence[str], rows: Sequence[Sequence[float]],
               offset: Sequence[float], measured: Sequence[float]) -> LinearFit:
    """Coefficients ≥ 0 for ``measured ≈ offset + Σ coefficient × feature`` in relative
    terms (each sample divided by its measured time): what a known part leaves."""
    x = np.asarray(rows, dtype=float).reshape(len(measured), len(names))
    y = np.asarray(measured, dtype=float)
    base = np.asarray(offset, dtype=float)
    if len(y) == 0 or np.any(y <= 0):
        raise ValueError("measured times must be positive")
    scaled = x / y[:, None]
    scale = np.max(np.abs(scaled), axis=0)
    scale[scale == 0] = 1.0
    beta = nonnegative_least_squares(scaled / scale, (y - base) / y) / scale
    errors = tuple(float(e) for e in (base + x @ beta) / y - 1)
    return LinearFit(tuple(zip(names, (float(b) for b in beta))), errors)


def _outliers(fit: LinearFit) -> set[int]:
    """The samples of the worst tenth whose error is beyond ``TRIM`` times the median (none
    below 10 samples)."""
    typical = fit.median_abs_error
    if len(fit.errors) < 10 or typical == 0:
        return set()
    order = sorted(range(len(fit.errors)), key=lambda i: -abs(fit.errors[i]))
    return {i for i in order[:len(fit.errors) // 10] if abs(fit.errors[i]) > TRIM * typical}


def fit_offset_robust(names: Sequence[str], rows: Sequence[Sequence[float]],
                      offset: Sequence[float], measured: Sequence[float]) -> LinearFit:
    """:func:`fit_offset`, refitted once without the worst outliers, as :func:`fit_robust`:
    one synthetic network the kernels over-predict by 100% would otherwise hold every
    in-context term at 0 (a term ≥ 0 can only make it worse). The errors are of every
    network."""
    return _refitted(lambda r, o, m: fit_offset(names, r, o, m), rows, offset, measured)


def _refitted(fit, rows: Sequence[Sequence[float]], offset: Sequence[float],
              measured: Sequence[float]) -> LinearFit:
    """``fit(rows, offset, measured)``, refitted once without :func:`_outliers`; the errors
    are of every sample, the count dropped recorded."""
    first = fit(rows, offset, measured)
    drop = _outliers(first)
    if not drop:
        return first
    keep = [i for i in range(len(measured)) if i not in drop]
    second = fit([rows[i] for i in keep], [offset[i] for i in keep],
                 [measured[i] for i in keep])
    x = np.asarray(rows, dtype=float).reshape(len(measured), -1)
    beta = np.array([c for _, c in second.coefficients])
    errors = tuple(float(e) for e in (np.asarray(offset, dtype=float) + x @ beta)
                   / np.asarray(measured, dtype=float) - 1)
    return LinearFit(second.coefficients, errors, len(drop))
