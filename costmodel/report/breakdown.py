"""Per-layer breakdowns: each costly layer's MACs and params as bars, coloured by layer type
(``costmodel breakdown`` and the report's MobileNet figures)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import CostModelError
from .figure_style import (KIND_COLOURS, _SPARE_COLOURS, _footnote, _new_figure, _pretty, _style,
                           save_figure)


@dataclass(frozen=True)
class LayerCost:
    name: str
    kind: str
    macs: int
    params: int


def breakdown_data(spec: str, convention: str = "paper") -> tuple[Any, list[LayerCost]]:
    """The network built from a spec string and its costly layers (MACs or params non-zero
    under ``convention``), in order, with exact counts."""
    from ..core.network import exact
    from ..frontends import resolve

    network = resolve(spec).build()
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
