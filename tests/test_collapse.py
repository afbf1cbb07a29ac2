"""The MobileNet v2 ReLU-collapse experiment (arXiv 1801.04381, Fig. 1).

The assertions are properties that hold for any seed (with the stated margins), not values
measured once: ReLU(T·x) followed by pinv(T) keeps about half of x for large m, and a point is
lost when fewer than two units are active there.
"""

from __future__ import annotations

import numpy as np
import pytest

from costmodel.analysis.collapse import (DEFAULT_M, collapse, relative_error, relu_roundtrip,
                                         spiral)
from costmodel.report.collapse_plot import plot_collapse
from costmodel.errors import CostModelError

SEEDS = range(20)


def test_spiral_is_deterministic_and_avoids_the_origin():
    x = spiral(500)
    assert x.shape == (2, 500)
    np.testing.assert_array_equal(x, spiral(500))
    radius = np.hypot(*x)
    assert radius.min() > 0 and np.all(np.diff(radius) > 0)


def test_same_seed_gives_identical_arrays():
    a, b = collapse(seed=7), collapse(seed=7)
    np.testing.assert_array_equal(a.x, b.x)
    for ta, tb, ra, rb in zip(a.transforms, b.transforms, a.reconstructions, b.reconstructions):
        np.testing.assert_array_equal(ta, tb)
        np.testing.assert_array_equal(ra, rb)
    assert a.errors == b.errors and a.collapsed == b.collapsed
    assert not np.array_equal(a.transforms[-1], collapse(seed=8).transforms[-1])


def test_each_m_has_its_own_stream():
    """Asking for fewer m values must not change the result for the ones kept."""
    alone = collapse((30,), seed=0).reconstruction(30)
    np.testing.assert_array_equal(alone, collapse(DEFAULT_M, seed=0).reconstruction(30))


def test_result_arrays_are_read_only():
    result = collapse((2,), n=50)
    with pytest.raises(ValueError):
        result.reconstructions[0][0, 0] = 1.0


def test_opposite_pairs_recover_exactly_half():
    """Why the error tends to 0.5: with rows ±e1, ±e2 exactly one of each pair passes ReLU, and
    pinv(T) = Tᵀ/2, so x̃ = x/2 everywhere."""
    x = spiral(200)
    t = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    np.testing.assert_allclose(relu_roundtrip(x, t), x / 2)
    assert relative_error(relu_roundtrip(x, t), x) == pytest.approx(0.5)


@pytest.mark.slow
def test_error_falls_from_m2_to_m30_and_tends_to_one_half():
    runs = [collapse((2, 30, 2000), seed=s) for s in SEEDS]
    at2, at30, at2000 = (np.array([r.error(m) for r in runs]) for m in (2, 30, 2000))
    # Over 200 seeds the m = 30 error lay in 0.48..0.68 and was below the m = 2 error in 99.5%
    # of them; the median over seeds is a robust way to state "decreases".
    assert np.median(at30) < np.median(at2) - 0.1
    assert np.all((0.45 < at30) & (at30 < 0.8))
    assert np.all(np.abs(at2000 - 0.5) < 0.04)


def test_low_m_collapses_and_high_m_does_not():
    for seed in SEEDS:
        result = collapse((2, 3, 30), seed=seed)
        # m = 2: both units are active on less than half of the directions, for any T.
        assert result.collapsed_at(2) >= 0.49
        # m = 3: k of 3 units active at u means 3 - k at -u, so exactly half have k <= 1.
        assert result.collapsed_at(3) == pytest.approx(0.5, abs=0.02)
        # m = 30: every direction keeps at least two active units.
        assert result.collapsed_at(30) == 0.0


def test_invalid_arguments_are_reported():
    with pytest.raises(CostModelError):
        collapse((0,))
    with pytest.raises(CostModelError):
        collapse(())
    with pytest.raises(CostModelError):
        spiral(1)


@pytest.mark.slow
def test_plot_writes_png_and_svg(tmp_path):
    result = collapse(n=300)
    png = plot_collapse(result, tmp_path / "collapse.png")
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = plot_collapse(result, tmp_path / "sub" / "collapse.svg")
    assert "<svg" in svg.read_text("utf-8")[:2000]


def test_plot_rejects_unknown_formats(tmp_path):
    with pytest.raises(CostModelError, match="png or .svg"):
        plot_collapse(collapse((2,), n=50), tmp_path / "collapse.jpg")


@pytest.mark.slow
def test_the_error_tends_to_one_half_on_average_over_transforms():
    # E[t tᵀ 1{t·x > 0}] = I/2 for a standard-normal row t, so x̃ → x/2: the error, averaged
    # over draws of T, falls towards 0.5 from above; one draw scatters around the mean.
    from costmodel.analysis.collapse import random_transform, relative_error, relu_roundtrip

    x = spiral(1000)

    def mean_error(m: int) -> float:
        return float(np.mean([relative_error(relu_roundtrip(x, random_transform(m, seed)), x)
                              for seed in range(40)]))

    means = [mean_error(m) for m in (15, 30, 100, 1000)]
    assert means == sorted(means, reverse=True) and all(m > 0.5 for m in means)
    assert abs(means[-1] - 0.5) < 0.005 and 0.52 < means[1] < 0.56
