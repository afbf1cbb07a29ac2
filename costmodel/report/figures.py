"""The report's figures, as PNG and SVG: cost against the width multiplier and the resolution,
ShuffleNet v1's groups, per-layer breakdowns, accuracy against MACs, and the ReLU collapse.

:data:`FIGURES` maps a figure's name to a function ``draw(folder) -> [png, svg]``; the report
generator calls each in turn. The numbers behind each figure come from a ``*_data`` function
that returns plain values (exact Python ints where a count is drawn at one configuration), so
that tests check the data, not pixels.

Sweeps over alpha and the resolution build each network once with a sympy symbol for the knob
and evaluate the closed form exactly over the grid (:func:`costmodel.core.evaluate.evaluate`,
the evaluator `costmodel sweep` uses); the exact counts become floats only to be drawn. Alpha
runs over multiples of 1/1024, exact in binary, so the grid's floats are its exact values.
The tests compare the sweeps with exact builds.

Rendering uses matplotlib's object API (``matplotlib.figure.Figure``), never pyplot, so it is
headless and leaves a caller's pyplot state alone. Output is deterministic: fixed SVG hash
salt, no date in the SVG, no software tag in the PNG; rendering twice gives identical bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CostModelError
from .breakdown import draw_breakdown
from .figure_style import (COLOURS, FORMATS, _footnote, _millions, _new_figure, _num, _pretty,
                           _save_both, _style)
from .pareto import _draw_pareto, pareto_data

__all__ = ["FIGURES", "Series", "render_all", "alpha_sweep_data", "resolution_sweep_data",
           "shufflenet_groups_data", "plot_relu_collapse"]

#: alpha from 0.25 to 2 in steps of 1/1024: every c·alpha is exact in float64.
ALPHA_GRID = np.arange(256, 2049) / 1024.0
#: Input sides from 96 to 320 pixels.
RESOLUTION_GRID = np.arange(96, 321)
#: The sizes ShuffleNet v1's official code and ShuffleNet v2's Table 5 define.
SHUFFLENET_SIZES = (Fraction(1, 2), Fraction(1), Fraction(3, 2), Fraction(2))
SHUFFLENET_V1_GROUPS = (1, 2, 3, 4, 8)
STAGES = ("stem", "stage2", "stage3", "stage4", "head")


# --------------------------------------------------------------------------- sweeps

@functools.lru_cache(maxsize=64)
def _macs_of(model: str, knob: str, symbol, **knobs: Any) -> Callable[[np.ndarray], np.ndarray]:
    """MACs of ``model`` as a function of one knob over a grid, from one symbolic build
    (cached: the symbolic build is the slow part), evaluated exactly and drawn as floats."""
    from .. import zoo
    from ..core.evaluate import evaluate

    expr = zoo.build(model, **{knob: symbol, **knobs}).macs()

    def at(values: np.ndarray) -> np.ndarray:
        exact = evaluate(expr, {symbol: [Fraction(v) for v in np.asarray(values).tolist()]})
        return np.array([float(v) for v in exact.tolist()], dtype=float)
    return at


@dataclass(frozen=True)
class Series:
    """One drawn line or set of markers: x values and MACs (floats for drawing; exact
    integers in ``exact`` where each point was built on its own)."""

    model: str
    label: str
    style: str  # "reference" (solid), "none" (dashed), "sizes" (markers)
    x: np.ndarray
    macs: np.ndarray
    exact: tuple[int, ...] = ()


def alpha_sweep_data(grid: np.ndarray = ALPHA_GRID) -> list[Series]:
    """MACs (224×224, 1000 classes) against the width multiplier.

    MobileNet v1 and v2: continuous in alpha, with the reference rounding (staircase) and
    with rounding=none (c·alpha exactly). ShuffleNet v1 (g = 3): any alpha under the
    reference rounding, with the stem int(24·alpha) rounded up to a multiple of g, plus the
    four official sizes, whose official stems differ at 1.5× (24 channels, not 36).
    ShuffleNet v2: its four published sizes only.
    """
    from .. import zoo
    from ..core import symbols as S

    series = []
    for model, extra in (("mobilenet_v1", {}), ("mobilenet_v2", {}),
                         ("shufflenet_v1", {"g": 3})):
        for rounding in ("reference", "none"):
            macs = _macs_of(model, "alpha", S.alpha, rounding=rounding, **extra)(grid)
            series.append(Series(model, _pretty(model), rounding, np.array(grid), macs))
    for model, extra in (("shufflenet_v1", {"g": 3}), ("shufflenet_v2", {})):
        exact = tuple(int(zoo.build(model, alpha=_num(a), **extra).macs())
                      for a in SHUFFLENET_SIZES)
        series.append(Series(model, _pretty(model), "sizes",
                             np.array([float(a) for a in SHUFFLENET_SIZES]),
                             np.array(exact, dtype=float), exact))
    return series


def resolution_sweep_data(models: Sequence[str] = ("mobilenet_v1", "mobilenet_v2",
                                                   "mobilenet_v3_large", "mobilenet_v3_small",
                                                   "shufflenet_v1", "shufflenet_v2"),
                          grid: np.ndarray = RESOLUTION_GRID) -> list[Series]:
    """MACs against the input side (pixels) for each model at its default knobs (1×)."""
    from ..core import symbols as S

    return [Series(model, _pretty(model), "reference", np.array(grid),
                   _macs_of(model, "resolution", S.R)(grid)) for model in models]


# --------------------------------------------------------------------------- ShuffleNet groups

def _stage(layer_name: str) -> str:
    """ShuffleNet v1 layer name -> stage: conv1/maxpool1 are the stem, gap/fc the head."""
    top = layer_name.split(".", 1)[0]
    if top.startswith("stage"):
        return top
    return "head" if top.startswith(("gap", "fc")) else "stem"


def shufflenet_groups_data(groups: Sequence[int] = SHUFFLENET_V1_GROUPS,
                           alpha: Any = 1) -> dict[int, dict[str, tuple[int, int]]]:
    """ShuffleNet v1 1× (224×224) per g: stage -> (MACs, params), exact, paper convention.

    Stages are the dotted prefixes of the layer names: ``stage2``..``stage4``; ``conv1`` and
    ``maxpool1`` form the stem, ``gap1`` and ``fc1`` the head.
    """
    from .. import zoo

    data = {}
    for g in groups:
        totals = {stage: [0, 0] for stage in STAGES}
        for layer in zoo.build("shufflenet_v1", g=g, alpha=alpha).layers:
            entry = totals[_stage(layer.name)]
            entry[0] += int(layer.macs())
            entry[1] += int(layer.params())
        data[g] = {stage: (macs, params) for stage, (macs, params) in totals.items()}
    return data


# --------------------------------------------------------------------------- figures

def _draw_macs_vs_alpha(series: Sequence[Series]):
    from matplotlib.lines import Line2D

    curves = {(s.model, s.style): s for s in series}
    with _style():
        fig = _new_figure(11.0, 9.0)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(2.2, 1))
        for s in series:
            colour = COLOURS[s.model]
            if s.style == "sizes":
                top.plot(s.x, s.macs, ls=":" if s.model == "shufflenet_v2" else "",
                         marker="o" if s.model == "shufflenet_v2" else "D", ms=7,
                         color=colour, mfc=colour if s.model == "shufflenet_v2" else "white",
                         mew=1.6, zorder=4)
            else:
                top.plot(s.x, s.macs, color=colour, lw=1.6 if s.style == "reference" else 1.2,
                         ls="-" if s.style == "reference" else "--", zorder=3)
        top.set_yscale("log")
        _millions(top.yaxis)
        top.set_ylabel("MACs (millions, log scale)")
        top.set_title("MACs against the width multiplier α (224×224 input, 1000 classes)")
        handles = [Line2D([], [], color=COLOURS["mobilenet_v1"], lw=2, label="MobileNet v1"),
                   Line2D([], [], color=COLOURS["mobilenet_v2"], lw=2, label="MobileNet v2"),
                   Line2D([], [], color=COLOURS["shufflenet_v1"], lw=2,
                          label="ShuffleNet v1 (g = 3), stem int(24α)"),
                   Line2D([], [], color=COLOURS["shufflenet_v1"], ls="", marker="D",
                          mfc="white", mew=1.6, ms=7,
                          label="ShuffleNet v1 official 0.5×–2× (1.5×: 24-channel stem)"),
                   Line2D([], [], color=COLOURS["shufflenet_v2"], ls=":", marker="o", ms=7,
                          label="ShuffleNet v2 0.5×, 1×, 1.5×, 2× (only sizes defined)"),
                   Line2D([], [], color="0.3", lw=1.6,
                          label="solid: reference channel rounding (released code)"),
                   Line2D([], [], color="0.3", lw=1.2, ls="--",
                          label="dashed: idealized, c·α channels (rounding=none)")]
        top.legend(handles=handles, loc="lower right", framealpha=0.95)

        for model in ("mobilenet_v1", "mobilenet_v2", "shufflenet_v1"):
            ref, ideal = curves[(model, "reference")], curves[(model, "none")]
            bottom.plot(ref.x, ref.macs / ideal.macs, color=COLOURS[model], lw=1.2,
                        label=_pretty(model) + (" (g = 3)" if model == "shufflenet_v1"
                                                else ""))
        bottom.axhline(1.0, color="0.3", lw=0.8, ls="--")
        bottom.set_ylabel("reference ÷ idealized MACs")
        bottom.set_xlabel("width multiplier α")
        bottom.set_title("The staircase: rounded channel counts against c·α")
        bottom.legend(loc="upper right", ncols=3, framealpha=0.95)
        bottom.set_xlim(0.2, 2.05)
        bottom.set_xticks(np.arange(0.25, 2.01, 0.25))
        _footnote(fig, "Computed exactly by costmodel from one symbolic build per curve, "
                       "evaluated at α = k/1024. Reference rounding: MobileNet v1 "
                       "max(int(c·α), 8) (TF-slim), v2 make_divisible(c·α, 8), ShuffleNet v1 "
                       "make_divisible(c·α, 4g).")
    return fig


def _draw_macs_vs_resolution(series: Sequence[Series]):
    with _style():
        fig = _new_figure(11.0, 7.0)
        ax = fig.subplots()
        for s in series:
            ax.plot(s.x, s.macs, color=COLOURS.get(s.model, COLOURS["other"]), lw=1.6,
                    label=f"{s.label} 1×" + (" (g = 3)" if s.model == "shufflenet_v1" else ""))
        ax.axvline(224, color="0.4", lw=0.8, ls=":")
        ax.text(226, 0.98, "224 (the papers' default)", transform=ax.get_xaxis_transform(),
                va="top", ha="left", fontsize=10, color="0.3")
        ax.set_yscale("log")
        _millions(ax.yaxis)
        ax.set_xlim(96, 320)
        ax.set_xticks(np.arange(96, 321, 32))
        ax.set_xlabel("input resolution (pixels per side, square input)")
        ax.set_ylabel("MACs (millions, log scale)")
        ax.set_title("MACs against the input resolution (1000 classes)")
        ax.legend(loc="lower right", framealpha=0.95)
        _footnote(fig, "Computed exactly by costmodel at every integer resolution from one "
                       "symbolic build per model; MACs grow about as resolution², with small "
                       "steps where strided layers round feature maps down.")
    return fig


def _draw_shufflenet_groups(data: dict[int, dict[str, tuple[int, int]]]):
    from ..data.published import figures

    printed = {int(f.config["g"]): f.macs for f in figures(source="shufflenet_v1",
                                                           table="Table 1")
               if f.macs is not None and "g" in f.config}
    stage_colours = dict(zip(STAGES, ("#444444", "#56B4E9", "#0072B2", "#009E73", "#CC79A7")))
    stage_names = {"stem": "stem (conv1, max pool)", "stage2": "Stage 2",
                   "stage3": "Stage 3", "stage4": "Stage 4", "head": "head (FC)"}
    groups = list(data)
    x = np.arange(len(groups))
    with _style():
        fig = _new_figure(12.0, 6.8)
        left, right = fig.subplots(1, 2)
        for ax, index, scale, unit in ((left, 0, 1e6, "MACs (millions)"),
                                       (right, 1, 1e6, "parameters (millions)")):
            bottom = np.zeros(len(groups))
            for stage in STAGES:
                values = np.array([data[g][stage][index] for g in groups]) / scale
                ax.bar(x, values, bottom=bottom, color=stage_colours[stage], width=0.62,
                       label=stage_names[stage])
                bottom += values
            for xi, total in zip(x, bottom):
                ax.annotate(f"{total:.1f}" if index == 0 else f"{total:.2f}", (xi, total),
                            xytext=(0, 5), textcoords="offset points", ha="center",
                            va="bottom", fontsize=10)
            ax.set_xticks(x, [f"g = {g}" for g in groups])
            ax.set_xlabel("groups in the 1×1 convolutions")
            ax.set_ylabel(unit)
            ax.set_ylim(0, bottom.max() * 1.22)
            ax.grid(axis="x", visible=False)
        if printed:
            shown = [g for g in groups if g in printed]
            left.hlines([printed[g] / 1e6 for g in shown],
                        [x[groups.index(g)] - 0.42 for g in shown],
                        [x[groups.index(g)] + 0.42 for g in shown], color="black", lw=2.0,
                        zorder=4, label="paper, Table 1: convolutions only\n(no FC), in whole millions")
        left.set_title("MACs per stage")
        right.set_title("Parameters per stage")
        handles, labels = left.get_legend_handles_labels()
        fig.legend(handles[::-1], labels[::-1], loc="outside right center",
                   title="part of the network")
        fig.suptitle("ShuffleNet v1 1× (224×224): cost per stage against the group count g")
        _footnote(fig, "Counts computed exactly by costmodel (paper convention); Table 1 "
                       "widens each g so that all cost about the same: more groups, cheaper "
                       "1×1 convolutions, more channels.")
    return fig


def _macs_vs_alpha(folder: Path) -> list[Path]:
    return _save_both(_draw_macs_vs_alpha(alpha_sweep_data()), folder, "macs_vs_alpha")


def _macs_vs_resolution(folder: Path) -> list[Path]:
    return _save_both(_draw_macs_vs_resolution(resolution_sweep_data()), folder,
                      "macs_vs_resolution")


def _shufflenet_v1_groups(folder: Path) -> list[Path]:
    return _save_both(_draw_shufflenet_groups(shufflenet_groups_data()), folder,
                      "shufflenet_v1_groups")


def _breakdown(model: str) -> Callable[[Path], list[Path]]:
    def draw(folder: Path) -> list[Path]:
        return _save_both(draw_breakdown(model), folder, f"breakdown_{model}")
    draw.__name__ = f"breakdown_{model}"
    return draw


def _pareto_top1(folder: Path) -> list[Path]:
    return _save_both(_draw_pareto(pareto_data()), folder, "pareto_top1")


def plot_relu_collapse(paths: str | Path | Sequence[str | Path],
                       m_values: Sequence[int] | None = None, n: int = 1000, seed: int = 0):
    """Run the MobileNet v2 ReLU-collapse experiment once and draw it into each path (.png
    or .svg) with :func:`costmodel.report.collapse_plot.plot_collapse`, reproducibly. Returns
    the :class:`~costmodel.analysis.collapse.CollapseResult`."""
    from ..analysis.collapse import DEFAULT_M, collapse
    from .collapse_plot import plot_collapse

    paths = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    for path in paths:
        if path.suffix.lower().lstrip(".") not in FORMATS:
            raise CostModelError(f"cannot write {path.name!r}: a figure is written as .png "
                                 "or .svg")
    result = collapse(tuple(m_values or DEFAULT_M), n=n, seed=seed)
    with _style():
        for path in paths:
            plot_collapse(result, path)
    return result


def _relu_collapse(folder: Path) -> list[Path]:
    paths = [Path(folder) / f"relu_collapse.{fmt}" for fmt in FORMATS]
    plot_relu_collapse(paths)
    return paths


#: Figure name -> function writing it as PNG and SVG into a folder, returning the paths.
FIGURES: dict[str, Callable[[Path], list[Path]]] = {
    "macs_vs_alpha": _macs_vs_alpha,
    "macs_vs_resolution": _macs_vs_resolution,
    "shufflenet_v1_groups": _shufflenet_v1_groups,
    "breakdown_mobilenet_v1": _breakdown("mobilenet_v1"),
    "breakdown_mobilenet_v2": _breakdown("mobilenet_v2"),
    "pareto_top1": _pareto_top1,
    "relu_collapse": _relu_collapse,
}


def render_all(folder: str | Path = "reports/figures",
               progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write every figure into ``folder``; ``progress(name)`` is called before each."""
    paths = []
    for name, draw in FIGURES.items():
        if progress:
            progress(name)
        paths += draw(Path(folder))
    return paths


if __name__ == "__main__":  # python -m costmodel.report.figures [folder]
    import sys
    import time

    start = time.perf_counter()
    for written in render_all(sys.argv[1] if len(sys.argv) > 1 else "reports/figures",
                              lambda name: print(f"{time.perf_counter() - start:6.2f}s {name}",
                                                 flush=True)):
        print(written)
    print(f"{time.perf_counter() - start:.2f}s in all")
