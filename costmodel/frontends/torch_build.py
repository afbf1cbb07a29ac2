"""Spec → ``nn.Module``: a network's layers as PyTorch modules, run by a graph executor.

:func:`to_torch` turns a built :class:`~costmodel.core.network.Network` (or a SPEC string) into
a :class:`SpecModule`. Its ``forward`` walks the layers in order; each layer reads the outputs
named by ``Layer.sources`` (the graph's edges), so branches, residual adds, concatenations and
gates run exactly as the spec wires them.

How an op becomes PyTorch is part of its definition (``OpDef.torch``, core/ops.py):

* ``torch.module``: ``factory(LayerInfo) -> nn.Module``, the default for every layer;
* ``torch.functions``: call -> ``factory(LayerInfo) -> callable``, a functional call instead
  (as ``F.adaptive_avg_pool2d`` or ``x.mean((2, 3))`` in a hand-written ``forward``): the one
  the layer's call names, else the first.

A ``choose(layer) -> Choice | None`` callback picks, per layer, a functional call, a module
path other than the default, or a factory of its own; two layers given the same path share one
module (as torchvision's ResNet block calls one ReLU twice). Without a callback, :func:`reference_choice` follows the layers' own record of how
their reference implementation writes them (``Layer.call``, ``Layer.module``; core/calls.py):
a zoo model whose reference is torchvision's code comes out written as torchvision writes it,
which is what hook-based counters (thop, ptflops) depend on.

Module paths follow the layer names: ``stage2.unit1.conv1`` is the submodule ``conv1`` of the
containers ``stage2`` and ``unit1``, so ``print(module)`` reads as the spec. A layer whose name
is also a group (``stem`` with ``stem.bn`` and ``stem.relu6`` after it) sits in that group
under its op's name: ``stem.conv``, ``stem.bn``, ``stem.relu6``. Containers are never leaves:
every parameter lives in a leaf module (counters that visit leaves only, as thop, see it).

A fully connected layer flattens a feature map first (``torch.flatten(x, 1)`` in the executor,
as torchvision's ``forward`` does), so its output and what follows are ``N×F`` tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ..core.network import Layer, Network
from ..core.opdef import definition_of, with_defaults
# the small modules for the ops torch.nn has no module for, where they were before
from ..core.torch_forms import Add, ChannelSlice, Concat, Multiply, channel_shuffle  # noqa: F401
from ..errors import CostModelError


@dataclass(frozen=True)
class LayerInfo:
    """What a factory needs: the layer, its attributes with defaults filled in as ints, its
    input channels, and whether its input is a flat ``N×F`` tensor (after a ``fc``)."""

    layer: Layer
    attrs: Mapping[str, int | None]
    cin: int
    flat: bool


@dataclass(frozen=True)
class Choice:
    """How one layer is realized: ``form`` ``"module"`` (at ``path``, default from the layer
    name; layers given one path share its module) or ``"function"``; ``factory`` (a
    ``LayerInfo -> module or callable``) replaces the table's entry for this layer."""

    form: str = "module"
    path: str | None = None
    factory: Callable[[LayerInfo], Any] | None = None


class Group(nn.Module):
    """A container for the layers under one dotted name prefix; the executor calls its
    children, it has no forward of its own."""


def _module_factory(op: str) -> Callable[[LayerInfo], nn.Module]:
    return definition_of(op).torch.module


def _function_factory(layer: Layer) -> Callable[[LayerInfo], Callable[..., Tensor]] | None:
    """The functional form of ``layer``: the one its call names, else its op's first."""
    functions = definition_of(layer.op).torch.functions
    return functions.get(layer.call) or next(iter(functions.values()), None)


def reference_choice(layer: Layer) -> Choice | None:
    """A layer as its reference implementation writes it: a functional call for ``F.*``,
    ``Tensor.*`` and ``+=`` calls, a shared module at ``layer.module``; else the default."""
    if (layer.call.startswith(("F.", "Tensor.")) or layer.call == "+=") and \
            definition_of(layer.op).torch.functions:  # else its module (F.layer_norm's)
        return Choice("function")
    if layer.module:
        return Choice(path=layer.module)
    return None


# --- the executor -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One layer as the executor runs it: read ``sources``, flatten first for a ``fc`` on a
    feature map, call the submodule at ``path`` (or ``function``), store under ``name``;
    ``drop`` lists the values no later step reads."""

    name: str
    op: str
    sources: tuple[str, ...]
    path: str | None
    function: Callable[..., Tensor] | None
    flatten: bool
    drop: tuple[str, ...]


class SpecModule(nn.Module):
    """A network's layers as submodules (named as the layers), run in order along the graph.

    ``run(x, keep=True)`` returns every layer's output by name (for shape checks);
    ``forward(x)`` returns the last layer's."""

    def __init__(self, network: Network,
                 choose: Callable[[Layer], Choice | None] | None = None):
        super().__init__()
        if network.extra_inputs:  # forward(x) runs the layers on one input
            raise CostModelError(f"{network.name} takes {len(network.inputs)} inputs; "
                                 "to_torch builds a module of one input")
        self.network_name = network.name
        self.input_shape = tuple(_int(v, "input", "input shape")
                                 for v in (network.input.c, *network.input.sizes))
        groups = {name.rsplit(".", i)[0] for layer in network.layers
                  for name in [layer.name] for i in range(1, name.count(".") + 1)}
        flat: dict[str, bool] = {"input": False}
        split_taken: dict[str, int] = {}
        steps: list[Step] = []
        for layer in network.layers:
            if not layer.sources or any(s not in flat for s in layer.sources):
                raise CostModelError(f"layer {layer.name} reads {', '.join(layer.sources)}, "
                                     "which no earlier layer writes: the graph is not complete")
            cin = _int(layer.inputs[0].c, layer.name, "input channels")
            attrs = _attrs(layer, cin)
            if layer.op == "split":  # branches take consecutive slices, as torch.chunk gives
                source = layer.sources[0]
                attrs["start"] = split_taken.get(source, 0) % cin
                split_taken[source] = attrs["start"] + attrs["c"]
            is_flat = flat[layer.sources[0]]
            if layer.op == "fc":
                cin = _int(layer.inputs[0].numel, layer.name, "input features")
            info = LayerInfo(layer, attrs, cin, is_flat and layer.op != "fc")
            choice = (choose or reference_choice)(layer) or Choice()
            if choice.form not in ("module", "function"):
                raise CostModelError(f"layer {layer.name}: a Choice's form is 'module' or "
                                     f"'function', got {choice.form!r}")
            path = function = None
            if choice.form == "function":
                factory = choice.factory or _function_factory(layer)
                if factory is None:
                    raise CostModelError(f"{layer.op} has no functional form (layer {layer.name})")
                function = factory(info)
            else:
                path = choice.path or _module_path(layer, groups)
                if not self._has(path):
                    self._install(path, (choice.factory or _module_factory(layer.op))(info))
            flat[layer.name] = layer.op == "fc" or (is_flat and layer.op not in ("gap",))
            steps.append(Step(layer.name, layer.op, layer.sources, path, function,
                              layer.op == "fc" and not is_flat, ()))
        self.steps = tuple(_with_drops(steps))

    def _has(self, path: str) -> bool:
        try:
            self.get_submodule(path)
            return True
        except AttributeError:
            return False

    def _install(self, path: str, module: nn.Module) -> None:
        parent: nn.Module = self
        *prefix, leaf = path.split(".")
        for part in prefix:
            child = parent._modules.get(part)
            if child is None:
                child = Group()
                parent.add_module(part, child)
            parent = child
        parent.add_module(leaf, module)

    def call_of(self, step: Step) -> Callable[..., Tensor]:
        """What runs ``step``: its function, or its submodule as it is now (one may have been
        replaced since), found through ``_modules`` directly: ``get_submodule`` took 5.7 µs a
        step, 10% of MobileNet v3's forward."""
        if step.path is None:
            return step.function
        module: nn.Module = self
        for part in step.path.split("."):
            module = module._modules[part]
        return module

    def run(self, x: Tensor, keep: bool = False,
            call: Callable[[Step, Callable[..., Tensor], list[Tensor]], Tensor] | None = None
            ) -> dict[str, Tensor]:
        """Every layer's output by name (only the last one unless ``keep``); each step's
        function applied to its inputs by ``call(step, function, inputs)`` when one is given
        (costmodel.kernels.incontext times each call so)."""
        values = {"input": x}
        for step in self.steps:
            args = [values[s] for s in step.sources]
            if step.flatten:
                args = [torch.flatten(args[0], 1)]
            function = self.call_of(step)
            values[step.name] = call(step, function, args) if call else function(*args)
            if not keep:
                for name in step.drop:
                    del values[name]
        return values

    def forward(self, x: Tensor) -> Tensor:
        return self.run(x)[self.steps[-1].name]


def _with_drops(steps: list[Step]) -> list[Step]:
    last_use: dict[str, int] = {}
    for index, step in enumerate(steps):
        for source in step.sources:
            last_use[source] = index
    final = steps[-1].name
    drops: dict[int, list[str]] = {}
    for name, index in last_use.items():
        if name != final:
            drops.setdefault(index, []).append(name)
    return [Step(s.name, s.op, s.sources, s.path, s.function, s.flatten,
                 tuple(drops.get(i, ()))) for i, s in enumerate(steps)]


def _module_path(layer: Layer, groups: set[str]) -> str:
    """The layer's name, or ``name.<op>`` when the name is also a group of later layers."""
    if layer.name not in groups:
        return layer.name
    leaf = layer.op
    while f"{layer.name}.{leaf}" in groups:
        leaf += "_"
    return f"{layer.name}.{leaf}"


def _attrs(layer: Layer, cin: int) -> dict[str, Any]:
    """The layer's attributes with the op's defaults, as Python ints (tuples of ints per
    axis: ``k=1x7``; None where the op
    derives a value from the others: conv padding ``d(k-1)/2``, pooling stride ``k``; the
    factories fill those in)."""
    values = with_defaults(layer.op, dict(layer.attrs))
    return {name: None if value is None
            else tuple(_int(v, layer.name, name) for v in value) if isinstance(value, tuple)
            else _int(value, layer.name, name)
            for name, value in values.items()}


def _int(value: Any, layer: str, what: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) or getattr(value, "is_Integer", False):
        return int(value)
    raise CostModelError(f"layer {layer}: {what} is {value}, not a whole number; to_torch "
                         "needs numeric knob values that give whole channel counts and sizes")


def to_torch(spec: str | Network, *, choose: Callable[[Layer], Choice | None] | None = None,
             **knobs: Any) -> SpecModule:
    """An ``nn.Module`` with exactly the layers of ``spec`` (a SPEC string as on the command
    line, with optional knob values as keywords, or a built Network), in eval mode; each layer
    a module or a call as its reference writes it, unless ``choose`` says otherwise."""
    if isinstance(spec, Network):
        if knobs:
            raise CostModelError("knob values go with a SPEC string, not a built Network")
        network = spec
    else:
        from ..zoo import build
        network = build(spec, **knobs)
    return SpecModule(network, choose).eval()
