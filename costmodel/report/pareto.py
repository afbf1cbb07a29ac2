"""Published top-1 accuracy against exact MACs: the points, their Pareto front, and the
figure with non-overlapping labels."""

from __future__ import annotations

import csv
import functools
import importlib.resources
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .figure_style import (COLOURS, _footnote, _millions, _new_figure, _num, _pretty, _style)


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
    if "alpha" in config and (model.startswith(("mobilenet", "shufflenet", "ghostnet"))):
        alpha = _num(config["alpha"])
        if model.startswith(("shufflenet", "ghostnet")):
            parts.append(f"{alpha}×")
        else:  # as the MobileNet papers write it: 1.0, 0.75
            parts.append(alpha if "." in alpha else f"{alpha}.0")
    if model == "shufflenet_v1" and "g" in config:
        parts.append(f"g={config['g']}")
    if "variant" in config and model == "efficientnet":  # B0 ... B7
        parts.append(str(config["variant"]).upper())
    if "variant" in config and model == "mobilenet_v4":  # conv_m -> Conv-M, hybrid_l -> Hybrid-L
        kind, size = str(config["variant"]).split("_")
        parts.append(f"{kind.capitalize()}-{size.upper()}")
    if "variant" in config and model in ("convnext", "mobilevit"):  # ConvNeXt T, MobileViT XXS
        parts.append(str(config["variant"]).upper())
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
                         for dx in (-7, -20, -36, -54, -80, 7, 20, 36, 54, 80)
                         for dy in (5, 14, 26, 40, 56, 72, -5, -14, -26, -40, -56, -72)),
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
    other_markers = dict(zip(others, ("s", "D", "^", "v", "P", "X", "<", ">", "p", "h", "*",
                                      "d", "H", "8")))
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
        # Headroom above the best point: the front's labels go up and to the left of it.
        ax.set_ylim(min(p.top1 for p in points) - 3, max(p.top1 for p in points) + 6)
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
        _footnote(fig, "Top-1 accuracy as published by the papers (MobileNet v1/v2/v4, "
                       "ShuffleNet v1/v2, EfficientNet, GhostNet, Inception v3; rows of other "
                       "groups' reimplementations left out) "
                       "and by TF-slim for its checkpoints (1001 classes); MACs computed by "
                       "costmodel (paper convention).",
                  "Pareto front: no other network has higher accuracy at equal or fewer MACs.")
    return fig
