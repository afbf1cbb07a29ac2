"""Kernel configurations to measure, drawn from the distribution real networks use.

The prior is every layer of the zoo's networks at their default settings (nn-Meter draws its
samples from its zoo's layers the same way): a sample takes one of them and moves it, so the
calibration covers the zoo's shapes *and beyond*: the spatial size scaled by 0.5 to 1.6 (a
fifth of the time height and width independently, so rectangular maps are measured too) and
the channel counts by 0.5 to 1.6 (groups kept dividing them; a convolution's rounded to a
multiple of 1, 4, 8 or 16 alike). A third of the samples are
drawn from broad log-uniform ranges instead, to cover what no zoo network has.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache

from sympy import Integer

from ..core.network import Layer
from ..core.opdef import apply
from ..core.ops import Shape
from .detect import kernel_type

CONV_TYPES = ("conv", "pwconv", "gconv", "gpwconv", "dwconv")


@dataclass(frozen=True)
class Config:
    """One kernel to measure: an op, its attributes, its inputs (C, H, W) and the batch."""

    op: str
    attrs: tuple[tuple[str, int], ...]
    inputs: tuple[tuple[int, int, int], ...]
    batch: int = 1

    def layer(self) -> Layer:
        """The layer this configuration is, counted by the op's own formula."""
        shapes = tuple(Shape.image(Integer(c), Integer(h), Integer(w), "input")
                       for c, h, w in self.inputs)  # sympy integers, as a network's shapes
        result = apply(self.op, shapes, {k: Integer(v) for k, v in self.attrs})
        return Layer("kernel", self.op, result.kind, self.attrs, shapes, result.shape,
                     result.counts)


@lru_cache(maxsize=1)
def prior() -> dict[str, tuple[Config, ...]]:
    """The zoo's layers at default settings as configurations, by kernel type."""
    from ..zoo import names, resolve

    found: dict[str, dict[Config, None]] = {}
    for model in names():
        for layer in resolve(model).build().layers:
            if any(s.rank != 2 for s in layer.inputs) or \
                    any(isinstance(v, tuple) for _, v in layer.attrs):
                continue  # sampling moves square 2-D windows (Inception's 1x7 is not sampled)
            inputs = tuple((int(s.c), int(s.h), int(s.w)) for s in layer.inputs)
            attrs = tuple((k, int(v)) for k, v in layer.attrs if v is not None)
            config = Config(layer.op, attrs, inputs)
            found.setdefault(kernel_type(layer), {})[config] = None
    return {kind: tuple(configs) for kind, configs in found.items()}


def _scaled(value: int, factor: float, multiple: int = 1) -> int:
    return max(multiple, int(round(value * factor / multiple)) * multiple)


def _alignment(rng: random.Random) -> int:
    """The multiple a convolution sample's channels are rounded to: real networks' channels
    are mostly multiples of 8 or 16 (ShuffleNet v2's 116 and 232 are of 4), and runtimes run
    those faster (:mod:`.detect`), so both kinds are drawn."""
    return rng.choice((1, 4, 8, 16))


def _group_multiple(groups: int, rng: random.Random) -> int:
    """The multiple a convolution's channels are rounded to: :func:`_alignment` of the
    channels of each group. ResNeXt's 32 groups hold 4, 8, 16 or 32 channels each, and a
    grouped convolution whose groups hold a multiple of 4 ran at 60 ps a MAC here, one with
    7, 9 or 17 at 90–150: rounding the whole count to a multiple of 32 had drawn mostly the
    slow kind, and the model priced ResNeXt-50's grouped convolutions at 3× their time."""
    return groups * _alignment(rng)


def _moved(config: Config, rng: random.Random) -> Config:
    """``config`` with its spatial size and channels scaled (module doc)."""
    attrs = dict(config.attrs)
    factor_h = rng.uniform(0.5, 1.6)
    factor_w = rng.uniform(0.5, 1.6) if rng.random() < 0.2 else factor_h
    channels = rng.uniform(0.5, 1.6)
    c, h, w = config.inputs[0]
    k = attrs.get("k", 1)
    low = max(1, k - 2 * attrs.get("p", (k - 1) // 2))  # a window must fit
    h2, w2 = (max(low, _scaled(h, factor_h)), max(low, _scaled(w, factor_w))) if h > 1 else (h, w)
    if config.op == "fc":
        return Config("fc", (("c", _scaled(attrs["c"], channels)),),
                      ((_scaled(c * h * w, rng.uniform(0.5, 1.6)), 1, 1),))
    groups = attrs.get("g", 1)
    if config.op == "dw" or config.op in ("split",):
        c2 = _scaled(c, channels, _alignment(rng) if config.op == "dw" else 1)
        if config.op == "split":
            attrs["c"] = max(1, min(c2, _scaled(attrs["c"], channels)))
        return Config(config.op, tuple(attrs.items()), ((c2, h2, w2),), config.batch)
    if "c" in attrs and config.op in ("conv", "pw"):
        multiple = _group_multiple(groups, rng)
        c2 = c if c <= 4 else _scaled(c, channels, multiple)  # a stem keeps its RGB input
        attrs["c"] = _scaled(attrs["c"], rng.uniform(0.5, 1.6), multiple)
        return Config(config.op, tuple(attrs.items()), ((c2, h2, w2),), config.batch)
    if config.op == "shuffle":
        c2 = _scaled(c, channels, groups)
        return Config("shuffle", config.attrs, ((c2, h2, w2),))
    if config.op == "concat":
        return Config("concat", (), tuple((_scaled(ci, channels), h2, w2)
                                          for ci, _, _ in config.inputs))
    c2 = _scaled(c, channels)
    inputs = tuple((c2, h2, w2) if (hi, wi) != (1, 1) else (c2, 1, 1)
                   for _, hi, wi in config.inputs)
    return Config(config.op, config.attrs, inputs, config.batch)


def _log_uniform(rng: random.Random, low: float, high: float) -> int:
    return int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def _broad(kind: str, template: Config, rng: random.Random) -> Config:
    """A configuration of ``kind`` from broad ranges, with ``template``'s op and attributes."""
    side = rng.choice((7, 14, 28, 56, 112)) if rng.random() < 0.6 else _log_uniform(rng, 4, 160)
    width = side if rng.random() < 0.8 else _log_uniform(rng, 4, 160)
    c = _log_uniform(rng, 8, 1024)
    attrs = dict(template.attrs)
    if kind == "fc":
        return Config("fc", (("c", _log_uniform(rng, 10, 4096)),), ((_log_uniform(rng, 64, 25088),
                                                                      1, 1),))
    if kind in CONV_TYPES:
        k = attrs.get("k", 1)
        if k > 1:
            attrs["k"] = rng.choice((3, 3, 3, 5, 7)) if kind != "gconv" else 3
            attrs.pop("p", None)
        attrs["s"] = rng.choice((1, 1, 1, 2)) if "s" in attrs or k > 1 else attrs.get("s", 1)
        side, width = max(side, attrs.get("k", 1)), max(width, attrs.get("k", 1))
        groups = attrs.get("g", 1)
        if kind == "dwconv":
            align = _alignment(rng)
            return Config("dw", tuple(attrs.items()), ((max(align, c // align * align), side,
                                                        width),))
        multiple = _group_multiple(groups, rng)
        c = max(multiple, c // multiple * multiple)
        attrs["c"] = max(multiple, _log_uniform(rng, 8, 1024) // multiple * multiple)
        return Config(template.op, tuple(attrs.items()), ((c, side, width),))
    return _moved(template, rng)


def draw(kind: str, rng: random.Random) -> Config | None:
    """One configuration of kernel type ``kind`` (None when the zoo has no such layer)."""
    configs = prior().get(kind)
    if not configs:
        return None
    template = rng.choice(configs)
    for _ in range(20):  # a moved window that no longer fits is drawn again
        candidate = _broad(kind, template, rng) if rng.random() < 1 / 3 else _moved(template, rng)
        try:
            layer = candidate.layer()
        except Exception:  # noqa: BLE001  (any shape the op refuses: draw again)
            continue
        if kernel_type(layer) == kind and _small_enough(candidate, layer):
            return candidate
    return template


def _small_enough(config: Config, layer: Layer) -> bool:
    """At most 2 GMACs and 64 MiB of feature maps: a sample must time in well under a second."""
    elements = sum(c * h * w for c, h, w in config.inputs) + int(layer.output.numel)
    return int(layer.counts.macs) <= 2e9 and elements * 4 <= 64 * 2**20


@dataclass(frozen=True)
class Sample:
    """One kernel timed: alone (``config`` is what was measured) or inside a network
    (:mod:`.incontext`; no config)."""

    kind: str
    config: Config | None
    seconds: float
    spread: float
    features: tuple[tuple[str, float], ...]
    where: str = "alone"
