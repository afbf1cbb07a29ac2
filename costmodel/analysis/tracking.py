"""How well a cost predicts measured speed: Spearman rank correlation and the error left after
fitting one scale factor, for MACs alone, memory traffic alone and the roofline estimate.

The measurements are data with citations: TF-slim's Pixel 1 latencies of its MobileNet v2
checkpoints (``costmodel/data/tf_slim_checkpoints.csv``) and MobileNet v2's Table 4 (Pixel 1,
TF-Lite); ShuffleNet v2's Table 8 GPU batches/s and ARM images/s (``published.toml``); and
this machine's CPU times of ``to_torch`` modules when they have been measured
(``reports/data/cpu_times.csv``, see ``benchmarks/measure_cpu_times.py``).

A fitted scale ``s`` makes ``measured ≈ s × predictor`` in the least-squares sense on log
times (the geometric mean of measured / predicted); the error of a point is then
``measured / (s × predictor) - 1``. A predictor that ranks the models right but needs a
different scale per model family shows a high rank correlation and a large error.
"""

from __future__ import annotations

import csv
import importlib.resources
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..core.network import Network
from ..spec.ref import spec_string
from . import latency as L
from . import memory as M


@dataclass(frozen=True)
class Point:
    """One measured model: a label, its spec string and its measured seconds per image (or
    per batch, for throughputs measured per batch)."""

    label: str
    spec: str
    seconds: float
    source: str
    printed_macs: float | None = None  # the MACs the source prints for the row, if any


def pixel1_points() -> tuple[Point, ...]:
    """TF-slim's MobileNet v2 Pixel 1 latencies, plus MobileNet v1 from MobileNet v2's
    Table 4 (the same phone and runtime)."""
    from ..data.published import figures

    text = importlib.resources.files("costmodel.data").joinpath(
        "tf_slim_checkpoints.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    points = [Point(f"MobileNet v2 {r['alpha']} @ {r['resolution']}",
                    spec_string(r["model"], {"alpha": float(r["alpha"]),
                                       "resolution": int(r["resolution"])}),
                    float(r["pixel1_ms"]) / 1e3, "TF-slim MobileNet v2 README (Pixel 1, TF-Lite)")
              for r in rows if r["pixel1_ms"]]
    for fig in figures(source="mobilenet_v2", table="Table 4"):
        if fig.model == "mobilenet_v1" and "pixel1_cpu_ms" in fig.measured:
            points.append(Point("MobileNet v1 1.0 @ 224", "mobilenet_v1",
                                fig.measured["pixel1_cpu_ms"] / 1e3,
                                "MobileNet v2 paper, Table 4 (Pixel 1, TF-Lite)"))
    return tuple(points)


def table8_points(device: str) -> tuple[Point, ...]:
    """ShuffleNet v2's Table 8 rows with a measured speed: ``device`` "gpu" (seconds per
    batch, from batches/s) or "arm" (seconds per image, from images/s)."""
    from ..data.published import figures

    key = {"gpu": "gpu_batches_per_s", "arm": "arm_images_per_s"}[device]
    return tuple(Point(fig.label, spec_string(fig.model, dict(fig.config)), 1 / fig.measured[key],
                       f"ShuffleNet v2 paper, Table 8 ({device.upper()})", fig.macs)
                 for fig in figures(source="shufflenet_v2", table="Table 8")
                 if fig.model and key in fig.measured)


MEASURED = "measured"  # costmodel/data/measured/: this machine's times and calibrated profile


def measured_file(name: str):
    """A file of ``costmodel/data/measured/`` (a Traversable), or None when not measured."""
    resource = importlib.resources.files("costmodel.data").joinpath(MEASURED, name)
    return resource if resource.is_file() else None


def cpu_points() -> tuple[Point, ...]:
    """This machine's measured CPU forward times of ``to_torch`` modules
    (``benchmarks/measure_cpu_times.py``), or nothing when they have not been measured."""
    resource = measured_file("cpu_times.csv")
    if resource is None:
        return ()
    lines = resource.read_text(encoding="utf-8").splitlines()
    machine = " ".join(line.lstrip("# ") for line in lines if line.startswith("#"))
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    return tuple(Point(r["spec"], r["spec"], float(r["median_ms"]) / 1e3,
                       f"this machine, benchmarks/measure_cpu_times.py ({machine})")
                 for r in rows if r["median_ms"])


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation (ties get their average rank)."""
    def ranks(values: Sequence[float]) -> list[float]:
        order = sorted(range(len(values)), key=lambda i: values[i])
        result = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                result[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return result

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    var = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / var if var else float("nan")


@dataclass(frozen=True)
class Fit:
    """A predictor against measurements: rank correlation, fitted scale and the errors."""

    predictor: str
    spearman: float
    scale: float
    errors: tuple[float, ...]

    @property
    def median_abs_error(self) -> float:
        values = sorted(abs(e) for e in self.errors)
        n = len(values)
        return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2

    @property
    def max_abs_error(self) -> float:
        return max(abs(e) for e in self.errors)


def fit(predictor: str, predicted: Sequence[float], measured: Sequence[float]) -> Fit:
    log_scale = sum(math.log(m) - math.log(p) for p, m in zip(predicted, measured)) / len(measured)
    scale = math.exp(log_scale)
    errors = tuple(m / (scale * p) - 1 for p, m in zip(predicted, measured))
    return Fit(predictor, spearman(predicted, measured), scale, errors)


#: A row whose printed MACs differ from the exact count of the zoo model by more than this
#: (relative) is a different network (the ShuffleNet v2 authors' own MobileNet v2
#: reimplementation): it is shown but left out of the fits.
SAME_NETWORK = 0.10


@dataclass(frozen=True)
class Predicted:
    """One point's predictors: MACs, traffic bytes and the roofline seconds; ``excluded``
    says why the point is left out of the fits (empty when it is used)."""

    point: Point
    macs: int
    traffic_bytes: int
    roofline_seconds: float
    memory_bound_share: float
    excluded: str = ""


def predict(points: Sequence[Point], hardware: L.Hardware, fused: bool, batch: int = 1,
            build: Callable[[str], Network] | None = None) -> tuple[Predicted, ...]:
    """MACs, traffic (in the profile's dtype) and the roofline estimate of every point."""
    from ..frontends import resolve

    build = build or (lambda spec: resolve(spec).build())
    rows = []
    for point in points:
        network = build(point.spec)
        est = L.estimate(network, hardware, fused=fused, batch=batch)
        macs = int(network.macs())
        excluded = ""
        if point.printed_macs and abs(macs / point.printed_macs - 1) > SAME_NETWORK:
            excluded = (f"printed {point.printed_macs / 1e6:g}M MACs, the zoo's {point.spec} "
                        f"has {macs / 1e6:.1f}M: not the same network")
        rows.append(Predicted(point, macs, int(M.traffic_bytes(network, hardware.dtype, fused)),
                              est.total_seconds, est.share("memory"), excluded))
    return tuple(rows)


def fits(rows: Sequence[Predicted]) -> tuple[Fit, ...]:
    """MACs, traffic and roofline against the measurements, over the rows not excluded."""
    rows = [r for r in rows if not r.excluded]
    measured = [r.point.seconds for r in rows]
    return (fit("MACs", [r.macs for r in rows], measured),
            fit("memory traffic", [r.traffic_bytes for r in rows], measured),
            fit("roofline", [r.roofline_seconds for r in rows], measured))
