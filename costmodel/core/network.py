"""A Network: an ordered, immutable list of named layers with exact symbolic costs.

Layers carry dotted hierarchical names (``stage2.unit1.conv1``) so that tables can group by
depth. Costs are sympy expressions: numbers when every knob was given a value, closed forms in
the free symbols otherwise. :meth:`Network.evaluate` substitutes values and returns exact
integers (or rationals, for idealized fractional channel counts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import sympy
from sympy import Expr, Integer

from .conventions import DEFAULT, convention
from .ops import Counts, Shape
from .warnings import CostWarning


@dataclass(frozen=True)
class Layer:
    """One primitive op in a network, with its shapes and raw counts."""

    name: str
    op: str
    kind: str
    attrs: tuple[tuple[str, Any], ...]
    inputs: tuple[Shape, ...]
    output: Shape
    counts: Counts
    #: the PyTorch call that computes it where not the op's default (:mod:`.calls`):
    #: what hook-based counters see
    call: str = ""
    #: the path of a module this layer shares with other layers, where the reference calls
    #: one module several times (torchvision's ResNet block and its one ReLU); else empty
    module: str = ""

    @property
    def sources(self) -> tuple[str, ...]:
        """The names of the layers whose outputs this layer reads, in input order ("input"
        for the network's input): the edges of the network's graph."""
        return tuple(shape.producer for shape in self.inputs)

    def macs(self, convention_name: str = DEFAULT) -> Expr:
        return convention(convention_name).layer_macs(self)

    def params(self, convention_name: str = DEFAULT) -> Expr:
        return convention(convention_name).layer_params(self)

    def _repr_latex_(self) -> str:
        return (rf"$\text{{{self.name} ({self.kind})}}:\ \mathrm{{MACs}} = "
                rf"{sympy.latex(self.counts.macs)},\ \mathrm{{params}} = "
                rf"{sympy.latex(self.counts.weights)}$")


@dataclass(frozen=True)
class Network:
    """A built architecture: its name, the knob values it was built with (sympy symbols for
    knobs left symbolic), its input shape and its layers in order."""

    name: str
    config: tuple[tuple[str, Any], ...]
    input: Shape
    layers: tuple[Layer, ...]
    doc: str = ""
    notes: tuple[str, ...] = field(default=())
    assumptions: tuple[Any, ...] = field(default=())
    #: The product of the strides down to the most reduced feature map (32 for MobileNets),
    #: recorded while building.
    total_stride: int = 1
    #: What the count leaves out or assumes (:mod:`.warnings`): every command shows these,
    #: on stderr and in every format, where ``notes`` are shown by ``summary`` only.
    warnings: tuple[CostWarning, ...] = field(default=())
    #: Inputs after the first (``input``), for a traced module whose forward takes several:
    #: their producers are ``input2``, ``input3``... (layers read them by those names).
    extra_inputs: tuple[Shape, ...] = field(default=())

    def holds_at(self, values: Mapping[Any, Any]) -> bool:
        """Whether every assumption holds at ``values`` (symbols or their names to numbers),
        i.e. whether the closed forms are valid there."""
        subs = {_as_symbol(key): value for key, value in values.items()}
        return all(bool(condition.subs(subs)) for condition in self.assumptions)

    @property
    def inputs(self) -> tuple[Shape, ...]:
        """Every input, the first (``input``) first."""
        return (self.input, *self.extra_inputs)

    @property
    def output(self) -> Shape:
        return self.layers[-1].output if self.layers else self.input

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.config)

    @cached_property
    def total(self) -> Counts:
        """Raw counts summed over every layer (one sympy Add per field: adding layer by layer
        would re-flatten the growing sum each time, quadratic in the depth)."""
        return Counts(*(sympy.Add(*(getattr(layer.counts, f.name) for layer in self.layers))
                        for f in fields(Counts)))

    def macs(self, convention_name: str = DEFAULT) -> Expr:
        """Total multiply-accumulates under a convention (1 MAC = 2 FLOPs). ``paper`` and
        ``torch`` read the summed raw counts; a tool's convention applies its rules layer by
        layer."""
        conv = convention(convention_name)
        if conv.tool is None:
            return conv.macs(self.total)
        return sympy.Add(*(conv.layer_macs(layer) for layer in self.layers))

    def params(self, convention_name: str = DEFAULT) -> Expr:
        """Total parameters under a convention."""
        conv = convention(convention_name)
        if conv.tool is None:
            return conv.params(self.total)
        return sympy.Add(*(conv.layer_params(layer) for layer in self.layers))

    @property
    def activations(self) -> Expr:
        """Elements of every layer's output feature map, summed."""
        return self.total.activations

    @property
    def peak_activation(self) -> Expr:
        """The largest single output feature map (elements)."""
        return sympy.Max(*(layer.output.numel for layer in self.layers))

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """The symbols the closed forms depend on (knobs left symbolic)."""
        total = self.total
        return set().union(*(sympy.sympify(value, strict=True).free_symbols
                             for value in (total.macs, total.weights, total.norm_params)))

    def evaluate(self, values: Mapping[Any, Any] | None = None,
                 convention_name: str = DEFAULT) -> dict[str, Any]:
        """Exact totals at ``values`` (symbols or their names to numbers): MACs, params and
        activations as integers where the counts are whole."""
        subs = {_as_symbol(key): sympy.nsimplify(value) if isinstance(value, float) else value
                for key, value in (values or {}).items()}
        return {"macs": exact(self.macs(convention_name).subs(subs)),
                "params": exact(self.params(convention_name).subs(subs)),
                "activations": exact(self.total.activations.subs(subs))}

    def type_totals(self, convention_name: str = DEFAULT) -> dict[str, tuple[Expr, Expr]]:
        """MACs and params per layer type (``conv 1x1``, ``conv dw 3x3``, ``fc``...), in order
        of first appearance, as the MobileNet v1 paper's Table 2 groups them."""
        conv = convention(convention_name)
        groups: dict[str, tuple[Expr, Expr]] = {}
        for layer in self.layers:
            macs, params = groups.get(layer.kind, (Integer(0), Integer(0)))
            groups[layer.kind] = (macs + conv.layer_macs(layer), params + conv.layer_params(layer))
        return groups

    def by_type(self, convention_name: str = DEFAULT):
        """A pandas DataFrame, one row per layer type (in order of first appearance): the
        number of layers, MACs and params (exact ints, or expressions when symbolic)."""
        import pandas as pd  # heavy: imported only where a DataFrame is asked for

        layers: dict[str, int] = {}
        for layer in self.layers:
            layers[layer.kind] = layers.get(layer.kind, 0) + 1
        rows = [{"type": kind, "layers": layers[kind], "macs": exact(macs),
                 "params": exact(params)}
                for kind, (macs, params) in self.type_totals(convention_name).items()]
        return pd.DataFrame(rows).set_index("type")

    def to_frame(self, convention_name: str = DEFAULT):
        """A pandas DataFrame, one row per layer: name, op, type, shapes, MACs, params,
        activations (exact values as Python ints, or sympy expressions when symbolic)."""
        import pandas as pd  # heavy: imported only where a DataFrame is asked for

        conv = convention(convention_name)
        rows = [{"name": layer.name, "op": layer.op, "type": layer.kind,
                 "input": " + ".join(str(s) for s in layer.inputs),
                 "output": str(layer.output),
                 "macs": exact(conv.layer_macs(layer)),
                 "params": exact(conv.layer_params(layer)),
                 "activations": exact(layer.counts.activations)} for layer in self.layers]
        return pd.DataFrame(rows).set_index("name")

    def __repr__(self) -> str:
        """One line: name, knob values, MACs and params (paper convention), layers."""
        settings = ", ".join(f"{key}={value}" for key, value in self.config)
        return (f"<Network {self.name} ({settings}): {_brief(self.macs())} MACs, "
                f"{_brief(self.params())} params, {len(self.layers)} layers>")

    __str__ = __repr__

    def _repr_latex_(self) -> str:
        settings = ", ".join(f"{key}={value}" for key, value in self.config)
        title = f"{self.name} ({settings})".replace("_", r"\_")
        return (rf"$\text{{{title}}}:\ \mathrm{{MACs}} = "
                rf"{sympy.latex(self.macs())},\ \mathrm{{params}} = "
                rf"{sympy.latex(self.params())}$")

    def _repr_html_(self) -> str:
        settings = ", ".join(f"{key}={value}" for key, value in self.config)
        head = (f"<p><b>{self.name}</b> ({settings}): MACs = "
                f"${sympy.latex(self.macs())}$, params = ${sympy.latex(self.params())}$ "
                f"(convention {DEFAULT})</p>")
        return head + self.to_frame()._repr_html_()


def _brief(value: Any) -> str:
    """A count for a one-line repr: 568,740,352; a short closed form as it is; a long one
    by its symbols."""
    value = sympy.sympify(value, strict=True)
    if value.is_Integer:
        return f"{int(value):,}"
    text = str(value)
    if len(text) <= 60:
        return text
    return f"a closed form in {', '.join(sorted(str(s) for s in value.free_symbols))}"


def _as_symbol(key: Any) -> Any:
    if isinstance(key, str):
        from .symbols import symbol
        return symbol(key)
    return key


def exact(value: Any) -> Any:
    """A sympy number as a Python int when it is whole, else left exact (Rational or
    expression)."""
    value = sympy.sympify(value, strict=True)
    if value.is_Integer:
        return int(value)
    return value
