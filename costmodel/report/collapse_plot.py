"""MobileNet v2's ReLU-collapse experiment drawn: the input spiral and one panel per m
(the data: :mod:`costmodel.analysis.collapse`)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..analysis.collapse import ERROR_NOTE, CollapseResult, collapse
from .. import limits
from ..errors import CostModelError
from ..safe_io import printable, write_atomic_with

TITLE = "Output of ReLU(T·x) mapped back with T⁺ (MobileNet v2, arXiv 1801.04381, Fig. 1)"


def _footnote(result: CollapseResult) -> str:
    n = result.x.shape[1]
    return (
        f"x: 2-D spiral of {n} points, coloured from centre (dark) to rim (light). "
        f"T: random m×2 standard-normal matrix (seed {result.seed}); T⁺: its pseudo-inverse.\n"
        f"error = ‖x̃ − x‖ / ‖x‖. {ERROR_NOTE}\n"
        "collapsed = share of points with fewer than 2 active units: their neighbourhood is "
        "flattened onto a line or a point."
    ).replace("x̃", r"$\tilde{x}$")


def _draw_panel(ax, points: np.ndarray, colour: np.ndarray, title: str) -> None:
    """One scatter panel with the axes through the origin, where the ReLU half-planes meet."""
    ax.axhline(0.0, color="0.85", linewidth=0.8, zorder=0)
    ax.axvline(0.0, color="0.85", linewidth=0.8, zorder=0)
    ax.scatter(points[0], points[1], c=colour, cmap="viridis", s=5, linewidths=0, zorder=1)
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title, fontsize=12)
    ax.tick_params(labelsize=9)


def plot_collapse(result: CollapseResult, path: str | Path) -> Path:
    """Draw the input and one panel per m, and save as PNG or SVG (chosen by the suffix).

    Uses matplotlib's object API on a fresh ``Figure`` rather than pyplot, so it renders
    headless (no display, no GUI backend) without switching the backend of a caller who has
    already imported pyplot.
    """
    path = Path(path)
    formats = {".png": "png", ".svg": "svg"}
    if path.suffix.lower() not in formats:
        raise CostModelError(f"plot_collapse writes .png or .svg, got {path.name!r}")
    from matplotlib.figure import Figure  # heavy import, only needed when plotting

    panels = 1 + len(result.m_values)
    ncols = min(3, panels)
    nrows = math.ceil(panels / ncols)
    fig = Figure(figsize=(4.2 * ncols, 4.1 * nrows + 1.2), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    colour = np.linspace(0.0, 1.0, result.x.shape[1])

    n = result.x.shape[1]
    _draw_panel(axes[0], result.x, colour, f"Input\n{n} points")
    for ax, m, recon, err, lost in zip(axes[1:], result.m_values, result.reconstructions,
                                       result.errors, result.collapsed):
        _draw_panel(ax, recon, colour, f"m = {m}\nerror {err:.2f} · collapsed {lost:.0%}")
    for ax in axes[panels:]:
        ax.set_visible(False)

    from .figure_style import captions_on

    fig.suptitle(TITLE, fontsize=14)
    if captions_on():
        fig.supxlabel(_footnote(result), fontsize=10, linespacing=1.5)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CostModelError(f"{printable(path, limits.MAX_QUOTED_PATH_CHARS)}: cannot create "
                             f"its folder: {exc.strerror or exc}") from None
    fmt = formats[path.suffix.lower()]
    write_atomic_with(path, lambda temp: fig.savefig(temp, format=fmt, dpi=150), "figure")
    return path


if __name__ == "__main__":  # python -m costmodel.report.collapse_plot [out.png]
    import sys

    outcome = collapse()
    for m_, e_, c_ in zip(outcome.m_values, outcome.errors, outcome.collapsed):
        print(f"m = {m_:>3}: error {e_:.3f}, collapsed {c_:.1%}")
    print(plot_collapse(outcome, sys.argv[1] if len(sys.argv) > 1 else "collapse.png"))
