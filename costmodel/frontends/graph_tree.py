"""A network's graph as the nested structure the layer-spec language writes.

The language has no variables for feature maps: every line reads the output of the line
before, and branches exist only as ``add:``/``concat:``/``mul:`` sections whose branches all
read the same input and meet again at the merge (``residual:`` is the two-branch add). So it
writes exactly the *series-parallel* graphs. This module recovers that nesting from the
edges (:attr:`~costmodel.core.network.Layer.sources`): from a feature map read by several
layers (a fork) it walks forward in layer order until the open paths close into one layer (the
join, a merge op); each input of the join is one branch, the layers from the fork up to it.
A graph outside that class (a layer reading a map from outside its branch, an output nobody
reads, two branches sharing a layer) gets a :class:`~costmodel.errors.CostModelError` that
names the layer.

Batch norms and activations that directly follow a primitive are folded into it (the
``bn=1 act=relu`` modifiers), as the language's own files write them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..core.network import Layer, Network
from ..core.ops import OPS, activations
from ..errors import CostModelError

INPUT = "input"


@dataclass(frozen=True)
class Line:
    """A primitive layer with the batch norm and activation that follow it, if any."""

    layer: Layer
    bn: Layer | None = None
    act: Layer | None = None
    rename: str | None = None  # the name to write instead of the layer's own (dotted, plain)

    @property
    def layers(self) -> tuple[Layer, ...]:
        return tuple(x for x in (self.layer, self.bn, self.act) if x is not None)


@dataclass(frozen=True)
class Fork:
    """Branches that all read the same feature map, merged by ``merge`` (add, concat, mul).
    An empty branch passes the map through (``identity``)."""

    merge: Layer
    branches: tuple[tuple[Item, ...], ...]

    @property
    def layers(self) -> tuple[Layer, ...]:
        inner = tuple(layer for branch in self.branches for item in branch
                      for layer in item.layers)
        return inner + (self.merge,)


Item = Line | Fork


def _merges(layer: Layer) -> bool:
    return OPS[layer.op].inputs == "many" and len(layer.inputs) > 1


def _foldable(layer: Layer, modifier: str) -> bool:
    """Whether ``bn=1`` or ``act=`` (``modifier``) may follow this layer's line (the builder
    takes them on any primitive without attributes of those names): a batch norm after a conv,
    fc or pool; an activation after those or after a lone batch norm."""
    names = OPS[layer.op].attr_names
    allowed = (layer.op not in ("bn", *activations()) if modifier == "bn"
               else layer.op not in activations())
    return allowed and OPS[layer.op].inputs == "one" and modifier not in names


class _Graph:
    def __init__(self, network: Network):
        self.layers = network.layers
        self.position = {INPUT: -1}
        for i, layer in enumerate(self.layers):
            if layer.op not in OPS:
                raise CostModelError(f"layer {layer.name}: op {layer.op!r} is not in the "
                                     "registry (costmodel/core/ops.py)")
            if layer.name in self.position:
                raise CostModelError(f"layer {layer.name}: the name is used twice; the "
                                     "layer-spec language gives every layer its own name")
            for source in layer.sources:
                if source == "?":
                    raise CostModelError(
                        f"layer {layer.name}: the layer it reads is unknown (a module traced "
                        "with forward hooks has no edges); a graph is needed to write a spec")
                if source not in self.position:
                    raise CostModelError(
                        f"layer {layer.name} reads {source or 'an unnamed map'!r}, which no "
                        "earlier layer of the network writes (an op the front end could not "
                        "count has no layer: see the network's notes)")
            self.position[layer.name] = i
        self.by_name = {layer.name: layer for layer in self.layers}
        # one entry per input slot, so that add(x, x) counts two readers of x
        self.readers: dict[str, list[Layer]] = defaultdict(list)
        for layer in self.layers:
            for source in layer.sources:
                self.readers[source].append(layer)
        last = self.layers[-1].name
        for layer in self.layers[:-1]:
            if not self.readers[layer.name]:
                raise CostModelError(
                    f"layer {layer.name}: its output is never read and it is not the "
                    "network's output; the layer-spec language has one output (a side "
                    "branch such as an auxiliary classifier cannot be written)")
        self.output = last

    def readers_in(self, tensor: str, region: set[str]) -> list[Layer]:
        return [layer for layer in self.readers[tensor] if layer.name in region]

    # --- series-parallel decomposition ------------------------------------------------------

    def chain(self, tensor: str, end: str, region: set[str]) -> tuple[Item, ...]:
        """The items that lead from map ``tensor`` to the output of layer ``end`` using only
        the layers in ``region``."""
        items: list[Item] = []
        while tensor != end:
            readers = self.readers_in(tensor, region)
            if not readers:
                raise CostModelError(f"layer {tensor}: no path from it reaches {end}")
            if len(readers) == 1 and not _merges(readers[0]):
                items.append(Line(readers[0]))
                tensor = readers[0].name
                continue
            join = self.join(tensor, region)
            items.append(self.fork(tensor, join, region))
            tensor = join.name
        return tuple(_fold_modifiers(items))

    def join(self, tensor: str, region: set[str]) -> Layer:
        """The first layer after ``tensor`` through which every path from it passes."""
        open_reads = {tensor: len(self.readers_in(tensor, region))}
        derived = {tensor}
        for layer in self.layers[self.position[tensor] + 1:]:
            if layer.name not in region:
                continue
            outside = [s for s in layer.sources if s not in derived]
            if outside:
                raise CostModelError(
                    f"layer {layer.name} reads {outside[0]}, which lies outside the branches "
                    f"that start at {tensor}; the layer-spec language writes only branches "
                    "that start from one map and merge again (series-parallel graphs)")
            for source in layer.sources:
                open_reads[source] -= 1
            derived.add(layer.name)
            open_reads[layer.name] = len(self.readers_in(layer.name, region))
            live = [name for name, count in open_reads.items() if count > 0]
            if live in ([layer.name], []):
                if not _merges(layer):
                    raise CostModelError(
                        f"layer {layer.name}: the branches from {tensor} end without a merge "
                        "(add, concat or mul); an output nobody reads cannot be written")
                return layer
        raise CostModelError(f"layer {tensor}: its branches never merge again")

    def fork(self, tensor: str, join: Layer, region: set[str]) -> Fork:
        branches, taken = [], {}
        for source in join.sources:
            members = self.ancestors(source, tensor, region, join)
            for name in members:
                if name in taken:
                    raise CostModelError(
                        f"layer {name} feeds two inputs of {join.name} ({taken[name]} and "
                        f"{source}); the layer-spec language cannot share a layer between "
                        "branches")
                taken[name] = source
            branches.append(self.chain(tensor, source, members) if members else ())
        for layer in self.layers[self.position[tensor] + 1:self.position[join.name]]:
            if layer.name in region and layer.name not in taken:
                raise CostModelError(f"layer {layer.name}: its output does not reach "
                                     f"{join.name}, where the branches from {tensor} merge")
        return Fork(join, tuple(branches))

    def ancestors(self, source: str, fork: str, region: set[str], join: Layer) -> set[str]:
        """The layers between map ``fork`` and layer ``source`` (inclusive) in ``region``."""
        found: set[str] = set()
        stack = [] if source == fork else [source]
        while stack:
            name = stack.pop()
            if name in found:
                continue
            if name not in region or name == INPUT:
                raise CostModelError(
                    f"layer {join.name} merges {source}, which is not computed from {fork} "
                    "alone; the layer-spec language writes only branches that start from one "
                    "map and merge again (series-parallel graphs)")
            found.add(name)
            stack.extend(s for s in self.by_name[name].sources if s != fork)
        return found


def _parent(name: str) -> str:
    return name.rpartition(".")[0]


def _belongs(modifier: Layer, line: Layer) -> bool:
    """Whether ``modifier`` is named as part of ``line``'s layer (``conv1.bn``) or beside it
    (``layer1.0.bn1`` after ``layer1.0.conv1``): folding it then moves no layer to another
    scope. A ReLU named as the start of the next unit stays a line of its own."""
    return (_parent(modifier.name) == line.name
            or _parent(modifier.name) == _parent(line.name))


def _fold_modifiers(items: list[Item]) -> list[Item]:
    """``conv``, ``bn``, ``relu`` in a row become one line ``conv ... bn=1 act=relu``."""
    out: list[Item] = []
    for item in items:
        previous = out[-1] if out else None
        if isinstance(item, Line) and isinstance(previous, Line) and \
                _belongs(item.layer, previous.layer):
            if item.layer.op == "bn" and previous.bn is None and previous.act is None \
                    and _foldable(previous.layer, "bn"):
                out[-1] = Line(previous.layer, item.layer, None)
                continue
            if item.layer.op in activations() and previous.act is None \
                    and _foldable(previous.layer, "act"):
                out[-1] = Line(previous.layer, previous.bn, item.layer)
                continue
        out.append(item)
    return out


def network_tree(network: Network) -> tuple[Item, ...]:
    """``network`` as nested items (see the module docstring); a graph the layer-spec
    language cannot write raises a CostModelError naming the layer."""
    if not network.layers:
        raise CostModelError(f"{network.name}: the network has no layers")
    graph = _Graph(network)
    return graph.chain(INPUT, graph.output, set(graph.by_name))
