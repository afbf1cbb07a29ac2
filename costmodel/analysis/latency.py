"""Latency estimates: a roofline per layer, against hardware profiles kept as data files.

A layer that runs as a kernel takes ``max(MACs / peak, bytes / bandwidth) + overhead``
seconds: compute-bound when its arithmetic intensity (MACs per byte) is above the profile's
ridge point ``peak / bandwidth``, memory-bound below it. The network's estimate is the sum over
its kernels (layers run one after another). Traffic is :mod:`costmodel.analysis.memory`'s,
in the profile's dtype, unfused (every activation its own kernel) unless ``fused``.

This is a model, not a measurement: it assumes every kernel reaches the device's peak or its
full bandwidth, and that caches do not hold a layer's data between kernels. The latency report
holds it against measured times and says where it fails.

Profiles are TOML files: the built-in ones in ``costmodel/hardware/`` (each citing where its
peak figures come from), or any file given by path, with ``name``, ``description``, ``dtype``,
``peak_macs_per_second``, ``bandwidth_bytes_per_second``, ``overhead_seconds_per_layer``,
``source`` and an optional ``[peaks]`` table of other dtypes' peaks
(:mod:`costmodel.analysis.hardware_profile` reads and checks them). `costmodel calibrate`
writes one for this machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import limits
from ..core.network import Network
from ..errors import CostModelError
from . import memory
from .hardware_profile import Hardware, builtin_names, from_toml, load, profiles

__all__ = ["Hardware", "builtin_names", "from_toml", "load", "profiles", "LayerTime",
           "Estimate", "check_batch", "estimate", "record"]


@dataclass(frozen=True)
class LayerTime:
    name: str
    kind: str
    macs: int
    bytes: int
    seconds: float
    bound: str  # "compute" or "memory"

    @property
    def intensity(self) -> float | None:
        return self.macs / self.bytes if self.bytes else None


@dataclass(frozen=True)
class Estimate:
    network: str
    hardware: Hardware
    dtype: str
    fused: bool
    layers: tuple[LayerTime, ...]
    batch: int = 1

    @property
    def total_seconds(self) -> float:
        return sum(layer.seconds for layer in self.layers)

    @property
    def peak_macs_per_second(self) -> float:
        """The profile's peak in this estimate's dtype."""
        return self.hardware.peak_for(self.dtype)

    @property
    def ridge(self) -> float:
        return self.peak_macs_per_second / self.hardware.bandwidth_bytes_per_second

    def share(self, bound: str) -> float:
        total = self.total_seconds
        return sum(l.seconds for l in self.layers if l.bound == bound) / total if total else 0.0


def check_batch(batch: int) -> None:
    """Refuse a batch outside 1 to MAX_LATENCY_BATCH, before any work."""
    if isinstance(batch, bool) or not isinstance(batch, int) or not \
            1 <= batch <= limits.MAX_LATENCY_BATCH:
        raise CostModelError(f"--batch {batch}: give a whole number of images from 1 to "
                             f"{limits.MAX_LATENCY_BATCH:,} (limit MAX_LATENCY_BATCH)")


def estimate(network: Network, hardware: Hardware, dtype: str | None = None,
             fused: bool = False, overhead: bool = True, batch: int = 1) -> Estimate:
    """The roofline estimate of every kernel of ``network`` (layers that are not kernels,
    such as folded batch norm, take no time) for a batch of ``batch`` images: MACs and
    feature maps scale with the batch, weights are read once. Knobs must be numbers; the
    profile must have a peak for ``dtype`` (default: the profile's own)."""
    if network.free_symbols:
        raise CostModelError("a latency estimate needs every knob set to a number")
    check_batch(batch)
    dtype = dtype or hardware.dtype
    size = memory.dtype_bytes(dtype)
    peak = hardware.peak_for(dtype)
    fixed = hardware.overhead_seconds_per_layer if overhead else 0.0
    times = []
    for m in memory.layers_memory(network, fused):
        traffic = (batch * int(m.read + m.written) + int(m.weights)) * size
        macs = batch * int(m.macs)
        if traffic == 0 and macs == 0:
            continue
        compute = macs / peak
        transfer = traffic / hardware.bandwidth_bytes_per_second
        times.append(LayerTime(m.name, m.kind, macs, traffic, max(compute, transfer) + fixed,
                               "compute" if compute >= transfer else "memory"))
    return Estimate(network.name, hardware, dtype, fused, tuple(times), batch)


def record(est: Estimate) -> dict:
    """The JSON contract of `costmodel latency`: hw, total_seconds and layers (name, macs,
    bytes, seconds, bound), plus the assumptions."""
    return {"model": est.network, "hw": est.hardware.name, "dtype": est.dtype,
            "fused": est.fused, "batch": est.batch, "total_seconds": est.total_seconds,
            "peak_macs_per_second": est.peak_macs_per_second,
            "bandwidth_bytes_per_second": est.hardware.bandwidth_bytes_per_second,
            "overhead_seconds_per_layer": est.hardware.overhead_seconds_per_layer,
            "layers": [{"name": l.name, "type": l.kind, "macs": l.macs, "bytes": l.bytes,
                        "seconds": l.seconds, "bound": l.bound} for l in est.layers]}
