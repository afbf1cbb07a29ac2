"""The "beyond FLOPs" part of `costmodel report`: memory (MobileNet v2 Table 3 and §5.1),
ShuffleNet v2's memory access cost (Tables 1 and 2, symbolically), the guidelines over the zoo,
and latency held against measurements, as tables (.md, .tex, .csv) and figures (.png, .svg)
in their own folder, with a section of the report index.

    >>> from costmodel.report.beyond_flops import write
    >>> paths, index_section = write("reports/beyond_flops")     # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..analysis import guidelines as G
from ..analysis import latency as L
from ..analysis import memory as M
from ..analysis.tracking import measured_file
from ..core.network import exact
from ..data.published import figures
from .latency_report import (DATASETS, latency_cpu, latency_fits, latency_ops,
                             latency_pixel1, latency_scatter, latency_table8_arm,
                             latency_table8_gpu, network)
from ..safe_io import write_atomic
from ..spec.ref import spec_string
from .table import Column, Table

FOLDER = "beyond_flops"
KB = 1000  # MobileNet v2 Table 3's "Kb": 1600 for 112×112×64 at 2 bytes = 1,605,632 bytes
FP16 = M.dtype_bytes("fp16")
UNITS = "MACs = multiply-accumulates; 1 MAC = 2 FLOPs."
MV2 = "Sandler et al., MobileNetV2, arXiv 1801.04381"
SV2 = "Ma et al., ShuffleNet V2, arXiv 1807.11164"


# --- MobileNet v2 Table 3 and §5.1 --------------------------------------------------------------

def mobilenet_v2_table3() -> Table:
    """The largest tensor to materialize at each resolution, 16-bit activations."""
    rows = []
    for fig in figures(source="mobilenet_v2", table="Table 3"):
        spec = spec_string(fig.model, dict(fig.config))
        tensors = [t for t in M.materialized(network(spec)) if not t.streamed]
        side = fig.at.get("H") if fig.at else None
        kept = [t for t in tensors if side is None or t.h == side]
        best = max(kept, key=lambda t: t.numel) if kept else None
        kb = exact(best.numel * FP16) / KB if best else None
        rows.append({
            "label": fig.label, "spec": spec,
            "channels_published": fig.max_channels, "kb_published": fig.memory_kb,
            "channels": int(best.c) if best else None,
            "kb": round(float(kb), 1) if best else None,
            "delta": round(100 * (float(kb) / fig.memory_kb - 1), 1) if best else None,
            "tensor": f"{best.name} ({best.h}×{best.w}×{best.c})" if best else
                      "none: every tensor of this size is streamed",
            "note": fig.note or ""})
    g2 = "shufflenet_v1:alpha=2,g=2"
    best = M.largest_materialized(network(g2))
    rows.append({"label": "max / ShuffleNet (2x, g=2), not in the paper", "spec": g2,
                 "channels": int(best.c), "kb": round(exact(best.numel * FP16) / KB, 1),
                 "tensor": f"{best.name} ({best.h}×{best.w}×{best.c})",
                 "note": "the widths the paper's ShuffleNet column lists (400/800/1600)"})
    return Table(f"MobileNet v2 Table 3: largest tensor to materialize (fp16), {MV2}", (
        Column("label", "size / network"), Column("channels_published", "channels (paper)", "text"),
        Column("kb_published", "KB (paper)", "text"), Column("channels", "channels", "text"),
        Column("kb", "KB computed", "text"), Column("delta", "Δ%", "delta"),
        Column("tensor", "tensor (layer that writes it)"), Column("note", "note")),
        tuple(rows), (
        "Computed: the largest buffer that must exist whole when chains conv → per-channel ops "
        "(depthwise, pooling, shuffle) → channel-reducing conv are computed a tile of channels "
        "at a time (costmodel.analysis.memory.materialized; batch norm and activations in "
        "place). KB = 1000 bytes at 2 bytes per element, as the paper's 1600 for 112×112×64.",
        "The max rows are the paper's headline: MobileNet v1 1600K and MobileNet v2 400K are "
        "reproduced; ShuffleNet 2x g=3's largest tensor is 28×28×480 (753K), while the "
        "paper's 400/800/1600 channels are ShuffleNet 2x with g = 2 (627K, the last row).",
        "Per-size rows count one tensor where the paper sometimes counts two (see notes)."))


def mobilenet_v2_working_set() -> Table:
    """§5.1: each inverted residual needs its bottleneck tensors plus a small working set."""
    rows = []
    for w in M.working_sets(network("mobilenet_v2")):
        rows.append({"block": f"{w.first} → {w.last}",
                     "x": exact(w.bottleneck_in * FP16), "y": exact(w.bottleneck_out * FP16),
                     "inner": exact(w.largest_inner * FP16),
                     "materialized": exact(w.peak_materialized * FP16),
                     "streamed": exact(w.peak_streamed * FP16),
                     "ratio": round(float(w.peak_materialized / w.peak_streamed), 2)})
    peak = M.peak_memory(network("mobilenet_v2"), fused=True)
    largest = M.largest_materialized(network("mobilenet_v2"))
    return Table(f"MobileNet v2 §5.1: working set of each inverted residual (fp16 bytes), {MV2}", (
        Column("block", "chain (first → last kernel)"), Column("x", "bottleneck in", "count"),
        Column("y", "bottleneck out", "count"), Column("inner", "largest expanded", "count"),
        Column("materialized", "peak, all materialized", "count"),
        Column("streamed", "peak, streamed", "count"), Column("ratio", "ratio", "text")),
        tuple(rows), (
        "Peak, all materialized: the most bytes alive at one step of the block when every "
        "tensor exists whole (the block input kept for a residual add). Peak, streamed: |x| + "
        "|y| + one channel of each expanded map, the paper's |x| + |y| + O(max(s², s'²)).",
        f"Whole network (fused, layers in order): peak {exact(peak.bytes('fp16')):,} bytes with "
        f"everything materialized, at {peak.step}; the largest tensor that must be "
        f"materialized is {exact(largest.numel * FP16):,} bytes ({largest.name}).", UNITS))


# --- ShuffleNet v2 Tables 1 and 2: memory access cost, symbolically -----------------------------

def _derived(name: str):
    from ..analysis.derive import derive
    d = derive(name)
    by_label = {q.label: q.expr for q in d.extras}
    return d, by_label, {s.name: s for s in d.expr.free_symbols | set().union(
        *(e.free_symbols for e in by_label.values()))}


def _settings(d, extra, sym, table: str):
    """Each published setting of ShuffleNet v2's ``table``: the figure, its values keyed by
    symbol, B (MACs) and the memory access cost there, and the paper's speeds as printed."""
    for fig in figures(source="shufflenet_v2", table=table):
        at = {sym[k]: v for k, v in fig.at.items()}
        speeds = next(iter(fig.measured.values()))
        yield (fig, at, exact(extra["B (MACs)"].subs(at)), exact(d.expr.subs(at)),
               " / ".join(f"{s:g}" for s in speeds))


def shufflenet_v2_table1() -> Table:
    """G1's validation settings: MAC = hw(c1 + c2) + c1c2 against its minimum at equal FLOPs."""
    d, extra, sym = _derived("shufflenet_v2_g1")
    rows = []
    for fig, at, macs, mac, speed in _settings(d, extra, sym, "Table 1"):
        bound = extra["lower bound"].subs({**at, sym["B"]: macs})
        rows.append({"label": fig.label, "c1": fig.at["c1"], "c2": fig.at["c2"], "macs": macs,
                     "mac": mac, "bound": round(float(bound)),
                     "excess": round(100 * (float(mac / bound) - 1), 1), "speed": speed})
    return Table(f"ShuffleNet v2 Table 1 (G1): memory access cost of its 1×1 convs, {SV2}", (
        Column("label", "setting"), Column("c1", "c1", "text"), Column("c2", "c2", "text"),
        Column("macs", "B (MACs)", "count"), Column("mac", "MAC", "count"),
        Column("bound", "2√(hwB) + B/hw", "count"), Column("excess", "MAC above bound %", "text"),
        Column("speed", "measured ×1/×2/×4 (paper)", "text")), tuple(rows), (
        f"MAC = {d.expr} (costmodel derive shufflenet_v2_g1: from the pw primitive's shapes); "
        f"its minimum at fixed B is {extra['lower bound']}, at c1 = c2. h = w = 56.",
        "MAC here is memory access cost in elements, not multiply-accumulates. Speeds: GPU "
        "batches/s or ARM images/s as printed; they fall as MAC rises at (nearly) equal B.",
        UNITS))


def shufflenet_v2_table2() -> Table:
    """G2's settings: MAC = hw(c1 + c2) + c1c2/g at (nearly) equal FLOPs."""
    d, extra, sym = _derived("shufflenet_v2_g2")
    rows = []
    for fig, _, macs, mac, speed in _settings(d, extra, sym, "Table 2"):
        dense = extra["MAC at fixed B"].subs({sym["H"]: 56, sym["W"]: 56, sym["B"]: macs,
                                              sym["c1"]: fig.at["c1"], sym["g"]: 1})
        rows.append({"label": fig.label, "g": fig.at["g"], "c": fig.at["c1"], "macs": macs,
                     "mac": mac, "dense": exact(dense),
                     "excess": round(100 * (float(mac / dense) - 1), 1), "speed": speed})
    return Table(f"ShuffleNet v2 Table 2 (G2): memory access cost of grouped 1×1 convs, {SV2}", (
        Column("label", "setting"), Column("g", "g", "text"), Column("c", "c1 = c2", "text"),
        Column("macs", "B (MACs)", "count"), Column("mac", "MAC", "count"),
        Column("dense", "MAC at g = 1, same B, c1", "count"),
        Column("excess", "excess %", "text"),
        Column("speed", "measured ×1/×2/×4 (paper)", "text")), tuple(rows), (
        f"MAC = {d.expr} (costmodel derive shufflenet_v2_g2); at fixed B it is "
        f"{extra['MAC at fixed B']}, growing with g. h = w = 56.",
        "MAC here is memory access cost in elements, not multiply-accumulates.", UNITS))


# --- guidelines over the zoo -------------------------------------------------------------------

GUIDELINE_MODELS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "shufflenet_v1:g=1",
                    "shufflenet_v1:g=3", "shufflenet_v1:g=8", "shufflenet_v2",
                    "shufflenet_v2:alpha=0.5", "squeezenet", "googlenet", "resnet50",
                    "resnext50_32x4d", "vgg16")


def guidelines_zoo() -> Table:
    """ShuffleNet v2's G1-G4 over the zoo."""
    rows = []
    for spec in GUIDELINE_MODELS:
        row: dict[str, Any] = {"model": spec}
        for c in G.check(network(spec)):
            value = "" if c.value is None else f"{c.value:g}"
            row[c.guideline] = f"{c.status} ({value})" if value else c.status
        rows.append(row)
    checks = G.check(network("shufflenet_v2"))
    return Table(f"ShuffleNet v2's guidelines over the zoo, {SV2}", (
        Column("model", "model"), *(Column(g, g) for g in ("G1", "G2", "G3", "G4"))),
        tuple(rows), tuple(f"{c.guideline}: {c.title}; value = {c.value_label}; {c.rule}."
                           for c in checks) + (
        "costmodel guidelines SPEC lists the layers behind each verdict. The thresholds are "
        "costmodel's choices (the paper measures, it sets no limits).",))


TABLES: dict[str, Callable[[], Table]] = {
    "mobilenet_v2_table3": mobilenet_v2_table3,
    "mobilenet_v2_working_set": mobilenet_v2_working_set,
    "shufflenet_v2_table1_mac": shufflenet_v2_table1,
    "shufflenet_v2_table2_mac": shufflenet_v2_table2,
    "guidelines_zoo": guidelines_zoo,
    "latency_pixel1": latency_pixel1,
    "latency_table8_gpu": latency_table8_gpu,
    "latency_table8_arm": latency_table8_arm,
    "latency_fits": latency_fits,
}
if "cpu_this_machine" in DATASETS:
    TABLES["latency_cpu"] = latency_cpu
    if measured_file("op_times.csv") is not None:
        TABLES["latency_ops"] = latency_ops


# --- figures ------------------------------------------------------------------------------------

def _roofline(folder: Path) -> list[Path]:
    """Roofline: every kernel of MobileNet v1, v2 and ShuffleNet v2 1× as a point (MACs per
    byte, attained MACs per second under the estimate) under the roofs of the Pixel 1 and the
    GTX 1080 Ti profiles."""
    import numpy as np

    from .figures import _footnote, _new_figure, _save_both, _style

    models = (("mobilenet_v1", "#0072B2", "o"), ("mobilenet_v2", "#D55E00", "s"),
              ("shufflenet_v2", "#009E73", "^"))
    with _style():
        fig = _new_figure(12.0, 6.2)
        axes = fig.subplots(1, 2)
        for ax, (hw, fused) in zip(axes, (("pixel1", True), ("gtx1080ti", False))):
            profile = L.load(hw)
            for spec, colour, marker in models:
                est = L.estimate(network(spec), profile, fused=fused)
                x = [l.intensity for l in est.layers if l.intensity and l.macs]
                y = [l.macs / l.seconds for l in est.layers if l.intensity and l.macs]
                ax.scatter(x, y, s=22, color=colour, marker=marker, alpha=0.75, label=spec,
                           edgecolors="none")
            xs = np.logspace(-2, 3, 200)
            ax.plot(xs, np.minimum(profile.peak_macs_per_second,
                                   xs * profile.bandwidth_bytes_per_second),
                    color="0.2", linewidth=1.6, label="roof")
            ax.axvline(profile.ridge, color="0.5", linestyle=":", linewidth=1)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("arithmetic intensity (MACs per byte, fp32)")
            ax.set_ylabel("MACs per second (estimate)")
            ax.set_title(f"{hw} ({'fused' if fused else 'unfused'}; ridge {profile.ridge:.2g})",
                         fontsize=11)
            ax.legend(loc="lower right", fontsize=9)
        _footnote(fig, "Points: each kernel's MACs over its roofline time (max of MACs/peak "
                       "and bytes/bandwidth, plus the profile's per-kernel overhead), so they "
                       "sit on the roof, or below it by the overhead: an estimate, not a "
                       "measurement. Layers with no MACs (activations, adds, pooling) are "
                       "not drawn.")
        return _save_both(fig, folder, "roofline")


FIGURES: dict[str, Callable[[Path], list[Path]]] = {
    "roofline": _roofline,
    "latency_vs_predictors": latency_scatter,
}


# --- writing -----------------------------------------------------------------------------------

def write(folder: str | Path) -> tuple[list[Path], str]:
    """Write every table (.md, .tex, .csv) and figure (.png, .svg) into ``folder``; return the
    paths and the Markdown section for the report index (links relative to its parent)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    lines = ["", "## Beyond FLOPs: memory, guidelines, latency", "",
             "Memory traffic, peak memory and the tensors to materialize "
             "(`costmodel memory`), ShuffleNet v2's guidelines (`costmodel guidelines`) and "
             "roofline latency held against published measurements (`costmodel latency`). "
             "MAC in the ShuffleNet v2 tables means memory access cost.", "",
             "| table | rows | files |", "|:---|---:|:---|"]
    for name, build in TABLES.items():
        table = build()
        written = []
        for ext, fmt in (("md", "markdown"), ("tex", "latex"), ("csv", "csv")):
            path = folder / f"{name}.{ext}"
            write_atomic(path, table.render(fmt), "report file")
            written.append(path)
        paths += written
        files = " · ".join(f"[{p.suffix[1:]}]({FOLDER}/{p.name})" for p in written)
        lines.append(f"| [{table.title}]({FOLDER}/{name}.md) | {len(table.rows)} | {files} |")
    lines.append("")
    for name, draw in FIGURES.items():
        drawn = draw(folder)
        paths += drawn
        caption = " ".join((draw.__doc__ or "").split())
        lines += [f"### {name}", "", caption, "",
                  f"![{name}]({FOLDER}/{name}.png)", "",
                  " · ".join(f"[{p.suffix[1:]}]({FOLDER}/{p.name})" for p in drawn), ""]
    return paths, "\n".join(lines)
