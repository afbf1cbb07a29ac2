"""Where two networks' costs differ: by stage, by layer type, and layer by layer.

A *stage* is the run of layers working at one downsampling of the input, as the papers'
architecture tables group them (MobileNet's and ShuffleNet's rows by output size): a layer's
stride is input side / output side rounded to a power of two, so two networks at different
resolutions still line up (stride 8 is 28×28 at 224 and 20×20 at 160). Layers that keep a 1×1
map inside a stage (a squeeze-and-excite gate) belong to the stage around them; the layers
after the last spatial map (global pooling, classifier) are the ``head``.

The analysis returns data (exact integers); :mod:`costmodel.report.diff` renders it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..core.conventions import convention as get_convention
from ..core.network import Layer, Network, exact


@dataclass(frozen=True)
class Side:
    """One network's share of a row: layers, MACs and params (exact) and a detail (the
    stage's output size, a layer's type and output). Indexable as (layers, macs, params)."""

    layers: int = 0
    macs: Any = 0
    params: Any = 0
    detail: str = ""
    #: the same size as numbers, for JSON and CSV: [height, width] of a stage's output,
    #: [height, width, channels] of a layer's
    size: tuple = ()
    #: a layer's type (empty for a stage or a type row)
    kind: str = ""

    def __getitem__(self, index):
        return (self.layers, self.macs, self.params, self.detail)[index]


@dataclass(frozen=True)
class DiffRow:
    key: str
    a: Side
    b: Side

    @property
    def macs_delta(self) -> Any:
        return self.b.macs - self.a.macs

    @property
    def params_delta(self) -> Any:
        return self.b.params - self.a.params


@dataclass(frozen=True)
class NetworkDiff:
    """Two networks compared under one convention; ``by_layer`` holds the layers (matched by
    name) whose MACs or params under the convention differ, largest MACs difference first,
    and the layers only one network has; ``same_layers`` counts the rest."""

    a_spec: str
    b_spec: str
    a: Network
    b: Network
    convention: str
    total: DiffRow
    by_stage: tuple[DiffRow, ...]
    by_type: tuple[DiffRow, ...]
    by_layer: tuple[DiffRow, ...]
    same_layers: int


def stage_of_layers(network: Network) -> list[str]:
    """Each layer's stage label (``stride 8``, or ``head``), in layer order."""
    spatial = [i for i, layer in enumerate(network.layers)
               if (layer.output.h, layer.output.w) != (1, 1)]
    last_spatial = spatial[-1] if spatial else -1
    labels, current = [], "stride 1"
    for i, layer in enumerate(network.layers):
        if i > last_spatial:
            labels.append("head")
            continue
        if (layer.output.h, layer.output.w) != (1, 1):
            current = f"stride {_stride(network.input.h, layer.output.h)}"
        labels.append(current)
    return labels


def _stride(size_in: Any, size_out: Any) -> str:
    ratio = float(size_in) / float(size_out)
    power = round(math.log2(ratio))
    return str(2 ** power) if power >= 0 else str(Fraction(1, 2 ** -power))


def _stage_order(label: str) -> tuple[int, float]:
    if label == "head":
        return (1, 0.0)
    return (0, float(Fraction(label.split()[1])))


def _group(network: Network, keys: list[str], conv, sizes: dict[str, tuple] | None = None
           ) -> dict[str, Side]:
    groups: dict[str, Side] = {}
    for layer, key in zip(network.layers, keys):
        side = groups.get(key, Side())
        size = (sizes or {}).get(key, ())
        groups[key] = Side(side.layers + 1, side.macs + exact(conv.layer_macs(layer)),
                           side.params + exact(conv.layer_params(layer)),
                           "×".join(map(str, size)), size)
    return groups


def _rows(a: dict[str, Side], b: dict[str, Side], order) -> tuple[DiffRow, ...]:
    keys = list(dict.fromkeys([*a, *b]))
    if order is not None:
        keys.sort(key=order)
    return tuple(DiffRow(key, a.get(key, Side()), b.get(key, Side())) for key in keys)


def _stage_sizes(network: Network, labels: list[str]) -> dict[str, tuple]:
    sizes: dict[str, tuple] = {}
    for layer, label in zip(network.layers, labels):
        if label != "head" and (layer.output.h, layer.output.w) != (1, 1):
            sizes.setdefault(label, (exact(layer.output.h), exact(layer.output.w)))
    return sizes


def _layer_side(layer: Layer | None, conv) -> Side:
    if layer is None:
        return Side(detail="absent")
    out = layer.output
    return Side(1, exact(conv.layer_macs(layer)), exact(conv.layer_params(layer)),
                f"{layer.kind} → {out}", (exact(out.h), exact(out.w), exact(out.c)), layer.kind)


def diff(a: Network, b: Network, convention: str = "paper", a_spec: str = "",
         b_spec: str = "") -> NetworkDiff:
    """Compare ``a`` and ``b`` (B − A in every delta)."""
    conv = get_convention(convention)
    stages_a, stages_b = stage_of_layers(a), stage_of_layers(b)
    by_stage = _rows(_group(a, stages_a, conv, _stage_sizes(a, stages_a)),
                     _group(b, stages_b, conv, _stage_sizes(b, stages_b)), _stage_order)
    types_a = _group(a, [layer.kind for layer in a.layers], conv)
    types_b = _group(b, [layer.kind for layer in b.layers], conv)
    by_type = _rows(types_a, types_b, None)
    by_type = tuple(sorted(by_type, key=lambda r: -max(float(r.a.macs), float(r.b.macs))))
    layers_a = {layer.name: layer for layer in a.layers}
    layers_b = {layer.name: layer for layer in b.layers}
    differing, same = [], 0
    for name in dict.fromkeys([*layers_a, *layers_b]):
        left, right = layers_a.get(name), layers_b.get(name)
        if left is not None and right is not None and \
                _layer_side(left, conv)[1:3] == _layer_side(right, conv)[1:3]:
            same += 1  # the same cost under the convention (shapes of free layers may differ)
            continue
        differing.append(DiffRow(name, _layer_side(left, conv), _layer_side(right, conv)))
    differing.sort(key=lambda r: -abs(float(r.macs_delta)))
    total = DiffRow("total", Side(len(a.layers), exact(a.macs(convention)),
                                  exact(a.params(convention))),
                    Side(len(b.layers), exact(b.macs(convention)), exact(b.params(convention))))
    return NetworkDiff(a_spec or a.name, b_spec or b.name, a, b, convention, total, by_stage,
                       by_type, tuple(differing), same)
