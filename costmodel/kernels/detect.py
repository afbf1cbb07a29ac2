"""Group a network's layers into runtime kernels, and describe each kernel by features.

A *kernel* is what the runtime runs as one call: a head layer and the single-input layers
fused after it (conv → bn → relu when the runtime folds them). Whether ``a → b`` fuses is a
*rule* keyed by the two layers' rule classes (``"conv->bn"``), measured by calibration as
nn-Meter does (time a, b and a→b; see :mod:`.measure`), never assumed: without a rule, two
layers are two kernels. As in nn-Meter, a layer whose output several layers read (a branch
point) ends its kernel.

Features are exact counts of the kernel's work for a batch: ``macs`` (multiply-accumulates of
its convolution or fully connected layer), ``bytes`` (feature maps read by the head and
written by the last layer, batch times, plus the weights once, in the dtype's bytes),
``ops`` (the other arithmetic: element-wise operations and pooling window positions),
``planes`` (output channels × batch: a depthwise kernel's cost per channel plane),
``written`` (the bytes of the map the last layer writes: a convolution's output costs more
than its input to touch, and inside a network it is a fresh buffer, which the profile's
in-context term prices again for every kernel),
``weights`` (the head's weight bytes again: inside a network they come cold from memory, a
large share of a 1×1 convolution on a small map with many channels),
``cold_weights`` (the weight bytes again, times :func:`cold_share` of the network's weights:
those a forward pass has evicted by the time it comes back to them; ResNet-101's 1×1
convolutions at 7×7 take 245 µs inside a network of 13 MB of weights and 340 µs inside one
of 100 MB, on this machine), ``footprint`` (the weight bytes of the whole network the kernel
ran in, or its own timed alone: what :func:`cold_share` reads, not a model feature),
``macs_c4`` and ``macs_c16`` (the MACs again, of a convolution whose input or output
channels, per group for a grouped one, are not a multiple of 4, or of 16: :func:`ragged`;
else 0) and ``one`` (1: a fixed
cost per kernel call).

The two alignment features are there because runtimes vectorize across channels and pay for
a ragged tail. Measured here (one thread): ONNX Runtime runs a 3×3 depthwise convolution on
a 28² map in 24–26 µs with 96, 100 or 104 channels and in 159–165 µs with 97, 98 or 102 (its
blocked layout needs a multiple of 4), and a dense 3×3 one in 1.09 ms with 96 channels but
1.41–1.57 ms with 97 to 104 (blocks of 16); PyTorch eager runs the depthwise one at 56² in
216–291 µs with 96, 112 or 128 channels and in 469–531 µs with 100, 104, 116 or 120. Which
of them a runtime shows is left to the fit: a coefficient the measurements do not call for
comes out 0. Every kernel type's model is linear in some of these (:mod:`.profile`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.network import Layer, Network
from ..errors import CostModelError

#: the bytes a kernel writes: a convolution model's feature, and what the in-context term
#: prices for every kernel
WRITTEN = "written"
#: the bytes of weights a kernel reads cold because its network's weights overflow the cache
COLD = "cold_weights"
FEATURES = ("macs", "bytes", "ops", "planes", "macs_c4", "macs_c16", WRITTEN, "weights", COLD,
            "one")

#: activations: one rule class, one kernel type each
ACTIVATIONS = ("relu", "relu6", "sigmoid", "hsigmoid", "hswish", "swish")


def kernel_type(layer: Layer) -> str:
    """The kernel type a layer heads: convolutions by shape (dense ``conv`` k > 1,
    ``pwconv`` 1×1, grouped ``gconv`` k > 1 and ``gpwconv`` 1×1, ``dwconv`` depthwise), else
    the op's own name."""
    if layer.op in ("conv", "pw", "dw"):
        kind = layer.kind
        if kind.startswith("conv dw"):
            return "dwconv"
        if kind.startswith("gconv"):
            return "gpwconv" if kind.endswith("1x1") else "gconv"
        return "pwconv" if kind.endswith("1x1") else "conv"
    return layer.op


def rule_class(layer: Layer) -> str:
    """The class a fusion rule names: every convolution but the depthwise one is ``conv``,
    every activation ``act``, max and average pooling ``pool``; else the kernel type."""
    kind = kernel_type(layer)
    if kind in ("conv", "pwconv", "gconv", "gpwconv"):
        return "conv"
    if kind in ACTIVATIONS:
        return "act"
    if kind in ("maxpool", "avgpool"):
        return "pool"
    return kind


def rule_key(first: str, second: str) -> str:
    return f"{first}->{second}"


@dataclass(frozen=True)
class Kernel:
    """One runtime kernel: its type (the head layer's), its layers (head first) and the
    features of its work for the batch it was grouped for."""

    type: str
    layers: tuple[Layer, ...]
    features: tuple[tuple[str, float], ...]

    @property
    def name(self) -> str:
        return self.layers[0].name

    @property
    def label(self) -> str:
        """``conv+bn+relu``: the kinds of its layers, as nn-Meter names fused kernels."""
        return "+".join([self.type] + [kernel_type(layer) for layer in self.layers[1:]])

    def feature(self, name: str) -> float:
        return dict(self.features)[name]


def _int(value: object, layer: Layer) -> int:
    if isinstance(value, int) or getattr(value, "is_Integer", False):
        return int(value)
    raise CostModelError(f"layer {layer.name}: a latency estimate needs every knob set to a "
                         f"number (got {value})")


def _numel(shape, layer: Layer) -> int:
    return _int(shape.c, layer) * _int(shape.h, layer) * _int(shape.w, layer)


def ragged(cin: int, cout: int, block: int) -> bool:
    """Whether a convolution's channels leave a ragged tail on ``block``-wide vectors: its
    output channels not a multiple, or its input channels at least a block wide and not a
    multiple (an input narrower than a block, an RGB stem, is a layout of its own)."""
    return bool(cout % block or (cin >= block and cin % block))


def cold_share(footprint: float, cache_bytes: float) -> float:
    """The share of a kernel's weights read cold when its network holds ``footprint`` bytes
    of weights, each read once a forward pass, and ``cache_bytes`` of them stay cached: none
    while they fit, then ``1 − cache / footprint`` (a sweep through more than an LRU cache
    holds would miss every time; real caches keep a part). 0 where ``cache_bytes`` is 0, a
    profile without the term."""
    if cache_bytes <= 0 or footprint <= cache_bytes:
        return 0.0
    return 1 - cache_bytes / footprint


def weight_bytes(network: Network, dtype_bytes: int = 4) -> int:
    """The bytes of all of ``network``'s weights: what a forward pass reads of them."""
    return dtype_bytes * sum(_int(layer.counts.weights, layer) for layer in network.layers)


def features(layers: tuple[Layer, ...], batch: int = 1, dtype_bytes: int = 4,
             footprint: float | None = None, cache_bytes: float = 0.0
             ) -> tuple[tuple[str, float], ...]:
    """The features of a kernel made of ``layers`` (head first), for ``batch`` images, in a
    network of ``footprint`` weight bytes (default: the kernel's own, as when timed alone)
    whose weights beyond ``cache_bytes`` are read cold."""
    head, last = layers[0], layers[-1]
    macs = batch * _int(head.counts.macs, head)
    moved = batch * (sum(_numel(s, head) for s in head.inputs) + _numel(last.output, last))
    weights = _int(head.counts.weights, head)
    ops = batch * _int(head.counts.elementwise, head)
    planes = batch * _int(last.output.c, last)
    written = batch * _numel(last.output, last) * dtype_bytes
    cin, cout = _int(head.inputs[0].c, head), _int(head.output.c, head)
    if kernel_type(head) in ("gconv", "gpwconv"):  # vectorized within each group
        groups = _int(dict(head.attrs).get("g") or 1, head)
        cin, cout = cin // groups, cout // groups
    footprint = weights * dtype_bytes if footprint is None else footprint
    return (("macs", float(macs)), ("bytes", float((moved + weights) * dtype_bytes)),
            ("ops", float(ops)), ("planes", float(planes)),
            ("macs_c4", float(macs if ragged(cin, cout, 4) else 0)),
            ("macs_c16", float(macs if ragged(cin, cout, 16) else 0)), ("one", 1.0),
            (WRITTEN, float(written)), ("weights", float(weights * dtype_bytes)),
            (COLD, weights * dtype_bytes * cold_share(footprint, cache_bytes)),
            ("footprint", float(footprint)))


def consumers(network: Network) -> dict[str, int]:
    """How many layers read each layer's output (the network's own output counts as one)."""
    count: dict[str, int] = {}
    for layer in network.layers:
        for source in layer.sources:
            count[source] = count.get(source, 0) + 1
    if network.layers:
        last = network.layers[-1].name
        count[last] = count.get(last, 0) + 1
    return count


def _joins(kernel: list[Layer], layer: Layer, fused: frozenset[str]) -> bool:
    """Whether ``layer`` joins ``kernel`` (whose last layer it reads): by the rule from the
    last layer's class, or, when every layer after the head is a batch norm the head folds
    (``conv->bn``), by the rule from the head's class: ONNX Runtime runs conv → bn → relu
    as one convolution with the activation fused, measured as ``conv->bn`` and
    ``conv->act``, never as ``bn->act``."""
    own = rule_class(layer)
    if rule_key(rule_class(kernel[-1]), own) in fused:
        return True
    head = rule_class(kernel[0])
    return len(kernel) > 1 and rule_key(head, own) in fused and all(
        rule_class(member) == "bn" and rule_key(head, "bn") in fused for member in kernel[1:])


def group(network: Network, fused: frozenset[str] = frozenset(), batch: int = 1,
          dtype_bytes: int = 4, cache_bytes: float = 0.0) -> tuple[Kernel, ...]:
    """The kernels of ``network``, in execution order: a single-input layer joins the kernel
    of the layer it reads when ``rule_key(class of that layer, its own class)`` is in
    ``fused`` and nothing else reads that layer's output."""
    readers = consumers(network)
    members: list[list[Layer]] = []
    kernel_of: dict[str, int] = {}
    for layer in network.layers:
        sources = layer.sources
        if len(sources) == 1 and sources[0] in kernel_of and readers.get(sources[0]) == 1:
            index = kernel_of[sources[0]]
            if members[index][-1].name == sources[0] and _joins(members[index], layer, fused):
                members[index].append(layer)
                kernel_of[layer.name] = index
                continue
        kernel_of[layer.name] = len(members)
        members.append([layer])
    footprint = weight_bytes(network, dtype_bytes)
    return tuple(Kernel(kernel_type(group_[0]), tuple(group_),
                        features(tuple(group_), batch, dtype_bytes, footprint, cache_bytes))
                 for group_ in members)
