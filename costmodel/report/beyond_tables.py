"""Tables for the memory, guidelines, latency and hardware commands: the analyses' data
(:mod:`costmodel.analysis.memory`, ``guidelines``, ``latency``) rendered as :class:`Table`."""

from __future__ import annotations

from typing import Any

from ..analysis import memory as M
from ..core.network import Network, exact
from ..safe_io import printable
from .table import Column, Table

UNIT_NOTE = "MACs = multiply-accumulates; 1 MAC = 2 FLOPs."


def traffic_note(dtype: str, fused: bool) -> str:
    how = ("activations and splits run in place (fused)" if fused else
           "every activation, add, split, concat and shuffle is its own kernel")
    return (f"Traffic = feature maps read + written + weights read, per kernel, in {dtype} "
            f"({M.dtype_bytes(dtype)} byte(s) per element); batch norm folded into the conv "
            f"before it, dropout the identity; {how}. Intensity = MACs per byte.")


def peak_note(peak: M.Peak, dtype: str, network: Network | None = None) -> str:
    where = f" while running {peak.step}" if peak.step else ""
    given = network is not None and peak.order != tuple(l.name for l in network.layers)
    how = "the given order" if given else "the network's order"
    return (f"Peak activation memory {exact(peak.bytes(dtype)):,} bytes{where} (layers run in "
            f"{how}; a buffer lives from the layer that writes it to its last "
            "reader, the input from the start and the output to the end).")


def memory_table(network: Network, dtype: str = "fp32", fused: bool = False,
                 peak: M.Peak | None = None) -> Table:
    """Per layer: MACs, elements read and written, weights, traffic in bytes, intensity."""
    rows = []
    for m in M.layers_memory(network, fused):
        rows.append({"name": m.name, "type": m.kind, "macs": exact(m.macs),
                     "read": exact(m.read), "written": exact(m.written),
                     "weights": exact(m.weights), "traffic_bytes": exact(m.traffic_bytes(dtype)),
                     "intensity": _float(m.intensity(dtype))})
    total = M.traffic_bytes(network, dtype, fused)
    largest = M.largest_materialized(network)
    notes = (f"{network.name}: traffic {exact(total):,} bytes ({dtype}), "
             f"MACs {exact(network.macs()):,}, intensity "
             f"{_float(network.macs() / total) or 0:.3g} MACs/byte.",
             peak_note(peak or M.peak_memory(network, fused), dtype, network),
             f"Largest tensor to materialize when inverted-residual-style chains are streamed "
             f"(MobileNet v2 §5.1): {largest.name}, {largest.h}×{largest.w}×{largest.c}, "
             f"{exact(largest.numel * M.dtype_bytes(dtype)):,} bytes.",
             traffic_note(dtype, fused), UNIT_NOTE)
    return Table(f"{network.name}: memory traffic per layer ({dtype})", (
        Column("name", "layer"), Column("type", "type"), Column("macs", "MACs", "count"),
        Column("read", "read (elements)", "count"), Column("written", "written", "count"),
        Column("weights", "weights", "count"), Column("traffic_bytes", "traffic (bytes)", "count"),
        Column("intensity", "MACs/byte", "text")), tuple(rows), notes)


def with_memory(per_layer: Table, network: Network, dtype: str = "fp32") -> Table:
    """``per_layer`` (summary's table) with each layer's traffic in bytes and MACs per byte."""
    by_name = {m.name: m for m in M.layers_memory(network)}
    rows = tuple({**row, "traffic_bytes": exact(by_name[row["name"]].traffic_bytes(dtype)),
                  "intensity": _float(by_name[row["name"]].intensity(dtype))}
                 for row in per_layer.rows)
    from dataclasses import replace

    return replace(per_layer, columns=per_layer.columns + (
        Column("traffic_bytes", f"traffic ({dtype} bytes)", "count"),
        Column("intensity", "MACs/byte", "text")), rows=rows,
        notes=per_layer.notes + (traffic_note(dtype, False),
                                 peak_note(M.peak_memory(network), dtype)))


def _float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return round(float(value), 3)
    except TypeError:
        return None


def guidelines_table(network: Network, checks) -> Table:
    rows = [{"guideline": c.guideline, "status": c.status, "title": c.title,
             "value": "" if c.value is None else f"{c.value}",
             "measures": c.value_label,
             "layers": _names(c.layers)} for c in checks]
    notes = tuple(f"{c.guideline} rule: {c.rule}." for c in checks) + (
        "Guidelines from Ma et al., ShuffleNet V2, arXiv 1807.11164, §2; MAC there means memory "
        "access cost (elements moved), not multiply-accumulates.",)
    return Table(f"{network.name}: ShuffleNet v2's guidelines", (
        Column("guideline", "G"), Column("status", "status"), Column("title", "guideline"),
        Column("value", "value"), Column("measures", "value measures", drop=1),
        Column("layers", "flagged layers")), tuple(rows), notes)


def _names(names: tuple[str, ...], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" … (+{len(names) - limit})" if len(names) > limit else "")


def latency_table(est) -> Table:
    rows = [{"name": l.name, "type": l.kind, "macs": l.macs, "bytes": l.bytes,
             "intensity": None if l.intensity is None else round(l.intensity, 3),
             "microseconds": round(l.seconds * 1e6, 3), "bound": l.bound} for l in est.layers]
    hw = est.hardware
    name = printable(hw.name, None)  # names and sources come from profile files: sanitised
    notes = (f"{est.network} on {name}: {est.total_seconds * 1e3:.4g} ms estimated "
             f"(batch {est.batch}, {est.dtype}); {100 * est.share('memory'):.1f}% of it in "
             "memory-bound layers.",
             f"Roofline: max(MACs / {est.peak_macs_per_second:.4g} MAC/s, bytes / "
             f"{hw.bandwidth_bytes_per_second:.4g} B/s) + {hw.overhead_seconds_per_layer:g} s "
             f"per kernel; ridge point {est.ridge:.3g} MACs/byte. Figures: "
             f"{printable(hw.source, None)}.",
             traffic_note(est.dtype, est.fused),
             "An estimate, not a measurement: it assumes peak throughput and no cache reuse "
             "between kernels.", UNIT_NOTE)
    return Table(f"{est.network}: roofline latency on {name}", (
        Column("name", "layer"), Column("type", "type"), Column("macs", "MACs", "count"),
        Column("bytes", "bytes", "count"), Column("intensity", "MACs/byte", "text"),
        Column("microseconds", "µs", "text"), Column("bound", "bound")), tuple(rows), notes)


def hardware_table(profiles) -> Table:
    rows = [{"name": printable(h.name, None), "description": printable(h.description, None),
             "peak": h.peak_macs_per_second, "bandwidth": h.bandwidth_bytes_per_second,
             "ridge": round(h.ridge, 2), "overhead": h.overhead_seconds_per_layer}
            for h in profiles]
    return Table("Hardware profiles", (
        Column("name", "name"), Column("description", "description"),
        Column("peak", "peak MACs/s", "count"), Column("bandwidth", "bytes/s", "count"),
        Column("ridge", "ridge (MACs/byte)", "text"), Column("overhead", "s per kernel", "text")),
        tuple(rows), tuple(f"{printable(h.name, None)}: {printable(h.source, None)}."
                           for h in profiles) + (
        "Built in: costmodel/hardware/*.toml; give any profile file by path "
         "(--hw my_device.toml); `costmodel calibrate` writes one for this machine.",))
