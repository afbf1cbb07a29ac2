"""The figures' common style: fonts, colours, captions, and reproducible PNG/SVG output.

Rendering uses matplotlib's object API (``matplotlib.figure.Figure``), never pyplot, so it is
headless and leaves a caller's pyplot state alone. Output is deterministic: fixed SVG hash
salt, no date in the SVG, no software tag in the PNG; rendering twice gives identical bytes.
"""

from __future__ import annotations

import contextlib
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import limits
from ..errors import CostModelError
from ..safe_io import printable, write_atomic_with

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
    "xception": "Xception", "efficientnet": "EfficientNet", "ghostnet": "GhostNet",
    "mobilenet_v4": "MobileNetV4", "inception_v3": "Inception v3", "convnext": "ConvNeXt",
    "mobilevit": "MobileViT",
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


def _pretty(name: str) -> str:
    return PRETTY.get(name, name)


def _num(value: Any) -> str:
    """An exact number as short text: Fraction(3, 4) -> '0.75', 1.0 -> '1'."""
    number = float(value)
    return str(int(number)) if number == int(number) else f"{number:g}"


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


#: whether figures draw their captions into the image (``--no-caption``: a paper sets its
#: own caption under the figure)
_CAPTIONS = [True]


@contextlib.contextmanager
def captions(enabled: bool = True) -> Iterator[None]:
    """Figures drawn inside draw their captions (the default) or leave them out."""
    _CAPTIONS.append(enabled)
    try:
        yield
    finally:
        _CAPTIONS.pop()


def captions_on() -> bool:
    return _CAPTIONS[-1]


def _footnote(fig, *lines: str) -> None:
    """The caption under the figure: what is drawn and where it comes from, then the unit
    note. Laid out by constrained layout, so it is never clipped. Left out under
    ``captions(False)``."""
    if not captions_on():
        return
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
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CostModelError(f"{printable(path, limits.MAX_QUOTED_PATH_CHARS)}: cannot create "
                             f"its folder: {exc.strerror or exc}") from None
    metadata = {"Date": None} if fmt == "svg" else {"Software": None}
    with _style():  # beside the target, then renamed: a failed write leaves an old figure whole
        write_atomic_with(path, lambda temp: fig.savefig(temp, format=fmt, dpi=DPI,
                                                         metadata=metadata), "figure")
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
