"""Comparisons and per-layer summaries as tables: what `compare` and `summary` print.

Every table states its convention and its unit (MACs are multiply-accumulates; 1 MAC =
2 FLOPs; the papers' "FLOPs" and "Mult-Adds" are MACs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..analysis.compare import Row, comparison, settings_text, shape_array
from ..core.conventions import convention as get_convention
from ..core.network import Network, exact
from ..core.warnings import labelled
from .table import UNIT_NOTE, Column, Table, convention_note


def compare_table(rows: Sequence[Row], convention: str = "paper", units: str = "macs",
                  dtype: str = "fp32", memory: bool = False) -> Table:
    """A row per model: MACs, FLOPs, params and their ratios to the first model; with
    ``memory``, memory traffic and peak activation memory in bytes of ``dtype`` (computed
    only then: :func:`~costmodel.analysis.compare.comparison`)."""
    from ..analysis import memory as M

    records = comparison(rows, convention, dtype, memory)
    first, second = ("macs", "flops") if units == "macs" else ("flops", "macs")
    columns = (Column("model", "model"), Column("settings", "settings"),
               Column(first, "MACs" if first == "macs" else "FLOPs", "count"),
               Column(second, "FLOPs" if second == "flops" else "MACs", "count"),
               Column("params", "params", "count"),
               Column("macs_ratio", f"{'MACs' if units == 'macs' else 'FLOPs'} ÷ first", "ratio"),
               Column("params_ratio", "params ÷ first", "ratio"))
    notes = (UNIT_NOTE, convention_note(convention))
    if memory:
        columns += (Column("traffic_bytes", f"traffic ({dtype} bytes)", "count"),
                    Column("peak_bytes", "peak activations (bytes)", "count"))
        notes += (M.TABLE_NOTE.format(dtype=dtype),)
    per_image = any(w.kind == "per_image" for row in rows for w in row.network.warnings)
    return Table(f"Model comparison ({convention} convention"
                 f"{', per image' if per_image else ''})", columns, tuple(records),
                 (*notes, *_exact_note(records, convention)),
                 labelled(row.network for row in rows))


def _exact_note(records: Sequence[dict[str, Any]], convention: str) -> tuple[str, ...]:
    """A tool's convention also states its totals in full, as the tool prints them."""
    tool = get_convention(convention).tool
    if tool is None:
        return ()
    totals = "; ".join(f"{r['model']}: {_full(r['macs'])} MACs, {_full(r['params'])} params"
                       for r in records)
    return (f"Exact, as {tool.name} {tool.version} reports them: {totals}.",)


def _full(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def summary_tables(network: Network, convention: str = "paper", units: str = "macs",
                   all_layers: bool = True) -> tuple[Table, Table]:
    """The per-layer table (as torchinfo's summary) and the totals per layer type (as the
    MobileNet v1 paper's Table 2). Without ``all_layers``, the per-layer table leaves out
    layers that cost nothing under the convention (BN, activations, pooling...) and says so."""
    conv = get_convention(convention)
    scale = 2 if units == "flops" else 1
    label = "FLOPs" if units == "flops" else "MACs"
    total_macs, total_params = exact(network.macs(convention)), exact(network.params(convention))
    layers = []
    for layer in network.layers:
        macs, params = exact(conv.layer_macs(layer)), exact(conv.layer_params(layer))
        layers.append({"name": layer.name, "type": layer.kind,
                       "shape": f"{' + '.join(map(str, layer.inputs))} → {layer.output}",
                       "input": [shape_array(s) for s in layer.inputs],
                       "output": shape_array(layer.output),
                       units: scale * macs, "params": params,
                       "macs_share": _share(macs, total_macs),
                       "params_share": _share(params, total_params)})
    hidden = [] if all_layers else [row for row in layers if not row[units] and not row["params"]]
    if hidden:
        layers = [row for row in layers if row[units] or row["params"]]
    notes = (f"{network.name} ({settings_text(network.settings)}): total {label} "
             f"{_grouped(scale * total_macs)}, params {_grouped(total_params)}.",
             UNIT_NOTE, convention_note(convention), _SHAPES_NOTE[network.input.rank],
             *([f"{len(hidden)} layers that cost nothing under this convention "
                f"({', '.join(sorted({row['type'] for row in hidden}))}) are not shown; "
                "--all shows them."] if hidden else []),
             *network.notes)
    per_image = any(w.kind == "per_image" for w in network.warnings)
    per_layer = Table(f"{network.name}: per-layer costs{' (per image)' if per_image else ''}", (
        Column("name", "layer"), Column("type", "type"),
        Column("shape", "input → output", display_only=True),
        Column(units, label, "count"), Column("params", "params", "count"),
        Column("macs_share", f"{label} %", "percent"),
        Column("params_share", "params %", "percent")), tuple(layers), notes,
        labelled([network]), fields=("input", "output"))
    groups = []
    counts = {}
    for layer in network.layers:
        counts[layer.kind] = counts.get(layer.kind, 0) + 1
    for kind, (macs, params) in network.type_totals(convention).items():
        macs, params = exact(macs), exact(params)
        groups.append({"type": kind, "layers": counts[kind], units: scale * macs,
                       "params": params, "macs_share": _share(macs, total_macs),
                       "params_share": _share(params, total_params)})
    groups.sort(key=lambda g: (-float(g[units]), -float(g["params"])))
    groups.append({"type": "total", "layers": len(network.layers), units: scale * total_macs,
                   "params": total_params, "macs_share": 100.0 if total_macs else None,
                   "params_share": 100.0 if total_params else None})
    by_type = Table(f"{network.name}: costs per layer type", (
        Column("type", "type"), Column("layers", "layers", "text"),
        Column(units, label, "count"), Column("macs_share", f"{label} %", "percent"),
        Column("params", "params", "count"), Column("params_share", "params %", "percent")),
        tuple(groups), (UNIT_NOTE, convention_note(convention)))
    return per_layer, by_type


def _grouped(value: Any) -> str:
    """A total with thousands separators: 568,740,352; a count that is not whole (idealized
    widths c·alpha) to one decimal."""
    return f"{value:,}" if isinstance(value, int) else f"{float(value):,.1f}"


def _share(part: Any, whole: Any) -> float | None:
    try:
        return 100.0 * float(part) / float(whole) if whole else None
    except TypeError:  # symbolic
        return None


#: How the shapes in a per-layer table read, by the input's number of spatial axes.
_SHAPES_NOTE = {1: "Shapes are L×C (length × channels).", 2: "Shapes are H×W×C.",
                3: "Shapes are T×H×W×C (frames × height × width × channels)."}
