"""The latency part of the beyond-FLOPs report: MACs, memory traffic and the roofline held
against measured speed (the Pixel 1, ShuffleNet v2's Table 8 GPU and ARM, and this machine's
CPU when measured), as tables and a figure. Used by :mod:`costmodel.report.beyond_flops`."""

from __future__ import annotations

import csv
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from ..analysis import latency as L
from ..analysis import tracking as T
from .paper_tables import network  # the one per-process cache of built zoo networks
from .table import Column, Table

UNITS = "MACs = multiply-accumulates; 1 MAC = 2 FLOPs."


#: (dataset, points, hardware profile, fused, why that execution model)
DATASETS: dict[str, tuple[Callable[[], tuple[T.Point, ...]], str, bool, str]] = {
    "pixel1": (T.pixel1_points, "pixel1", True,
               "TF-Lite fuses activations into convolutions"),
    "table8_gpu": (lambda: T.table8_points("gpu"), "gtx1080ti", False,
                   "the paper times each operator as its own kernel (G4)"),
    "table8_arm": (lambda: T.table8_points("arm"), "snapdragon810", False,
                   "the paper times each operator as its own kernel (G4)"),
}
if T.measured_file("cpu_times.csv") is not None and T.measured_file("this_machine.toml"):
    DATASETS["cpu_this_machine"] = (
        T.cpu_points, "this_machine.toml", False,
        "to_torch modules run each activation as its own module; batch norm replaced by the "
        "identity (folded)")


def profile_of(dataset: str) -> L.Hardware:
    hw = DATASETS[dataset][1]
    if hw.endswith(".toml"):
        return L.from_toml(T.measured_file(hw).read_text(encoding="utf-8"),
                          f"costmodel/data/measured/{hw}")
    return L.load(hw)


@lru_cache(maxsize=None)
def predicted(dataset: str) -> tuple[T.Predicted, ...]:
    points, _, fused, _ = DATASETS[dataset]
    return T.predict(points(), profile_of(dataset), fused, build=network)


def _latency_points(dataset: str, title: str) -> Table:
    rows = predicted(dataset)
    _, hw, fused, why = DATASETS[dataset]
    fit = {f.predictor: f for f in T.fits(rows)}
    records = []
    for r in rows:
        records.append({
            "label": r.point.label, "spec": r.point.spec, "ms": round(r.point.seconds * 1e3, 3),
            "macs": r.macs, "traffic": r.traffic_bytes,
            "achieved": round(r.macs / r.point.seconds / 1e9, 2),
            "roofline_ms": round(r.roofline_seconds * 1e3, 3),
            "memory_share": round(100 * r.memory_bound_share, 1),
            "fit_macs": None if r.excluded else round(100 * (r.point.seconds / (
                fit["MACs"].scale * r.macs) - 1), 1),
            "fit_roofline": None if r.excluded else round(100 * (r.point.seconds / (
                fit["roofline"].scale * r.roofline_seconds) - 1), 1),
            "excluded": r.excluded})
    profile = profile_of(dataset)
    hw = profile.name
    return Table(title, (
        Column("label", "model"), Column("spec", "spec"), Column("ms", "measured ms", "text"),
        Column("macs", "MACs", "count"), Column("traffic", "traffic (bytes)", "count"),
        Column("achieved", "GMAC/s achieved", "text"),
        Column("roofline_ms", f"roofline ms ({hw})", "text"),
        Column("memory_share", "memory-bound %", "text"),
        Column("fit_macs", "error, MACs fit %", "text"),
        Column("fit_roofline", "error, roofline fit %", "text"),
        Column("excluded", "left out of the fits")), tuple(records), (
        f"Measured: {rows[0].point.source}. Roofline: {profile.description}; "
        f"{profile.source}. Execution model: {'fused' if fused else 'unfused'} ({why}); "
        "fp32, batch 1.",
        "Errors: measured / (fitted scale × predictor) - 1, the scale fitted on the rows not "
        "left out (costmodel.analysis.tracking). GMAC/s achieved: MACs ÷ measured time (per "
        "batch for the GPU), against the profile's peak of "
        f"{profile.peak_macs_per_second / 1e9:.3g} GMAC/s.", UNITS))


def latency_pixel1() -> Table:
    return _latency_points("pixel1", "Latency on a Pixel 1 (TF-Lite) against MACs, memory "
                                     "traffic and the roofline")


def latency_table8_gpu() -> Table:
    return _latency_points("table8_gpu", f"ShuffleNet v2 Table 8, GPU (seconds per batch from "
                                         f"batches/s) against MACs, traffic and the roofline")


def latency_table8_arm() -> Table:
    return _latency_points("table8_arm", f"ShuffleNet v2 Table 8, ARM (seconds per image from "
                                         f"images/s) against MACs, traffic and the roofline")


def latency_cpu() -> Table:
    return _latency_points("cpu_this_machine", "This machine's CPU (to_torch modules, one "
                                               "thread) against MACs, traffic and the roofline")


def latency_ops() -> Table:
    """Single layers on this machine against their roofline (benchmarks/measure_op_times.py):
    where the estimate fails, layer by layer."""
    from ..spec import build, parse_text

    text = T.measured_file("op_times.csv").read_text(encoding="utf-8").splitlines()
    machine = " ".join(line.lstrip("# ") for line in text if line.startswith("#"))
    profile = profile_of("cpu_this_machine")
    rows = []
    for r in csv.DictReader(line for line in text if not line.startswith("#")):
        net = build(parse_text(f"model op\ninput {r['c']} {r['h']} {r['w']}\n{r['line']}\n"))
        est = L.estimate(net, profile)
        layer = est.layers[0]
        measured = float(r["median_us"]) / 1e6
        rows.append({"label": r["label"], "macs": layer.macs, "bytes": layer.bytes,
                     "intensity": round(layer.intensity, 2) if layer.intensity else None,
                     "bound": layer.bound, "roofline_us": round(layer.seconds * 1e6, 1),
                     "measured_us": round(measured * 1e6, 1),
                     "rounds": r["round_medians_us"],
                     "ratio": round(measured / layer.seconds, 2),
                     "gmacs": round(layer.macs / measured / 1e9, 2) if layer.macs else None,
                     "gbs": round(layer.bytes / measured / 1e9, 2)})
    return Table("Single layers on this machine's CPU against the roofline", (
        Column("label", "layer"), Column("macs", "MACs", "count"),
        Column("bytes", "bytes", "count"), Column("intensity", "MACs/byte", "text"),
        Column("bound", "bound"), Column("roofline_us", "roofline µs", "text"),
        Column("measured_us", "measured µs", "text"),
        Column("rounds", "round medians µs", "text"),
        Column("ratio", "measured ÷ roofline", "text"),
        Column("gmacs", "GMAC/s achieved", "text"), Column("gbs", "GB/s achieved", "text")),
        tuple(rows), (
        f"Measured: {machine}. Roofline: costmodel/data/measured/this_machine.toml "
        f"({profile.peak_macs_per_second / 1e9:.3g} GMAC/s matmul, "
        f"{profile.bandwidth_bytes_per_second / 1e9:.3g} GB/s copy, "
        f"{profile.overhead_seconds_per_layer * 1e6:.2g} µs per op), fp32, one layer each "
        "(its own kernel, reading its input and writing its output). Measured is the smallest "
        "round median; the rounds show how much load from other jobs moved it.",
        "Read with care: the bandwidth roof is a 256 MiB copy (DRAM), while these feature maps "
        "(0.7–3.6 MB) fit in the caches, so memory-bound layers can beat it; and PyTorch picks "
        "a different kernel per shape, so two depthwise layers of similar size can differ "
        "several-fold in GMAC/s.", UNITS))


def latency_fits() -> Table:
    """Spearman rank correlation and fitted-scale error, per dataset and predictor."""
    rows = []
    for dataset in DATASETS:
        used = [r for r in predicted(dataset) if not r.excluded]
        for f in T.fits(predicted(dataset)):
            rows.append({"dataset": dataset, "n": len(used), "predictor": f.predictor,
                         "spearman": round(f.spearman, 3),
                         "scale": f"{f.scale:.4g}",
                         "median": round(100 * f.median_abs_error, 1),
                         "max": round(100 * f.max_abs_error, 1)})
    return Table("How well MACs, memory traffic and the roofline track measured speed", (
        Column("dataset", "measurements"), Column("n", "n", "text"),
        Column("predictor", "predictor"), Column("spearman", "Spearman ρ", "text"),
        Column("scale", "fitted scale", "text"), Column("median", "median |error| %", "text"),
        Column("max", "max |error| %", "text")), tuple(rows), (
        "Spearman ρ: rank correlation of predictor and measured time (1 = same order). Fitted "
        "scale: measured ≈ scale × predictor (seconds per MAC, per byte, or measured ÷ "
        "roofline seconds), fitted on log times; errors are what is left.",
        "Rows are left out where the published network is not the zoo's (see the per-dataset "
        "tables). A finding, not a tuned number: the hardware profiles are the vendors' "
        "figures (costmodel/hardware/), not fitted to these measurements.", UNITS))


def latency_scatter(folder: Path) -> list[Path]:
    """Measured time against each predictor after fitting one scale (log-log; the diagonal
    is a perfect prediction), for the Pixel 1 and ShuffleNet v2 Table 8 GPU and ARM."""
    from matplotlib.ticker import NullFormatter

    from .figures import _footnote, _new_figure, _save_both, _style

    with _style():
        fig = _new_figure(12.0, 3.7 * len(DATASETS))
        grid = fig.subplots(len(DATASETS), 3)
        for row_axes, dataset in zip(grid, DATASETS):
            rows = [r for r in predicted(dataset) if not r.excluded]
            fits = T.fits(predicted(dataset))
            values = {"MACs": [r.macs for r in rows],
                      "memory traffic": [r.traffic_bytes for r in rows],
                      "roofline": [r.roofline_seconds for r in rows]}
            measured = [1e3 * r.point.seconds for r in rows]
            for ax, f in zip(row_axes, fits):
                predicted_ms = [1e3 * f.scale * v for v in values[f.predictor]]
                ax.scatter(predicted_ms, measured, s=24, color="#0072B2")
                low = min(predicted_ms + measured) * 0.8
                high = max(predicted_ms + measured) * 1.25
                ax.plot([low, high], [low, high], color="0.5", linestyle="--", linewidth=1)
                ax.set_xscale("log")
                ax.set_yscale("log")
                for axis in (ax.xaxis, ax.yaxis):
                    axis.set_minor_formatter(NullFormatter())  # crowded minor labels
                ax.set_title(f"{dataset}: {f.predictor}\nρ = {f.spearman:.3f}, median |err| "
                             f"{100 * f.median_abs_error:.0f}%", fontsize=10)
                ax.set_xlabel("fitted prediction (ms)")
                ax.set_ylabel("measured (ms)")
        _footnote(fig, "Each predictor times one fitted scale (costmodel.analysis.tracking). "
                       "Pixel 1: TF-slim MobileNet v2 checkpoints and MobileNet v1 (MobileNet "
                       "v2 Table 4); GPU and ARM: ShuffleNet v2 Table 8 rows whose network is "
                       "the zoo's; CPU (when measured): this machine, to_torch modules, one "
                       "thread (costmodel/data/measured/cpu_times.csv).")
        return _save_both(fig, folder, "latency_vs_predictors")
