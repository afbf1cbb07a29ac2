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
``peak_macs_per_second``, ``bandwidth_bytes_per_second``, ``overhead_seconds_per_layer`` and
``source``. `costmodel calibrate` writes one for this machine.
"""

from __future__ import annotations

import importlib.resources
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..core.network import Network
from ..errors import CostModelError
from . import memory

REQUIRED = ("name", "peak_macs_per_second", "bandwidth_bytes_per_second")


@dataclass(frozen=True)
class Hardware:
    """A roofline: peak MACs per second, bandwidth in bytes per second, a fixed cost per
    kernel, the dtype of its figures, and where those figures come from."""

    name: str
    peak_macs_per_second: float
    bandwidth_bytes_per_second: float
    overhead_seconds_per_layer: float = 0.0
    dtype: str = "fp32"
    description: str = ""
    source: str = ""
    path: str = ""

    @property
    def ridge(self) -> float:
        """MACs per byte above which a layer is compute-bound."""
        return self.peak_macs_per_second / self.bandwidth_bytes_per_second


def from_toml(text: str, where: str) -> Hardware:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CostModelError(f"hardware profile {where}: not valid TOML ({exc})") from None
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise CostModelError(f"hardware profile {where}: missing {missing[0]!r} (needs "
                             f"{', '.join(REQUIRED)})")
    numbers = {}
    for key in ("peak_macs_per_second", "bandwidth_bytes_per_second",
                "overhead_seconds_per_layer"):
        value = data.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                key != "overhead_seconds_per_layer" and value == 0):
            raise CostModelError(f"hardware profile {where}: {key} = {value!r}; give a "
                                 "positive number")
        numbers[key] = float(value)
    dtype = str(data.get("dtype", "fp32"))
    memory.dtype_bytes(dtype)
    return Hardware(str(data["name"]), numbers["peak_macs_per_second"],
                    numbers["bandwidth_bytes_per_second"], numbers["overhead_seconds_per_layer"],
                    dtype, str(data.get("description", "")), str(data.get("source", "")), where)


def builtin_names() -> tuple[str, ...]:
    folder = importlib.resources.files("costmodel.hardware")
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def profiles() -> tuple[Hardware, ...]:
    """The built-in profiles, by name."""
    return tuple(load(name) for name in builtin_names())


def load(name_or_path: str) -> Hardware:
    """A built-in profile by name, or a profile file by path (a file is data: parsed as TOML,
    never executed)."""
    if name_or_path in builtin_names():
        resource = importlib.resources.files("costmodel.hardware") / f"{name_or_path}.toml"
        return from_toml(resource.read_text(encoding="utf-8"), f"{name_or_path} (built in)")
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return from_toml(path.read_text(encoding="utf-8"), str(path))
    raise CostModelError(f"unknown hardware {name_or_path!r}; built in: "
                         f"{', '.join(builtin_names())} (or give the path of a .toml profile, "
                         "e.g. one written by `costmodel calibrate`)")


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

    def share(self, bound: str) -> float:
        total = self.total_seconds
        return sum(l.seconds for l in self.layers if l.bound == bound) / total if total else 0.0


def estimate(network: Network, hardware: Hardware, dtype: str | None = None,
             fused: bool = False, overhead: bool = True, batch: int = 1) -> Estimate:
    """The roofline estimate of every kernel of ``network`` (layers that are not kernels,
    such as folded batch norm, take no time) for a batch of ``batch`` images: MACs and
    feature maps scale with the batch, weights are read once. Knobs must be numbers."""
    if network.free_symbols:
        raise CostModelError("a latency estimate needs every knob set to a number")
    dtype = dtype or hardware.dtype
    size = memory.dtype_bytes(dtype)
    fixed = hardware.overhead_seconds_per_layer if overhead else 0.0
    times = []
    for m in memory.layers_memory(network, fused):
        traffic = (batch * int(m.read + m.written) + int(m.weights)) * size
        macs = batch * int(m.macs)
        if traffic == 0 and macs == 0:
            continue
        compute = macs / hardware.peak_macs_per_second
        transfer = traffic / hardware.bandwidth_bytes_per_second
        times.append(LayerTime(m.name, m.kind, macs, traffic, max(compute, transfer) + fixed,
                               "compute" if compute >= transfer else "memory"))
    return Estimate(network.name, hardware, dtype, fused, tuple(times), batch)


def record(est: Estimate) -> dict:
    """The JSON contract of `costmodel latency`: hw, total_seconds and layers (name, macs,
    bytes, seconds, bound), plus the assumptions."""
    return {"model": est.network, "hw": est.hardware.name, "dtype": est.dtype,
            "fused": est.fused, "batch": est.batch, "total_seconds": est.total_seconds,
            "peak_macs_per_second": est.hardware.peak_macs_per_second,
            "bandwidth_bytes_per_second": est.hardware.bandwidth_bytes_per_second,
            "overhead_seconds_per_layer": est.hardware.overhead_seconds_per_layer,
            "layers": [{"name": l.name, "type": l.kind, "macs": l.macs, "bytes": l.bytes,
                        "seconds": l.seconds, "bound": l.bound} for l in est.layers]}
