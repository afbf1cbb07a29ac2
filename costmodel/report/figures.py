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

import contextlib
import csv
import functools
import importlib.resources
import math
import os
import textwrap
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CostModelError

__all__ = ["FIGURES", "FOOTNOTE", "AccuracyPoint", "LayerCost", "Series", "key_points",
           "render_all", "save_figure", "alpha_sweep_data",
           "resolution_sweep_data", "shufflenet_groups_data", "breakdown_data",
           "pareto_data", "pareto_front", "tf_slim_checkpoints", "draw_breakdown",
           "plot_breakdown", "plot_relu_collapse"]

FOOTNOTE = "MACs = multiply-accumulates (paper convention: conv/FC only); 1 MAC = 2 FLOPs."
DPI = 150
FORMATS = ("png", "svg")

#: matplotlib settings for every figure: readable fonts (nothing below 10 pt) and
#: reproducible SVG ids.
STYLE = {
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "xtick.labelsize": 10,
    "ytick.labelsize": 10, "legend.fontsize": 10, "legend.title_fontsize": 10,
    "figure.titlesize": 14, "axes.grid": True, "grid.color": "0.88", "grid.linewidth": 0.6,
    "axes.axisbelow": True, "svg.hashsalt": "costmodel", "svg.fonttype": "path",
}

PRETTY = {
    "mobilenet_v1": "MobileNet v1", "mobilenet_v2": "MobileNet v2",
    "mobilenet_v3_large": "MobileNet v3 Large", "mobilenet_v3_small": "MobileNet v3 Small",
    "shufflenet_v1": "ShuffleNet v1", "shufflenet_v2": "ShuffleNet v2", "vgg16": "VGG-16",
    "googlenet": "GoogLeNet", "alexnet": "AlexNet", "squeezenet": "SqueezeNet",
    "resnet18": "ResNet-18", "resnet34": "ResNet-34", "resnet50": "ResNet-50",
    "resnet101": "ResNet-101", "resnet152": "ResNet-152", "resnext50_32x4d": "ResNeXt-50",
    "xception": "Xception",
}

#: One colour per model family (Okabe-Ito, readable by colour-blind readers).
COLOURS = {
    "mobilenet_v1": "#0072B2", "mobilenet_v2": "#D55E00", "shufflenet_v1": "#009E73",
    "shufflenet_v2": "#CC79A7", "mobilenet_v3_large": "#E69F00",
    "mobilenet_v3_small": "#56B4E9", "other": "#444444",
}

#: Layer types (Layer.kind) and their colours in the breakdown figures.
KIND_COLOURS = {
    "conv 3x3": "#444444", "conv 1x1": "#0072B2", "gconv 1x1": "#56B4E9",
    "conv dw 3x3": "#E69F00", "conv dw 5x5": "#D55E00", "fc": "#CC79A7",
}
_SPARE_COLOURS = ("#009E73", "#F0E442", "#999999", "#882255", "#117733", "#332288",
                  "#AA4499", "#88CCEE", "#DDCC77", "#661100")

#: alpha from 0.25 to 2 in steps of 1/1024: every c·alpha is exact in float64.
ALPHA_GRID = np.arange(256, 2049) / 1024.0
#: Input sides from 96 to 320 pixels.
RESOLUTION_GRID = np.arange(96, 321)
#: The sizes ShuffleNet v1's official code and ShuffleNet v2's Table 5 define.
SHUFFLENET_SIZES = (Fraction(1, 2), Fraction(1), Fraction(3, 2), Fraction(2))
SHUFFLENET_V1_GROUPS = (1, 2, 3, 4, 8)
STAGES = ("stem", "stage2", "stage3", "stage4", "head")


def _pretty(name: str) -> str:
    return PRETTY.get(name, name)


def _num(value: Any) -> str:
    """An exact number as short text: Fraction(3, 4) -> '0.75', 1.0 -> '1'."""
    number = float(value)
    return str(int(number)) if number == int(number) else f"{number:g}"


# --------------------------------------------------------------------------- rendering helpers

@contextlib.contextmanager
def _style() -> Iterator[None]:
    """The figure style, plus a fixed SVG date source for code that saves without our
    metadata (``plot_collapse``): SOURCE_DATE_EPOCH is matplotlib's documented hook for
    reproducible SVG output."""
    import matplotlib

    saved = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = saved or "0"
    try:
        with matplotlib.rc_context(STYLE):
            yield
    finally:
        if saved is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # a renderer for measuring text (label placement); no display
    return fig


def _footnote(fig, *lines: str) -> None:
    """The caption under the figure: what is drawn and where it comes from, then the unit
    note. Laid out by constrained layout, so it is never clipped."""
    width = int(fig.get_figwidth() * 12.5)  # characters of 10 pt text per line
    text = "\n".join(textwrap.fill(line, width) for line in [*lines, FOOTNOTE])
    fig.supxlabel(text, x=0.01, ha="left", fontsize=10, linespacing=1.4, color="0.25")


def save_figure(fig, path: str | Path) -> Path:
    """Save ``fig`` as PNG (150 dpi) or SVG, chosen by the suffix, with no date or version
    stamp, so that an unchanged figure gives unchanged bytes."""
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CostModelError(f"cannot write {path.name!r}: a figure is written as .png or .svg")
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with _style():
        fig.savefig(path, format=fmt, dpi=DPI, metadata=metadata)
    return path


def _save_both(fig, folder: Path, stem: str) -> list[Path]:
    """PNG then SVG; the SVG reuses the layout computed for the PNG (a third faster)."""
    paths = [save_figure(fig, Path(folder) / f"{stem}.png")]
    fig.set_layout_engine("none")
    paths.append(save_figure(fig, Path(folder) / f"{stem}.svg"))
    return paths


def _millions(axis) -> None:
    """Tick labels in millions on a log axis: 10, 20, 50, 100, 200, 500, 1000, 2000."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(1, 10))))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e6:g}"))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


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


# --------------------------------------------------------------------------- per-layer breakdown

@dataclass(frozen=True)
class LayerCost:
    name: str
    kind: str
    macs: int
    params: int


def breakdown_data(spec: str, convention: str = "paper") -> tuple[Any, list[LayerCost]]:
    """The network built from a spec string and its costly layers (MACs or params non-zero
    under ``convention``), in order, with exact counts."""
    from .. import zoo
    from ..core.network import exact

    network = zoo.resolve(spec).build()
    layers = []
    for layer in network.layers:
        macs, params = exact(layer.macs(convention)), exact(layer.params(convention))
        if not (isinstance(macs, int) and isinstance(params, int)):
            raise CostModelError(f"{spec}: layer {layer.name} has a non-integer count "
                                 f"({macs} MACs, {params} params); give numeric knob values")
        if macs or params:
            layers.append(LayerCost(layer.name, layer.kind, macs, params))
    return network, layers


def _kind_colours(kinds: Sequence[str]) -> dict[str, str]:
    spare = iter(_SPARE_COLOURS)
    return {kind: KIND_COLOURS.get(kind) or next(spare, "#999999") for kind in kinds}


def _settings_text(network) -> str:
    from .table import plain

    return ", ".join(f"{k}={plain(v)}" for k, v in network.config)


def draw_breakdown(spec: str, convention: str = "paper"):
    """A figure with one bar per costly layer: MACs (top) and params (bottom), coloured by
    layer type, with each type's total in the legend."""
    from matplotlib.patches import Patch

    from ..core.conventions import convention as get_convention
    from .table import human

    network, layers = breakdown_data(spec, convention)
    if not layers:
        raise CostModelError(f"{spec}: no layer has MACs or parameters to draw")
    kinds = list(dict.fromkeys(layer.kind for layer in layers))
    colours = _kind_colours(kinds)
    total_macs = sum(layer.macs for layer in layers)
    total_params = sum(layer.params for layer in layers)
    n = len(layers)
    with _style():
        width = min(max(11.0, 0.22 * n + 2.5), 40.0)
        fig = _new_figure(width, 10.0)
        top, bottom = fig.subplots(2, 1, sharex=True)
        x = np.arange(n)
        bar_colours = [colours[layer.kind] for layer in layers]
        top.bar(x, [layer.macs / 1e6 for layer in layers], color=bar_colours, width=0.8)
        bottom.bar(x, [layer.params / 1e3 for layer in layers], color=bar_colours, width=0.8)
        top.set_ylabel(f"MACs per layer (millions)\n{human(total_macs)} in all")
        bottom.set_ylabel(f"parameters per layer (thousands)\n{human(total_params)} in all")
        bottom.set_xticks(x, [layer.name for layer in layers], rotation=90, fontsize=10)
        bottom.set_xlim(-0.7, n - 0.3)
        bottom.set_xlabel("layer (in network order; layers without MACs or parameters "
                          "omitted)")
        top.tick_params(labelbottom=False)
        for ax in (top, bottom):
            ax.grid(axis="x", visible=False)

        def share(kind: str, attr: str, total: int) -> str:
            part = sum(getattr(layer, attr) for layer in layers if layer.kind == kind)
            if not total:
                return "–"
            return f"{100 * part / total:.1f}%" if part * 1000 >= total or not part else "<0.1%"
        handles = [Patch(color=colours[kind],
                         label=f"{kind}: {share(kind, 'macs', total_macs)} MACs, "
                               f"{share(kind, 'params', total_params)} params")
                   for kind in kinds]
        top.legend(handles=handles, title="layer type (colour of the bars)", loc="lower center",
                   bbox_to_anchor=(0.5, 1.02),
                   ncols=min(len(handles), 2 if width < 14 else 3 if width < 20 else 4))
        fig.suptitle(f"Where the cost goes in {_pretty(network.name)} "
                     f"({_settings_text(network)})")
        conv = get_convention(convention)
        _footnote(fig, f"Counts computed exactly by costmodel, convention {conv.name}: "
                       f"{conv.description}.")
    return fig


def plot_breakdown(spec: str, path: str | Path, convention: str = "paper") -> Path:
    """Draw :func:`draw_breakdown` for any spec string and save it (.png or .svg)."""
    return save_figure(draw_breakdown(spec, convention), path)


# --------------------------------------------------------------------------- accuracy vs MACs

@dataclass(frozen=True)
class AccuracyPoint:
    """A network with a published top-1 accuracy and its exact MACs (paper convention)."""

    model: str
    config: tuple[tuple[str, Any], ...]
    label: str
    top1: float
    macs: int
    origin: str  # "paper" or "TF-slim"
    cited: str   # where the accuracy is printed


def tf_slim_checkpoints() -> list[dict[str, str]]:
    """Rows of costmodel/data/tf_slim_checkpoints.csv (comment lines skipped)."""
    text = importlib.resources.files("costmodel.data").joinpath(
        "tf_slim_checkpoints.csv").read_text("utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return list(csv.DictReader(lines))


def _short_label(model: str, config: dict[str, Any]) -> str:
    parts = [_pretty(model)]
    if "alpha" in config and (model.startswith(("mobilenet", "shufflenet"))):
        alpha = _num(config["alpha"])
        if model.startswith("shufflenet"):
            parts.append(f"{alpha}×")
        else:  # as the MobileNet papers write it: 1.0, 0.75
            parts.append(alpha if "." in alpha else f"{alpha}.0")
    if model == "shufflenet_v1" and "g" in config:
        parts.append(f"g={config['g']}")
    if "resolution" in config and int(config["resolution"]) != 224:
        parts.append(f"@{config['resolution']}")
    return " ".join(parts)


def pareto_data() -> list[AccuracyPoint]:
    """Every zoo network with a published top-1 accuracy, and its exact MACs.

    From published.toml: rows with a top-1 and a zoo model, except rows labelled as another
    group's (re)implementation (their MACs need not be the zoo model's). Repeats of the same
    network and accuracy in several tables are kept once, at their first citation. From the
    TF-slim table: every checkpoint, built with classes=1001 as those checkpoints are.
    """
    return list(_pareto_points())


@functools.lru_cache(maxsize=1)
def _pareto_points() -> tuple[AccuracyPoint, ...]:
    from .. import zoo
    from ..data.published import cite, load_published

    points: dict[tuple, AccuracyPoint] = {}
    built: dict[tuple, Any] = {}
    for figure in load_published():
        if figure.top1 is None or figure.model is None or "impl" in figure.label.lower():
            continue
        request = (figure.model, tuple(sorted(figure.config.items())))
        if request not in built:
            built[request] = zoo.build(figure.model, **dict(figure.config))
        network = built[request]
        key = (figure.model, network.config, figure.top1)
        if key not in points:
            config = dict(network.config)
            points[key] = AccuracyPoint(figure.model, network.config,
                                        _short_label(figure.model, {**config,
                                                                    **dict(figure.config)}),
                                        figure.top1, int(network.macs()), "paper",
                                        cite(figure))
    for row in tf_slim_checkpoints():
        knobs = {"alpha": row["alpha"], "resolution": row["resolution"], "classes": 1001}
        network = zoo.build(row["model"], **knobs)
        points[(row["model"], network.config, "tf-slim")] = AccuracyPoint(
            row["model"], network.config, _short_label(row["model"], knobs),
            float(row["top1"]), int(network.macs()), "TF-slim",
            "TF-slim checkpoints (tensorflow/models research/slim)")
    return tuple(points.values())


def pareto_front(points: Sequence[AccuracyPoint]) -> list[AccuracyPoint]:
    """The upper-left envelope: points that no other point beats with fewer or equal MACs
    and a higher or equal top-1 (one strictly better). Sorted by MACs."""
    front, best = [], -math.inf
    for point in sorted(points, key=lambda p: (p.macs, -p.top1)):
        if point.top1 > best:
            front.append(point)
            best = point.top1
    return front


def key_points(front: Sequence[AccuracyPoint], cluster: float = 1.2) -> list[AccuracyPoint]:
    """The front points worth a label: the front is cut into runs whose neighbours are
    within a factor ``cluster`` in MACs, and the most accurate (last) point of each run is
    kept, so labels do not crowd where several networks cost about the same."""
    keys: list[AccuracyPoint] = []
    for index, point in enumerate(front):
        following = front[index + 1] if index + 1 < len(front) else None
        if following is None or following.macs > cluster * point.macs:
            keys.append(point)
    return keys


def _place_labels(fig, ax, items: Sequence[tuple[float, float, str]],
                  avoid: Sequence[tuple[float, float]]) -> list:
    """Annotate (x, y, text) items so that no two labels overlap each other, a data point, or
    the axes' edges: for each label, the first candidate offset that fits."""
    from matplotlib.text import Text

    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    axes_box = ax.get_window_extent(renderer)
    to_pixels = ax.transData.transform
    pixels_per_point = fig.dpi / 72.0
    radius = 4.0 * pixels_per_point
    obstacles = []
    for px, py in to_pixels(np.array(avoid, dtype=float)):
        obstacles.append((px - radius, py - radius, px + radius, py + radius))
    # Up and to the left first (above a Pareto front there are no points, by definition),
    # near before far; a leader line joins a label set further off to its point.
    candidates = sorted(((dx, dy, "right" if dx < 0 else "left", "bottom" if dy > 0 else "top")
                         for dx in (-7, -20, -36, -54, 7, 20, 36, 54)
                         for dy in (5, 14, 26, 40, 56, 72, -5, -14, -26, -40)),
                        key=lambda c: math.hypot(c[0], c[1]) + (15 if c[0] > 0 else 0)
                        + (25 if c[1] < 0 else 0))

    def overlaps(box, others) -> bool:
        return any(box[0] < o[2] and o[0] < box[2] and box[1] < o[3] and o[1] < box[3]
                   for o in others)

    placed = []
    for x, y, text in items:
        for dx, dy, ha, va in candidates:
            note = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                               ha=ha, va=va, fontsize=10,
                               arrowprops=dict(arrowstyle="-", color="0.5", lw=0.6,
                                               shrinkA=0, shrinkB=3)
                               if math.hypot(dx, dy) > 12 else None)
            note.set_in_layout(False)
            note.update_positions(renderer)
            extent = Text.get_window_extent(note, renderer)  # the text, not its leader line
            box = (extent.x0 - 2, extent.y0 - 2, extent.x1 + 2, extent.y1 + 2)
            inside = (box[0] >= axes_box.x0 and box[2] <= axes_box.x1
                      and box[1] >= axes_box.y0 and box[3] <= axes_box.y1)
            if inside and not overlaps(box, obstacles):
                obstacles.append(box)
                placed.append(note)
                break
            note.remove()
        else:
            # Nowhere free: say so, and put it at the nearest spot rather than lose it.
            warnings.warn(f"figure label {text!r} overlaps another: make the figure larger",
                          stacklevel=2)
            dx, dy, ha, va = candidates[0]
            note = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                               ha=ha, va=va, fontsize=10)
            note.set_in_layout(False)
            placed.append(note)
    return placed


def _draw_pareto(points: Sequence[AccuracyPoint]):
    from matplotlib.lines import Line2D

    front = pareto_front(points)
    families = [m for m in COLOURS if m != "other"]
    others = sorted({p.model for p in points if p.model not in families})
    other_markers = dict(zip(others, ("s", "D", "^", "v", "P", "X", "<", ">")))
    with _style():
        fig = _new_figure(14.0, 8.5)
        ax = fig.subplots()
        xs = np.array([p.macs for p in front], dtype=float)
        ys = np.array([p.top1 for p in front])
        ax.step(xs, ys, where="post", color="0.3", lw=1.2, ls="--", zorder=1)
        for p in points:
            colour = COLOURS.get(p.model, COLOURS["other"])
            marker = other_markers.get(p.model, "o")
            filled = p.origin == "paper"
            ax.scatter([p.macs], [p.top1], s=42, marker=marker, zorder=3,
                       facecolors=colour if filled else "white", edgecolors=colour,
                       linewidths=1.4)
        ax.set_xscale("log")
        _millions(ax.xaxis)
        ax.set_xlabel("MACs (millions, log scale; 224×224 unless marked @resolution)")
        ax.set_ylabel("ImageNet top-1 accuracy (%)")
        ax.set_title("Published top-1 accuracy against computed MACs")
        ax.set_xlim(6e6, 3e10)
        ax.set_ylim(min(p.top1 for p in points) - 3, max(p.top1 for p in points) + 4)
        present = [m for m in families if any(p.model == m for p in points)]
        handles = [Line2D([], [], ls="", marker="o", ms=7, color=COLOURS[m], label=_pretty(m))
                   for m in present]
        handles += [Line2D([], [], ls="", marker=other_markers[m], ms=7,
                           color=COLOURS["other"], label=_pretty(m)) for m in others]
        handles += [Line2D([], [], ls="", marker="o", ms=7, color="0.3",
                           label="filled: accuracy from the papers"),
                    Line2D([], [], ls="", marker="o", ms=7, mfc="white", mec="0.3",
                           label="open: TF-slim checkpoint"),
                    Line2D([], [], ls="--", color="0.3",
                           label="Pareto front (best of each cluster labelled)")]
        fig.legend(handles=handles, loc="outside right center")
        labels = [(p.macs, p.top1, f"{p.label}: {p.top1:g}%") for p in key_points(front)]
        _place_labels(fig, ax, labels, [(p.macs, p.top1) for p in points])
        _footnote(fig, "Top-1 accuracy as published by the papers (MobileNet v1/v2, "
                       "ShuffleNet v1/v2; rows of other groups' reimplementations left out) "
                       "and by TF-slim for its checkpoints (1001 classes); MACs computed by "
                       "costmodel (paper convention).",
                  "Pareto front: no other network has higher accuracy at equal or fewer MACs.")
    return fig


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
    or .svg) with :func:`costmodel.analysis.collapse.plot_collapse`, reproducibly. Returns
    the :class:`~costmodel.analysis.collapse.CollapseResult`."""
    from ..analysis.collapse import DEFAULT_M, collapse, plot_collapse

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
