"""The ReLU-collapse experiment of MobileNet v2 (Sandler et al., arXiv 1801.04381, Fig. 1).

Why it matters for a cost model: MobileNet v2 spends MACs on expanding thin feature maps before
each ReLU and keeps its bottleneck outputs linear.  The paper motivates that design with a toy
experiment: embed a 2-D spiral ``x`` in ``m`` dimensions with a random matrix ``T`` (m×2), apply
ReLU, and map back with the Moore–Penrose pseudo-inverse,

    x̃ = pinv(T) · ReLU(T · x).

With few dimensions (m = 2, 3) many points end up where fewer than two ReLU units are active:
their neighbourhood is flattened onto a line or a point, and that information cannot be
recovered.  With many dimensions (m = 15, 30) every point keeps at least two active units and
the spiral survives, merely distorted.

Two measures are reported per m:

* ``errors``: the relative reconstruction error ‖x̃ − x‖ / ‖x‖.  It does *not* go to zero: for
  a standard-normal T, E[t·tᵀ·1{t·x > 0}] = I/2 (t and −t are equally likely), so
  pinv(T)·ReLU(T·x) tends to x/2 and the error to 0.5 as m grows.  That is a statement about
  the average over T, approached from above: the mean over 40 draws is 0.56 at m = 15, 0.54
  at m = 30, 0.515 at m = 100 and 0.502 at m = 1000 (tests/test_collapse.py checks it).  One
  draw of T scatters around it by about ±0.05 at m = 15–30 (seed 0 gives 0.53 and 0.67).  At
  small m it is larger and erratic (pinv of a nearly singular 2×2 T can blow up).
* ``collapsed``: the share of points with fewer than two active units, i.e. the points whose
  2-D neighbourhood has been crushed.  This is the paper's "information loss" and it does go to
  zero: for m = 2 it is at least one half for any T, for m = 30 it is zero in practice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from costmodel import limits
from costmodel.errors import CostModelError

__all__ = ["DEFAULT_M", "CollapseResult", "spiral", "random_transform", "relu_roundtrip",
           "relative_error", "collapsed_share", "collapse"]

DEFAULT_M = (2, 3, 5, 15, 30)
#: What the error does as m grows (see the module docstring).
ERROR_NOTE = ("Averaged over T it falls towards 0.5 as m grows (half the units pass the ReLU, "
              "so x̃ → x/2; mean 0.54 at m = 30); one T, as here, scatters around that.")
TITLE = "Output of ReLU(T·x) mapped back with T⁺ (MobileNet v2, arXiv 1801.04381, Fig. 1)"


def spiral(n: int = 1000, turns: float = 2.0, inner_radius: float = 0.05) -> np.ndarray:
    """A 2-D Archimedean spiral centred on the origin, as a (2, n) array.

    Points are evenly spaced in angle, so with whole turns every direction from the origin is
    sampled equally often; that makes the collapsed share a fair fraction of directions.  The
    spiral starts at ``inner_radius`` rather than 0 because ReLU maps the origin to itself and
    the point would count as collapsed whatever m is.
    """
    if n < 2:
        raise CostModelError(f"spiral needs n >= 2 points, got n={n}")
    t = np.linspace(0.0, 1.0, n)
    angle = 2.0 * math.pi * turns * t
    radius = inner_radius + (1.0 - inner_radius) * t
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)])


def random_transform(m: int, seed: int = 0) -> np.ndarray:
    """The m×2 standard-normal embedding T for one m.

    The generator is ``np.random.default_rng((seed, m))``: keyed by m as well as the seed, so the
    T for a given m does not depend on which other m values are asked for in the same run.
    """
    if m < 1:
        raise CostModelError(f"embedding dimension m must be >= 1, got m={m}")
    return np.random.default_rng((seed, m)).standard_normal((m, 2))


def relu_roundtrip(x: np.ndarray, transform: np.ndarray) -> np.ndarray:
    """x̃ = pinv(T) · ReLU(T · x): embed, rectify, and project back with the pseudo-inverse."""
    return np.linalg.pinv(transform) @ np.maximum(transform @ x, 0.0)


def relative_error(approx: np.ndarray, exact: np.ndarray) -> float:
    """‖approx − exact‖ / ‖exact‖ in the Frobenius norm."""
    return float(np.linalg.norm(approx - exact) / np.linalg.norm(exact))


def collapsed_share(x: np.ndarray, transform: np.ndarray) -> float:
    """Share of points where fewer than two ReLU units are active (T·x > 0).

    Near such a point ReLU(T·x) varies along at most one direction, so a 2-D neighbourhood is
    squeezed onto a line or a point and no linear map can undo it.  (With a standard-normal T no
    two rows are parallel, so "two active units" is the same as "the active rows have rank 2".)
    """
    active_units = np.count_nonzero(transform @ x > 0.0, axis=0)
    return float(np.mean(active_units < 2))


@dataclass(frozen=True, eq=False)
class CollapseResult:
    """Input spiral and, per embedding dimension m, T, x̃ and the two measures (same order as
    ``m_values``).  Arrays are read-only so a result can be shared safely."""

    x: np.ndarray
    m_values: tuple[int, ...]
    transforms: tuple[np.ndarray, ...]
    reconstructions: tuple[np.ndarray, ...]
    errors: tuple[float, ...]
    collapsed: tuple[float, ...]
    seed: int

    def error(self, m: int) -> float:
        """Relative reconstruction error for one m."""
        return self.errors[self.m_values.index(m)]

    def collapsed_at(self, m: int) -> float:
        """Collapsed share of points for one m."""
        return self.collapsed[self.m_values.index(m)]

    def reconstruction(self, m: int) -> np.ndarray:
        """x̃ for one m, shape (2, n)."""
        return self.reconstructions[self.m_values.index(m)]


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def check_sizes(m_values: tuple[int, ...], n: int) -> None:
    """Refuse, before any array is made, sizes beyond the limits of :mod:`costmodel.limits`
    (the arrays hold n × m numbers per m)."""
    if not 2 <= n <= limits.MAX_COLLAPSE_POINTS:
        raise CostModelError(f"--n {n}: give 2 to {limits.MAX_COLLAPSE_POINTS:,} points (limit "
                             "MAX_COLLAPSE_POINTS)")
    if len(m_values) > limits.MAX_COLLAPSE_RUNS:
        raise CostModelError(f"--m lists {len(m_values)} dimensions; at most "
                             f"{limits.MAX_COLLAPSE_RUNS} (limit MAX_COLLAPSE_RUNS)")
    for m in m_values:
        if not 1 <= m <= limits.MAX_COLLAPSE_DIMENSION:
            raise CostModelError(f"--m {m}: give dimensions from 1 to "
                                 f"{limits.MAX_COLLAPSE_DIMENSION:,} (limit "
                                 "MAX_COLLAPSE_DIMENSION)")
    cells = n * sum(m_values)
    if cells > limits.MAX_COLLAPSE_CELLS:
        raise CostModelError(f"--n {n} points in {sum(m_values):,} dimensions in all make "
                             f"{cells:,} numbers; at most {limits.MAX_COLLAPSE_CELLS:,} (limit "
                             "MAX_COLLAPSE_CELLS): fewer points or smaller m")


def collapse(m_values: tuple[int, ...] = DEFAULT_M, n: int = 1000, seed: int = 0,
             turns: float = 2.0) -> CollapseResult:
    """Run the experiment for each m; the same arguments always give identical arrays."""
    m_values = tuple(int(m) for m in m_values)
    if not m_values:
        raise CostModelError("collapse needs at least one embedding dimension m")
    check_sizes(m_values, n)
    x = _read_only(spiral(n, turns))
    transforms = tuple(_read_only(random_transform(m, seed)) for m in m_values)
    recon = tuple(_read_only(relu_roundtrip(x, t)) for t in transforms)
    return CollapseResult(
        x=x,
        m_values=m_values,
        transforms=transforms,
        reconstructions=recon,
        errors=tuple(relative_error(r, x) for r in recon),
        collapsed=tuple(collapsed_share(x, t) for t in transforms),
        seed=seed,
    )
