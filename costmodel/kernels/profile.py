"""Kernel latency profiles: plain JSON data (no pickles: any later version reads them with
the standard library), and the prediction they give.

A profile names the machine, the runtime and its version, the threads, how it was measured,
the fusion rules it found, a fixed cost per forward call (``network_seconds``), per layer
the runtime's executor steps through (``step_seconds``) and per byte a kernel writes inside
a network (``written_seconds_per_byte``: fresh buffers and cold caches, which a kernel timed
alone does not pay; :mod:`.synthetic`), the bytes of a network's weights that stay cached
between forward passes (``cache_bytes``: the rest are read cold, :func:`.detect.cold_share`),
a factor on every kernel's time (``kernel_scale``:
1 as calibration now fits, kept for profiles that hold another), and for every kernel type the
coefficients of its linear model (seconds per feature unit: ``macs``, ``bytes``, ``ops``,
``one``; :mod:`.detect`) with the fit's sample count and errors. A profile file is data from
anywhere: read bounded, parsed by :mod:`json`, every key and value checked.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from .. import limits
from ..errors import CostModelError
from ..safe_io import printable, read_text_bounded
from .detect import FEATURES, WRITTEN, Kernel, group

FORMAT = "costmodel-kernel-profile"
VERSION = 1
#: terms of a kernel's time, by the feature that drives them
TERMS = {"macs": "compute", "ops": "compute", "macs_c4": "compute", "macs_c16": "compute",
         "bytes": "memory", "written": "memory", "weights": "memory", "cold_weights": "memory",
         "planes": "overhead", "one": "overhead"}
MAX_KERNEL_TYPES = 200
MAX_SECONDS_PER_UNIT = 1.0  # a second per MAC, byte or call: far beyond any device
#: a profile holds a few dozen kernel models: a few kB
MAX_KERNEL_PROFILE_BYTES = 1_000_000


@dataclass(frozen=True)
class KernelModel:
    coefficients: tuple[tuple[str, float], ...]
    samples: int = 0
    median_abs_error: float = 0.0
    max_abs_error: float = 0.0
    median_spread: float = 0.0

    def terms(self, kernel: Kernel) -> dict[str, float]:
        """Seconds of each term (compute, memory, overhead) for ``kernel``."""
        out = {"compute": 0.0, "memory": 0.0, "overhead": 0.0}
        values = dict(kernel.features)
        for name, coefficient in self.coefficients:
            out[TERMS[name]] += coefficient * values[name]
        return out


@dataclass(frozen=True)
class KernelProfile:
    name: str
    machine: str
    runtime: str
    threads: int
    method: str
    models: tuple[tuple[str, KernelModel], ...]
    fusion: tuple[tuple[str, bool], ...] = ()
    network_seconds: float = 0.0
    step_seconds: float = 0.0
    dtype: str = "fp32"
    created: str = ""
    extra: tuple[tuple[str, object], ...] = field(default=())
    #: the in-context cost of a byte a kernel writes (a fresh buffer, cold caches)
    written_seconds_per_byte: float = 0.0
    #: how much slower (or faster) a kernel runs inside a network than timed alone
    kernel_scale: float = 1.0
    #: the bytes of a network's weights that stay cached from one forward pass to the next
    #: (:func:`.detect.cold_share`; 0: no kernel reads its weights cold)
    cache_bytes: float = 0.0

    @property
    def fused(self) -> frozenset[str]:
        return frozenset(key for key, fuses in self.fusion if fuses)

    def model(self, kernel_type: str) -> KernelModel | None:
        return dict(self.models).get(kernel_type)

    def to_json(self) -> str:
        data = {"format": FORMAT, "version": VERSION, "name": self.name,
                "machine": self.machine, "runtime": self.runtime, "threads": self.threads,
                "dtype": self.dtype, "created": self.created, "method": self.method,
                "network_seconds": self.network_seconds, "step_seconds": self.step_seconds,
                "written_seconds_per_byte": self.written_seconds_per_byte,
                "kernel_scale": self.kernel_scale, "cache_bytes": self.cache_bytes,
                "fusion": {key: fuses for key, fuses in self.fusion},
                "kernels": {kind: {"coefficients": dict(m.coefficients), "samples": m.samples,
                                   "median_abs_error": m.median_abs_error,
                                   "max_abs_error": m.max_abs_error,
                                   "median_spread": m.median_spread}
                            for kind, m in self.models},
                "notes": dict(self.extra)}
        return json.dumps(data, indent=1, allow_nan=False) + "\n"


# --- reading ----------------------------------------------------------------------------------

TOP_KEYS = {"format", "version", "name", "machine", "runtime", "threads", "dtype", "created",
            "method", "network_seconds", "step_seconds", "written_seconds_per_byte",
            "kernel_scale", "cache_bytes", "fusion", "kernels", "notes"}
MODEL_KEYS = {"coefficients", "samples", "median_abs_error", "max_abs_error", "median_spread"}


def _fail(where: str, what: str) -> CostModelError:
    return CostModelError(f"kernel profile {where}: {what}")


def _text(data: dict, key: str, where: str, limit: int = limits.MAX_PROFILE_TEXT_CHARS) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or len(value) > limit:
        raise _fail(where, f"{key} must be a string of at most {limit} characters")
    return value


def _number(value: object, key: str, where: str, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not 0 <= value <= high:
        raise _fail(where, f"{key} must be a finite number from 0 to {high:g}, got "
                           f"{printable(value, 40)}")
    return float(value)


def _model(kind: str, value: object, where: str) -> KernelModel:
    if not isinstance(value, dict) or set(value) - MODEL_KEYS or "coefficients" not in value:
        raise _fail(where, f"kernels.{printable(kind)} must be a table with coefficients "
                           f"(keys: {', '.join(sorted(MODEL_KEYS))})")
    coefficients = value["coefficients"]
    if not isinstance(coefficients, dict) or not coefficients or \
            set(coefficients) - set(FEATURES):
        raise _fail(where, f"kernels.{printable(kind)}.coefficients must map features "
                           f"({', '.join(FEATURES)}) to seconds per unit")
    coefs = tuple((name, _number(coefficients[name], f"kernels.{kind}.{name}", where,
                                 MAX_SECONDS_PER_UNIT)) for name in FEATURES
                  if name in coefficients)
    samples = value.get("samples", 0)
    if isinstance(samples, bool) or not isinstance(samples, int) or not 0 <= samples <= 10**9:
        raise _fail(where, f"kernels.{printable(kind)}.samples must be a whole number")
    errors = [_number(value.get(k, 0.0), f"kernels.{kind}.{k}", where, 1e6)
              for k in ("median_abs_error", "max_abs_error", "median_spread")]
    return KernelModel(coefs, samples, *errors)


def from_json(text: str, where: str) -> KernelProfile:
    where = printable(where, limits.MAX_QUOTED_PATH_CHARS)
    try:
        data = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(
            _fail(where, f"{c} is not a number a profile may hold")))
    except (json.JSONDecodeError, RecursionError, ValueError) as exc:
        if isinstance(exc, CostModelError):
            raise
        raise _fail(where, f"not valid JSON ({printable(exc, 120)})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _fail(where, f"not a kernel profile (its \"format\" must be \"{FORMAT}\")")
    if data.get("version") != VERSION:
        raise _fail(where, f"version {printable(data.get('version'), 20)}; this costmodel "
                           f"reads version {VERSION}")
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise _fail(where, f"unknown key '{printable(unknown[0])}'; the keys are "
                           f"{', '.join(sorted(TOP_KEYS))}")
    name = _text(data, "name", where, limits.MAX_PROFILE_NAME_CHARS)
    if not name.strip():
        raise _fail(where, "name is empty")
    threads = data.get("threads", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= 4096:
        raise _fail(where, "threads must be a whole number from 1 to 4096")
    fusion = data.get("fusion", {})
    if not isinstance(fusion, dict) or not all(isinstance(v, bool) and isinstance(k, str)
                                               and len(k) <= 80 for k, v in fusion.items()):
        raise _fail(where, "fusion must map rules such as \"conv->bn\" to true or false")
    kernels = data.get("kernels")
    if not isinstance(kernels, dict) or not kernels or len(kernels) > MAX_KERNEL_TYPES:
        raise _fail(where, f"kernels must be a table of 1 to {MAX_KERNEL_TYPES} kernel types")
    models = tuple((printable(kind, 80), _model(kind, value, where))
                   for kind, value in kernels.items())
    notes = data.get("notes", {})
    if not isinstance(notes, dict):
        raise _fail(where, "notes must be a table")
    dtype = _text(data, "dtype", where) or "fp32"
    if dtype not in ("fp32", "fp16", "int8"):
        raise _fail(where, f"dtype '{printable(dtype)}' is not fp32, fp16 or int8")
    return KernelProfile(name, _text(data, "machine", where), _text(data, "runtime", where),
                         threads, _text(data, "method", where), models,
                         tuple(sorted(fusion.items())),
                         _number(data.get("network_seconds", 0.0), "network_seconds", where,
                                 3600.0),
                         _number(data.get("step_seconds", 0.0), "step_seconds", where, 1.0),
                         dtype, _text(data, "created", where),
                         tuple((printable(k, 80), v) for k, v in notes.items()),
                         _number(data.get("written_seconds_per_byte", 0.0),
                                 "written_seconds_per_byte", where, MAX_SECONDS_PER_UNIT),
                         _number(data.get("kernel_scale", 1.0), "kernel_scale", where, 100.0),
                         _number(data.get("cache_bytes", 0.0), "cache_bytes", where, 2.0**50))


def is_kernel_profile(path: str) -> bool:
    """Whether ``--hw`` names a kernel profile (a .json file) rather than a roofline."""
    return path.endswith(".json")


def load(path: str) -> KernelProfile:
    text = read_text_bounded(path, MAX_KERNEL_PROFILE_BYTES, "kernel profile",
                             "MAX_KERNEL_PROFILE_BYTES in costmodel/kernels/profile.py")
    return from_json(text, path)


# --- predicting -------------------------------------------------------------------------------

@dataclass(frozen=True)
class KernelTime:
    kernel: Kernel
    terms: tuple[tuple[str, float], ...]  # empty when the profile has no model for it

    @property
    def known(self) -> bool:
        return bool(self.terms)

    @property
    def seconds(self) -> float:
        return sum(value for _, value in self.terms)

    @property
    def dominant(self) -> str:
        return max(self.terms, key=lambda t: t[1])[0] if self.terms else "unknown"


@dataclass(frozen=True)
class KernelEstimate:
    network: str
    profile: KernelProfile
    batch: int
    kernels: tuple[KernelTime, ...]
    layers: int

    @property
    def fixed_seconds(self) -> float:
        """The runtime's cost outside the kernels: per forward call."""
        return self.profile.network_seconds

    @property
    def unknown(self) -> tuple[str, ...]:
        """The kernel types the profile has no model for, in order of appearance."""
        return tuple(dict.fromkeys(k.kernel.type for k in self.kernels if not k.known))

    @property
    def total_seconds(self) -> float:
        """Every kernel the profile knows plus the fixed cost; see :attr:`unknown`."""
        return self.fixed_seconds + sum(k.seconds for k in self.kernels)

    def term_seconds(self) -> dict[str, float]:
        out = {"compute": 0.0, "memory": 0.0, "overhead": self.fixed_seconds}
        for k in self.kernels:
            for name, value in k.terms:
                out[name] += value
        return out

    @property
    def dominant(self) -> str:
        terms = self.term_seconds()
        return max(terms, key=terms.get)


def predict(network, profile: KernelProfile, batch: int = 1) -> KernelEstimate:
    """Every kernel of ``network`` (grouped by the profile's fusion rules) timed by its
    type's model; a type with no model is kept, marked unknown, and never counted as 0 s
    silently: :attr:`KernelEstimate.unknown` names it."""
    from ..analysis.memory import dtype_bytes

    if network.free_symbols:
        raise CostModelError("a latency estimate needs every knob set to a number")
    kernels = group(network, profile.fused, batch, dtype_bytes(profile.dtype),
                    profile.cache_bytes)
    times = []
    for kernel in kernels:
        model = profile.model(kernel.type)
        if model is None:
            times.append(KernelTime(kernel, ()))
            continue
        terms = {name: profile.kernel_scale * value
                 for name, value in model.terms(kernel).items()}
        # in context: each layer stepped by the executor, each byte written to a fresh buffer
        terms["overhead"] += profile.step_seconds * len(kernel.layers)
        terms["memory"] += profile.written_seconds_per_byte * kernel.feature(WRITTEN)
        times.append(KernelTime(kernel, tuple(terms.items())))
    return KernelEstimate(network.name, profile, batch, tuple(times), len(network.layers))
