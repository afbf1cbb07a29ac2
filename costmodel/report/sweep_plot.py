"""A sweep drawn: one count against one knob, a curve per value of another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.grid import text
from ..analysis.sweep import SweepResult
from .. import limits
from ..errors import CostModelError
from ..safe_io import printable, write_atomic_with
from .sweep_output import _axis

Y_LABELS = {"macs": "MACs", "flops": "FLOPs", "params": "parameters",
            "activations": "activations (elements)"}
MAX_CURVES = 10
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def check_plot_path(path) -> Path:
    """``path`` as a Path if its suffix names a format the plot is drawn in."""
    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise CostModelError(f"--plot {printable(path, limits.MAX_QUOTED_PATH_CHARS)}: the "
                             "file must end in .png, .svg or .pdf")
    return path


def plot(result: SweepResult, path, y: str = "macs", x: str | None = None,
         hue: str | None = None) -> dict[str, Any]:
    """Draw ``y`` against knob ``x`` (default: the first knob with several values), one curve
    per value of ``hue`` (default: the next such knob; at most 10 curves, evenly picked), the
    other knobs at their first value. Returns what was drawn."""
    from matplotlib.figure import Figure

    path = check_plot_path(path)
    if y not in Y_LABELS:
        raise CostModelError(f"--y {y}: choose one of {', '.join(Y_LABELS)}")
    names = [a.name for a in result.axes]
    varied = [a.name for a in result.axes if len(a.values) > 1]
    for option, value in (("--x", x), ("--hue", hue)):
        if value is not None and value not in names:
            raise CostModelError(f"{option} {value}: not a swept knob; swept: "
                                 f"{', '.join(names) or 'none'}")
    x = x or next((n for n in varied if _axis(result, n).numeric and n != hue), None)
    if x is None:
        raise CostModelError("--plot needs a swept numeric knob with several values for the "
                             "x axis (e.g. --resolution 96:224:32)")
    if not _axis(result, x).numeric:
        raise CostModelError(f"--x {x}: its values are not numbers; use it as --hue")
    if hue is None:
        hue = next((n for n in varied if n != x), None)
    if hue == x:
        raise CostModelError(f"--hue {hue} is also the x axis; choose another knob")
    x_axis = _axis(result, x)
    hue_axis = _axis(result, hue) if hue else None
    hue_index = list(range(len(hue_axis.values))) if hue_axis else [None]
    if len(hue_index) > MAX_CURVES:
        hue_index = sorted({int(round(i)) for i in np.linspace(0, len(hue_index) - 1,
                                                                MAX_CURVES)})
    counts = result.counts[y].reshape(result.shape)
    peak = float(np.max(counts)) if counts.size else 0.0
    scale, scale_word = next(((s, w) for s, w in ((1e9, "billions"), (1e6, "millions"),
                                                   (1e3, "thousands")) if peak >= s),
                             (1, ""))
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    xs = [float(v) for v in x_axis.values]
    marker = "o" if len(xs) <= 30 else None
    k_x, k_hue = names.index(x), names.index(hue) if hue else None
    for j in hue_index:
        index = [0] * len(names)
        index[k_x] = slice(None)
        if k_hue is not None:
            index[k_hue] = j
        ys = np.asarray(counts[tuple(index)], dtype=np.float64) / scale
        label = hue_axis.texts[j] if hue_axis else None
        ax.plot(xs, ys, marker=marker, markersize=4, linewidth=1.6, label=label)
    unit = Y_LABELS[y]
    detail = ", ".join(filter(None, [scale_word, "1 MAC = 2 FLOPs" if y in ("macs", "flops")
                                     else ""]))
    ax.set_ylabel(f"{unit} ({detail})" if detail else unit)
    help_text = x_axis.knob.help.strip()
    ax.set_xlabel(f"{x} ({help_text})" if help_text else x)
    ax.grid(True, alpha=0.3)
    others = [f"{a.name}={a.texts[0]}" for a in result.axes if a.name not in (x, hue)
              and len(a.values) > 1]
    fixed = others + [f"{k}={text(v)}" for k, v in result.fixed.items()]
    from .figure_style import captions_on

    caption = "\n" + _wrap("fixed: " + ", ".join(fixed), 90) if fixed and captions_on() else ""
    ax.set_title(f"{result.model}: {unit.split(' (')[0]} vs {x} ({result.convention} "
                 f"convention){caption}", fontsize=10)
    if hue_axis:
        left_out = [hue_axis.texts[i] for i in range(len(hue_axis.values)) if i not in hue_index]
        title = hue if not left_out else \
            f"{hue}: {len(hue_index)} of {len(hue_axis.values)}\nnot drawn: " + \
            _wrap(", ".join(left_out[:12]) + (f" … (+{len(left_out) - 12})"
                                               if len(left_out) > 12 else ""), 24)
        # beside the axes, never over a curve
        ax.legend(title=title, fontsize=8, title_fontsize=8, loc="upper left",
                  bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    write_atomic_with(path, lambda temp: fig.savefig(temp, format=path.suffix.lower()[1:],
                                                     dpi=150), "plot")
    return {"x": x, "hue": hue, "curves": len(hue_index), "y": y, "path": str(path),
            "left_out": [hue_axis.texts[i] for i in range(len(hue_axis.values))
                         if i not in hue_index] if hue_axis else []}


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
