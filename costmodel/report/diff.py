"""`costmodel diff` as tables: the totals and the rows by stage, by layer type and by layer."""

from __future__ import annotations

from typing import Any

from ..analysis.compare import settings_text
from ..analysis.diff import DiffRow, NetworkDiff
from ..core.warnings import records as warning_records
from .table import UNIT_NOTE, Column, Table, convention_note

LAYER_ROWS = 15  # layers shown in the per-layer table, largest MACs difference first


def _percent(delta: Any, base: Any) -> float | None:
    return 100.0 * float(delta) / float(base) if base else None


def _record(row: DiffRow, scale: int, units: str) -> dict[str, Any]:
    return {"key": row.key, "a_detail": row.a.detail, "b_detail": row.b.detail,
            "a_type": row.a.kind or None, "b_type": row.b.kind or None,
            "a_size": list(row.a.size) or None, "b_size": list(row.b.size) or None,
            "a_layers": row.a.layers, "b_layers": row.b.layers,
            f"a_{units}": scale * row.a.macs, f"b_{units}": scale * row.b.macs,
            f"delta_{units}": scale * row.macs_delta,
            "delta_percent": _percent(row.macs_delta, row.a.macs),
            "a_params": row.a.params, "b_params": row.b.params,
            "delta_params": row.params_delta}


def _columns(first: str, units: str, label: str, details: bool) -> tuple[Column, ...]:
    return (Column("key", first),
            *((Column("a_detail", "A", drop=1, display_only=True),
               Column("b_detail", "B", drop=1, display_only=True)) if details else ()),
            Column(f"a_{units}", f"A {label}", "count"), Column(f"b_{units}", f"B {label}", "count"),
            Column(f"delta_{units}", f"Δ {label}", "count"),
            Column("delta_percent", f"Δ {label} %", "delta"),
            Column("a_params", "A params", "count"), Column("b_params", "B params", "count"),
            Column("delta_params", "Δ params", "count"))


#: what JSON and CSV carry for the A and B columns: each side's type and size as numbers
_SIDE_FIELDS = ("a_type", "a_size", "b_type", "b_size")


def _json_record(row: DiffRow, scale: int, units: str) -> dict[str, Any]:
    from .table import plain

    return {k: plain(v) for k, v in _record(row, scale, units).items()
            if k not in ("a_detail", "b_detail")}


def diff_tables(result: NetworkDiff, units: str = "macs") -> tuple[Table, Table, Table]:
    """By stage (with each side's output size), by layer type, and the layers that differ."""
    scale, label = (2, "FLOPs") if units == "flops" else (1, "MACs")
    a, b = result.a, result.b
    notes = (f"A = {result.a_spec}: {a.name} ({settings_text(a.settings)}); "
             f"B = {result.b_spec}: {b.name} ({settings_text(b.settings)}).",
             f"Δ = B − A; Δ % is relative to A. Totals: A {scale * result.total.a.macs:,} "
             f"{label}, {result.total.a.params:,} params; B {scale * result.total.b.macs:,} "
             f"{label}, {result.total.b.params:,} params.",
             UNIT_NOTE, convention_note(result.convention))
    warnings = diff_warnings(result)
    rows = lambda items: tuple(_record(r, scale, units) for r in items)  # noqa: E731
    stage = Table("Where the costs differ: by stage (output size per side)",
                  _columns("stage", units, label, True),
                  rows((*result.by_stage, result.total)),
                  ("A stage is the layers at one downsampling of the input (stride = input "
                   "side / output side, to a power of 2); head = the layers after the last "
                   "spatial map.", *notes), warnings, fields=_SIDE_FIELDS)
    costly = [r for r in result.by_type if any((r.a.macs, r.b.macs, r.a.params, r.b.params))]
    free = [r.key for r in result.by_type if r not in costly]
    short = (f"A = {result.a_spec}, B = {result.b_spec}; Δ = B − A; Δ % is relative to A; "
             f"convention {result.convention}.",)
    kind = Table("Where the costs differ: by layer type", _columns("type", units, label, False),
                 rows((*costly, result.total)),
                 ((f"Layer types that cost nothing under this convention: {', '.join(free)}; "
                   "--format json lists them.",) if free else ()) + short)
    shown = result.by_layer[:LAYER_ROWS]
    more = len(result.by_layer) - len(shown)
    layer = Table("Where the costs differ: layer by layer (matched by name; type → output)",
                  _columns("layer", units, label, True), rows(shown),
                  (f"{result.same_layers} layers with the same name cost the same in both; "
                   f"{len(result.by_layer)} differ or are in one network only"
                   + (f" (the {len(shown)} largest MACs differences shown; --format json "
                      "lists all)" if more else "") + ".", *short), fields=_SIDE_FIELDS)
    return stage, kind, layer


def diff_warnings(result: NetworkDiff) -> tuple[str, ...]:
    """Each side's warnings once, as ``A: text`` and ``B: text``."""
    return tuple(dict.fromkeys(f"{side}: {warning.text()}" for side, network in
                               (("A", result.a), ("B", result.b))
                               for warning in network.warnings))


def diff_json(result: NetworkDiff, units: str = "macs") -> dict[str, Any]:
    """The JSON of `costmodel diff`: both networks, the totals and every row, exact."""
    from .table import plain

    scale = 2 if units == "flops" else 1
    side = lambda spec, n: {"spec": spec, "model": n.name,  # noqa: E731
                            "config": {k: plain(v) for k, v in n.config}}
    return {"a": side(result.a_spec, result.a), "b": side(result.b_spec, result.b),
            "convention": result.convention, "units": units,
            "total": _json_record(result.total, scale, units),
            "by_stage": [_json_record(r, scale, units) for r in result.by_stage],
            "by_type": [_json_record(r, scale, units) for r in result.by_type],
            "by_layer": [_json_record(r, scale, units) for r in result.by_layer],
            "warnings": [{"side": side, **record} for side, n in (("a", result.a), ("b", result.b))
                         for record in warning_records(n)]}
