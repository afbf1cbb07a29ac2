"""Memory, per layer and per network, as exact expressions like the MACs.

**Traffic** (ShuffleNet v2's "memory access cost", Ma et al., arXiv 1807.11164, §2): a layer
that runs as its own kernel reads every input feature map once, writes its output once and
reads its weights once. Batch norm is folded into the convolution before it and dropout is the
identity at inference, so neither is a kernel (no traffic, no buffer of its own). With
``fused=True`` the activations and channel splits also run in place or as views (as
inference runtimes such as TF-Lite fuse ReLU into the convolution); by default they are
separate kernels, as the ShuffleNet v2 paper counts its element-wise operators (G4).

**Peak activation memory** under an execution order (by default the network's layer order,
which is topological): a buffer is alive from the step that writes it until the last step
that reads it (the network's input from the start, its output to the end), and the peak is the
largest total of the buffers alive at one step. Branches and shortcuts keep their buffers
alive across the other branch, which is what makes them cost memory.

**Largest tensor to materialize** (MobileNet v2, Sandler et al., arXiv 1801.04381, §5.1 and
Table 3): a tensor produced by a convolution and read once, tile of channels by tile of
channels, by per-channel ops (depthwise convolution, pooling, shuffle) that end in a
channel-reducing convolution need never exist whole: an inverted residual block needs only its
bottleneck tensors and a small working set. See :func:`materialized`.

Counts are elements; bytes are elements × the size of ``dtype`` (weights stored in the same
type). 1 MAC = 2 FLOPs; arithmetic intensity is MACs per byte of traffic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import sympy
from sympy import Expr, Integer

from ..core.network import Layer, Network
from ..core.opdef import Shape, definition_of
from ..errors import CostModelError
from ..safe_io import printable

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "int8": 1}
# What each op does to memory is part of its definition (``OpDef.memory``, core/ops.py):
# ``alias`` "always" (not a kernel at inference: batch norm folds into the conv before it,
# dropout is the identity), "fused" (in place or a view when execution is fused: the
# activations, split) or "never"; ``stream`` "per-channel" (maps a tile of input channels to
# the same tile of output channels) or "reducing" (reduces over input channels: it can
# accumulate a streamed input tile by tile).


def _memory(op: str):
    return definition_of(op).memory


def _per_channel(op: str) -> bool:
    return _memory(op).stream == "per-channel"


def _reducing(op: str) -> bool:
    return _memory(op).stream == "reducing"


ZERO = Integer(0)
TABLE_NOTE = ("Traffic: feature maps read and written and weights read by every kernel "
              "(batch norm folded, dropout the identity, activations separate kernels), in "
              "{dtype} bytes; peak: the most activation bytes alive at once, layers in the "
              "network's order (costmodel memory SPEC shows both per layer).")


def dtype_bytes(dtype: str) -> int:
    """Bytes per element of ``dtype`` (fp32, fp16 or int8)."""
    if dtype not in DTYPE_BYTES:
        raise CostModelError(f"unknown dtype {dtype!r}; use one of {', '.join(DTYPE_BYTES)}")
    return DTYPE_BYTES[dtype]


def is_depthwise(layer: Layer) -> bool:
    """A depthwise convolution: the ``dw`` op, or a ``conv``/``pw`` with one group per input
    channel (g = C, g ≠ 1), read from the op and its attributes, never its display kind."""
    if layer.op == "dw":
        return True
    if layer.op not in ("conv", "pw") or not layer.inputs:
        return False
    groups = dict(layer.attrs).get("g", 1)
    return groups != 1 and groups == layer.inputs[0].c


def is_aliased(layer: Layer, fused: bool = False) -> bool:
    """Whether ``layer`` writes no buffer of its own (folded, identity, in place or a view)."""
    alias = _memory(layer.op).alias
    return alias == "always" or (fused and alias == "fused")


# --- traffic --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerMemory:
    """One layer's memory traffic, in elements: feature maps read and written, weights read."""

    name: str
    op: str
    kind: str
    read: Expr
    written: Expr
    weights: Expr
    macs: Expr
    #: a depthwise convolution (:func:`is_depthwise`)
    depthwise: bool = False

    @property
    def traffic(self) -> Expr:
        return self.read + self.written + self.weights

    def traffic_bytes(self, dtype: str = "fp32") -> Expr:
        return self.traffic * dtype_bytes(dtype)

    def intensity(self, dtype: str = "fp32") -> Expr | None:
        """Arithmetic intensity: MACs per byte of traffic (None for a layer with no traffic)."""
        traffic = self.traffic_bytes(dtype)
        return None if traffic == 0 else sympy.sympify(self.macs, strict=True) / traffic


def layer_memory(layer: Layer, fused: bool = False) -> LayerMemory:
    """The traffic of one layer (zero for a layer that is not a kernel, see the module doc).
    For a single-input layer, read + written + weights is ShuffleNet v2's memory access cost,
    :func:`costmodel.analysis.derivations.memory_access_cost` (the tests check they agree)."""
    macs = _plain(layer.counts.macs)
    if is_aliased(layer, fused):
        return LayerMemory(layer.name, layer.op, layer.kind, 0, 0, 0, macs,
                           is_depthwise(layer))
    return LayerMemory(layer.name, layer.op, layer.kind,
                       sum((_numel(shape) for shape in layer.inputs), 0), _numel(layer.output),
                       _plain(layer.counts.weights), macs, is_depthwise(layer))


def _plain(value: Expr) -> Expr | int:
    """A whole number as a Python int (fast sums), anything else left to sympy."""
    return int(value) if getattr(value, "is_Integer", False) else value


def _numel(shape) -> Expr | int:
    sides = (shape.c, *shape.sizes)
    if all(getattr(side, "is_Integer", False) or isinstance(side, int) for side in sides):
        return math.prod(int(side) for side in sides)
    return shape.numel


def layers_memory(network: Network, fused: bool = False) -> tuple[LayerMemory, ...]:
    return tuple(layer_memory(layer, fused) for layer in network.layers)


def traffic(network: Network, fused: bool = False) -> Expr:
    """The network's memory traffic in elements (one sympy Add over its layers)."""
    return sympy.sympify(sum((m.traffic for m in layers_memory(network, fused)), 0), strict=True)


def traffic_bytes(network: Network, dtype: str = "fp32", fused: bool = False) -> Expr:
    return traffic(network, fused) * dtype_bytes(dtype)


# --- buffers and liveness ---------------------------------------------------------------------

@dataclass(frozen=True)
class Peak:
    """The peak of live activation memory (elements) under ``order``: the step at which it is
    reached and the buffers (named by the layer that writes them) alive then."""

    elements: Expr
    step: str
    alive: tuple[str, ...]
    order: tuple[str, ...]

    def bytes(self, dtype: str = "fp32") -> Expr:
        return self.elements * dtype_bytes(dtype)


def buffers(network: Network, fused: bool = False) -> dict[str, str]:
    """Layer name → the buffer its output lives in (the name of the layer that wrote it;
    "input" for the network's input). Aliased layers share their source's buffer."""
    owner = {_input_name(s, i): _input_name(s, i) for i, s in enumerate(network.inputs)}
    for layer in network.layers:
        # a source that is no layer (an op a front end could not count) is its own buffer
        owner[layer.name] = owner.get(layer.sources[0], layer.sources[0]) \
            if is_aliased(layer, fused) else layer.name
    return owner


def _check_order(network: Network, order: Sequence[str]) -> tuple[str, ...]:
    names = [layer.name for layer in network.layers]
    if sorted(order) != sorted(names):
        missing = sorted(set(names) - set(order)) or sorted(set(order) - set(names))
        check = f"'{printable(missing[0])}'" if missing else "duplicates"
        raise CostModelError(f"the execution order must list every layer once; check {check}")
    by_name = {layer.name: layer for layer in network.layers}
    done = {"input"}
    for name in order:
        for source in by_name[name].sources:
            if source in by_name and source not in done:  # a source that is no layer: free
                raise CostModelError(f"execution order runs '{printable(name)}' before "
                                     f"'{printable(source)}', which it reads")
        done.add(name)
    return tuple(order)


def peak_memory(network: Network, fused: bool = False,
                order: Sequence[str] | None = None) -> Peak:
    """Peak live activation memory (elements) when the layers run in ``order`` (default: the
    network's layer order). A buffer is alive from its writer's step to its last reader's
    step inclusive; the input is alive from the start, the output to the end."""
    order = _check_order(network, order) if order is not None else tuple(
        layer.name for layer in network.layers)
    by_name = {layer.name: layer for layer in network.layers}
    owner = buffers(network, fused)
    step_of = {name: i for i, name in enumerate(order)}
    # every input is alive from the start (a second one as the first: input2, input3...)
    born = {_input_name(s, i): -1 for i, s in enumerate(network.inputs)}
    size = {_input_name(s, i): s.numel for i, s in enumerate(network.inputs)}
    last = dict(born)
    for name in order:
        layer = by_name[name]
        if owner[name] == name:
            born[name], size[name], last[name] = step_of[name], layer.output.numel, step_of[name]
        for source, shape in zip(layer.sources, layer.inputs):
            buffer = owner.get(source, source)
            if buffer not in born:  # written by an op that is not a layer, just before
                born[buffer], size[buffer], last[buffer] = step_of[name], shape.numel, step_of[name]
            last[buffer] = max(last[buffer], step_of[name])
    last[owner[network.layers[-1].name] if network.layers else "input"] = len(order)
    if order and all(getattr(v, "is_Integer", False) for v in size.values()):
        return _numeric_peak(order, born, last, {b: int(v) for b, v in size.items()})
    totals = []
    for i in range(len(order)):
        alive = tuple(b for b in born if born[b] <= i <= last[b])
        totals.append((sympy.Add(*(size[b] for b in alive)), alive))
    if not totals:
        return Peak(network.input.numel, "", ("input",), order)
    if all(total.is_number for total, _ in totals):
        best = max(range(len(totals)), key=lambda i: totals[i][0])  # first of equal peaks
        return Peak(totals[best][0], order[best], totals[best][1], order)
    return Peak(sympy.Max(*(total for total, _ in totals)), "", (), order)


def _input_name(shape: Shape, index: int) -> str:
    return "input" if index == 0 else shape.producer


def _numeric_peak(order: tuple[str, ...], born: dict[str, int], last: dict[str, int],
                  size: dict[str, int]) -> Peak:
    """The same peak in one sweep over the steps, for whole-number sizes."""
    starting: dict[int, list[str]] = {}
    for buffer, step in born.items():
        starting.setdefault(max(step, 0), []).append(buffer)
    ending: dict[int, list[str]] = {}
    for buffer, step in last.items():
        ending.setdefault(step, []).append(buffer)
    alive: dict[str, None] = {}
    total, best, best_step = 0, -1, 0
    for i in range(len(order)):
        for buffer in starting.get(i, ()):
            alive[buffer] = None
            total += size[buffer]
        if total > best:
            best, best_step, best_alive = total, i, tuple(alive)
        for buffer in ending.get(i, ()):
            if buffer in alive:
                del alive[buffer]
                total -= size[buffer]
    return Peak(Integer(best), order[best_step], best_alive, order)


# --- tensors to materialize (MobileNet v2 §5.1, Table 3) --------------------------------------

@dataclass(frozen=True)
class Tensor:
    """A buffer of the fused graph: who writes it, its shape, and whether it is streamed
    (computed tile of channels by tile, never whole) or materialized."""

    name: str
    shape: Shape
    streamed: bool

    @property
    def c(self) -> Expr:
        return self.shape.c

    @property
    def h(self) -> Expr:
        return self.shape.h

    @property
    def w(self) -> Expr:
        return self.shape.w

    @property
    def numel(self) -> Expr:
        return self.shape.numel


def materialized(network: Network) -> tuple[Tensor, ...]:
    """Every buffer of the fused execution (BN, activations, dropout, split in place) and
    whether it must be materialized whole.

    A buffer is streamed when it is not the network's input or output, exactly one kernel
    reads it, its writer can emit it a tile of channels at a time (a convolution, or a
    per-channel op: depthwise, pooling, shuffle) and its reader can consume it so (a
    per-channel op, or a channel-reducing convolution or FC that accumulates into its own
    output). A reducing convolution cannot both read and write streamed buffers (it
    accumulates every output channel from each input tile), so buffers are decided in
    execution order and such a convolution's output is materialized: the inverted residual
    ``x → 1×1 expand → depthwise → 1×1 project → y`` streams its two expanded tensors and
    materializes x and y, as MobileNet v2's §5.1 describes. Merges (add, concat) and the
    network's input and output are always materialized."""
    owner = buffers(network, fused=True)
    readers: dict[str, set[str]] = {}
    for layer in network.layers:
        if owner[layer.name] != layer.name:
            continue
        for source in layer.sources:
            readers.setdefault(owner.get(source, source), set()).add(layer.name)
    by_name = {layer.name: layer for layer in network.layers}
    output = owner[network.layers[-1].name] if network.layers else "input"
    streamed: dict[str, bool] = {_input_name(s, i): False for i, s in enumerate(network.inputs)}
    tensors = [Tensor(_input_name(s, i), s, False) for i, s in enumerate(network.inputs)]
    for layer in network.layers:
        if owner[layer.name] != layer.name:
            continue
        reads = readers.get(layer.name, set())
        reader = by_name[next(iter(reads))] if len(reads) == 1 else None
        # an FC's 1×1 output is one vector: it is not emitted tile by tile
        emits = _per_channel(layer.op) or _reducing(layer.op) and layer.op != "fc"
        consumes = reader is not None and (_per_channel(reader.op) or _reducing(reader.op))
        inputs_streamed = any(streamed.get(owner.get(s, s), False) for s in layer.sources)
        reducing_both_ways = _reducing(layer.op) and not is_depthwise(layer) and inputs_streamed
        is_streamed = (layer.name != output and emits and consumes and not reducing_both_ways)
        streamed[layer.name] = is_streamed
        tensors.append(Tensor(layer.name, layer.output, is_streamed))
    return tuple(tensors)


def largest_materialized(network: Network) -> Tensor:
    """The largest buffer that must exist whole (the first of equal ones), MobileNet v2's
    Table 3 "max" row."""
    kept = [t for t in materialized(network) if not t.streamed]
    return max(kept, key=lambda t: t.numel)


@dataclass(frozen=True)
class WorkingSet:
    """One chain of streamed tensors (an inverted residual block, MobileNet v2 §5.1), in
    elements: the bottleneck tensors it reads and writes, its largest streamed tensor, its
    peak with every tensor materialized, and its peak when the streamed tensors are computed
    one channel at a time: |x| + |y| + one channel of each, the paper's
    |x| + |y| + O(max(s², s'²))."""

    first: str
    last: str
    bottleneck_in: Expr
    bottleneck_out: Expr
    largest_inner: Expr
    peak_materialized: Expr
    peak_streamed: Expr


def working_sets(network: Network) -> tuple[WorkingSet, ...]:
    """Every chain of streamed tensors in ``network`` (see :func:`materialized`), from the
    kernel that writes the first streamed tensor to the reducing kernel that ends it.

    With everything materialized, each step holds its input and output maps, plus the
    chain's input x when something after the chain still reads it (a residual shortcut)."""
    tensors = {t.name: t for t in materialized(network)}
    owner = buffers(network, fused=True)
    kernels = [layer for layer in network.layers if owner[layer.name] == layer.name]
    readers: dict[str, list[Layer]] = {}
    for layer in kernels:
        for source in layer.sources:
            readers.setdefault(owner.get(source, source), []).append(layer)
    sets = []
    for start in kernels:
        sources = [owner.get(s, s) for s in start.sources]
        if not tensors[start.name].streamed or any(b not in tensors or tensors[b].streamed
                                                   for b in sources):
            continue
        chain = [start]
        while tensors[chain[-1].name].streamed:
            chain.append(readers[chain[-1].name][0])
        x_names = sources
        x = sympy.Add(*(tensors[b].numel for b in x_names))
        y = tensors[chain[-1].name].numel
        inner = [tensors[k.name] for k in chain[:-1]]
        shortcut = any(len(readers.get(b, [])) > 1 for b in x_names)
        steps = [sympy.Add(*(tensors[owner.get(s, s)].numel for s in k.sources), tensors[k.name].numel,
                           x if shortcut and i > 0 else 0) for i, k in enumerate(chain)]
        sets.append(WorkingSet(start.name, chain[-1].name, x, y,
                               max((t.numel for t in inner), key=_number),
                               max(steps, key=_number),
                               x + y + sympy.Add(*(t.shape.positions for t in inner))))
    return tuple(sets)


def _number(value: Expr):
    return float(value) if getattr(value, "is_number", False) else 0.0
