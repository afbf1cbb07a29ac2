"""Symbolic derivations: the papers' cost formulas, derived from the layer primitives.

Each named derivation builds its structure (a convolution, a separable layer, a bottleneck,
a ShuffleNet unit...) from :func:`costmodel.core.ops.apply` on a symbolic
``Shape(C, H, W)``, exactly as the zoo builds networks, sums the layers' counts and rewrites
the sum into the shape the paper prints (``H·W·(2Ck + 9k²)``). The paper's form is stored
beside it only to *show and test* that the two are equal; the ``expr`` always comes from the
layers. Register a derivation with :func:`derivation` (a second registration of a name is an
error); :func:`derive` returns a frozen :class:`Derivation`.

Whole networks (any zoo model or architecture file) go through :func:`derive_network`: the
network is built with the input side left as the symbol ``R`` (and alpha too, under
``rounding=none``), and its MACs and parameters are turned into polynomials. Spatial sizes
contain ``floor()`` (a stride-2 layer halves an odd side down); substituting ``R = s·q + r``
with ``q`` a non-negative integer symbol and ``s`` the period of those floors (the network's
total stride, or a divisor of it) makes every floor exact, and ``q = (R - r)/s`` gives back a
polynomial in ``R``, valid for every ``R ≡ r (mod s)``.

Conventions used throughout: stride 1 and "same" padding unless stated; MACs are
multiply-accumulates (1 MAC = 2 FLOPs; the papers' FLOPs and Mult-Adds are MACs).

"Same" padding with a symbolic kernel: the conv default ``p = d·(K-1)//2`` becomes
``floor((K - 1)/2)`` when ``K`` is a symbol, and ``out_size`` then reads
``H + 2·floor((K-1)/2) - K + 1``, which sympy cannot reduce to ``H`` because it does not know
that ``K`` is odd. The derivations therefore pass ``p = (K - 1)/2`` explicitly, the exact
"same" padding of an odd kernel: ``out_size`` is then ``floor(H - 1) + 1 = H``, and every
derivation checks that its output side is ``H`` before using it.
"""

from __future__ import annotations

import difflib
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy
from sympy import Expr, Integer, Rational, Symbol

from ..core import ops
from ..core import symbols as S
from ..core.conventions import DEFAULT, convention as get_convention
from ..core.expr import MakeDivisible
from ..core.network import Network, exact
from ..core.ops import Result, Shape
from ..errors import CostModelError

#: ShuffleNet v2's "B": the FLOPs (multiply-adds) of the 1x1 convolution whose memory access
#: cost is bounded, B = h·w·c1·c2 (÷ g for a group convolution). Local to the G1/G2 bounds.
B = Symbol("B", positive=True)

#: What each symbol stands for, in the notation of the source material and the papers.
SYMBOL_MEANING: dict[str, str] = {
    "H": "feature-map height", "W": "feature-map width", "C": "input channels",
    "k": "output channels (the bottleneck width in the residual units)", "g": "groups",
    "K": "kernel size (K×K)", "alpha": "width multiplier α", "rho": "resolution multiplier ρ",
    "t": "expansion factor", "c1": "input channels of the 1×1 conv",
    "c2": "output channels of the 1×1 conv", "R": "input side in pixels",
    "B": "FLOPs (MACs) of the 1×1 conv, h·w·c1·c2 (÷ g)",
}

UNIT_NOTE = "MACs = multiply-accumulates; 1 MAC = 2 FLOPs (the papers' FLOPs/Mult-Adds are MACs)."

MOBILENET_V1 = ("Howard et al., MobileNets: Efficient Convolutional Neural Networks for Mobile "
                "Vision Applications, arXiv 1704.04861")
SHUFFLENET_V1 = ("Zhang et al., ShuffleNet: An Extremely Efficient Convolutional Neural Network "
                 "for Mobile Devices, arXiv 1707.01083")
MOBILENET_V2 = ("Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, "
                "arXiv 1801.04381")
SHUFFLENET_V2 = ("Ma et al., ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture "
                 "Design, arXiv 1807.11164")
RESNET = "He et al., Deep Residual Learning for Image Recognition, arXiv 1512.03385"
RESNEXT = ("Xie et al., Aggregated Residual Transformations for Deep Neural Networks, "
           "arXiv 1611.05431")
ALEXNET = ("Krizhevsky et al., ImageNet Classification with Deep Convolutional Neural Networks, "
           "NIPS 2012")
SOURCE = "the source material (lightweight-CNN notes)"


# --- values -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quantity:
    """A further quantity of a derivation (params, a bound, a ratio at K = 3...), with the
    paper's form where the paper prints one."""

    label: str
    expr: Expr
    paper_form: Expr | None = None
    note: str = ""


@dataclass(frozen=True)
class Step:
    """One layer of the derived structure: what it is, its shapes and its MACs."""

    name: str
    kind: str
    input: str
    output: str
    macs: Expr


@dataclass(frozen=True)
class Derivation:
    """A closed form computed from layer primitives.

    ``expr`` is the main quantity (``quantity`` says which: MACs, a ratio, or a memory access
    cost) as the layers give it, rewritten into the paper's shape; ``paper_form`` is the
    formula the paper prints, kept only to show and test equality (``None`` for whole
    networks, which no paper prints as a polynomial). ``defaults`` fill symbols the user does
    not give in :meth:`at` (the papers' 3×3 kernel); ``assumptions`` state where the closed
    form is valid.
    """

    name: str
    title: str
    citation: str
    expr: Expr
    paper_form: Expr | None
    quantity: str = "MACs"
    extras: tuple[Quantity, ...] = ()
    symbols: tuple[Symbol, ...] = ()
    explanation: str = ""
    steps: tuple[Step, ...] = ()
    defaults: tuple[tuple[Symbol, Any], ...] = ()
    assumptions: tuple[str, ...] = ()
    settings: tuple[tuple[str, Any], ...] = ()
    valid_for: tuple[tuple[Symbol, int, int], ...] = ()

    # -- checks and values --

    def matches_paper(self) -> bool | None:
        """Whether ``expr`` equals the paper's form exactly (``None`` without one)."""
        return None if self.paper_form is None else equal(self.expr, self.paper_form)

    def quantities(self) -> tuple[Quantity, ...]:
        """The main quantity first, then the extras."""
        return (Quantity(self.quantity, self.expr, self.paper_form), *self.extras)

    def at(self, values: Mapping[Any, Any]) -> dict[str, Any]:
        """Every quantity evaluated exactly at ``values`` (symbols or their names to numbers);
        a symbol the derivation has a default for (K = 3) takes it when not given. Returns
        ``{label: value}`` with whole numbers as Python ints; quantities still holding free
        symbols stay expressions."""
        subs = self.substitutions(values)
        results = {}
        for q in self.quantities():
            value = q.expr.subs(subs)
            results[q.label] = exact(sympy.simplify(value) if value.free_symbols else value)
        return results

    def substitutions(self, values: Mapping[Any, Any]) -> dict[Symbol, Any]:
        """``values`` with symbol keys and exact numbers, defaults added for missing symbols."""
        by_name = {s.name: s for s in self.symbols}
        subs: dict[Symbol, Any] = {}
        for key, value in values.items():
            symbol = key if isinstance(key, Symbol) else by_name.get(_knob_symbol_name(key))
            if symbol is None:
                raise CostModelError(f"{self.name} has no symbol {key!r}; its symbols are "
                                     f"{', '.join(s.name for s in self.symbols)}")
            subs[symbol] = _exact_number(value, str(key))
        for symbol, value in self.defaults:
            subs.setdefault(symbol, value)
        for symbol, period, residue in self.valid_for:
            value = subs.get(symbol)
            if value is not None and value.is_number and (not value.is_Integer
                                                          or value % period != residue):
                where = (f"a multiple of {period}" if residue == 0
                         else f"≡ {residue} (mod {period})")
                raise CostModelError(
                    f"{symbol}={value} is outside the closed form's validity ({symbol} must be "
                    f"{where}); `costmodel compare {self.name}:resolution={value}` counts it "
                    "exactly")
        return subs

    def defaults_used(self, values: Mapping[Any, Any]) -> dict[str, Any]:
        given = {key.name if isinstance(key, Symbol) else _knob_symbol_name(key)
                 for key in values}
        return {s.name: v for s, v in self.defaults if s.name not in given}

    # -- renderings --

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex(align="aligned") + "$"

    def latex(self, align: str = "align*") -> str:
        """The derivation as LaTeX: each quantity, with the paper's form where it differs in
        writing, inside an ``align*`` (or ``aligned``) environment."""
        title = _latex_text(f"{self.name}: {self.title}")
        rows = [rf"&\textbf{{{title}}}"]
        for q in self.quantities():
            rows.append(rf"\text{{{_latex_text(q.label)}}} &= {sympy.latex(q.expr)}")
            if q.paper_form is not None:
                same = equal(q.expr, q.paper_form)
                rows.append(rf"\text{{paper}} &= {sympy.latex(q.paper_form)}"
                            rf"\quad\text{{({'equal' if same else 'NOT equal'})}}")
        body = r" \\ ".join(rows)
        return rf"\begin{{{align}}} {body} \end{{{align}}}"

    def to_dict(self, values: Mapping[Any, Any] | None = None) -> dict[str, Any]:
        """The JSON contract of ``costmodel derive --format json``."""
        record: dict[str, Any] = {
            "name": self.name, "title": self.title, "citation": self.citation,
            "quantity": self.quantity, "expr": str(self.expr), "latex": sympy.latex(self.expr),
            "paper_form": None if self.paper_form is None else str(self.paper_form),
            "paper_form_latex": None if self.paper_form is None else sympy.latex(self.paper_form),
            "matches_paper": self.matches_paper(),
            "symbols": {s.name: SYMBOL_MEANING.get(s.name, "") for s in self.symbols},
            "extras": [{"label": q.label, "expr": str(q.expr), "latex": sympy.latex(q.expr),
                        "paper_form": None if q.paper_form is None else str(q.paper_form),
                        "matches_paper": None if q.paper_form is None
                        else equal(q.expr, q.paper_form), "note": q.note}
                       for q in self.extras],
            "steps": [{"name": s.name, "type": s.kind, "input": s.input, "output": s.output,
                       "macs": str(s.macs)} for s in self.steps],
            "assumptions": list(self.assumptions),
            "settings": {k: _plain(v) for k, v in self.settings},
            "explanation": self.explanation,
        }
        if values is not None:
            record["at"] = {"values": {k.name: _plain(v) for k, v in
                                       self.substitutions(values).items()},
                            "defaults_used": {k: _plain(v)
                                              for k, v in self.defaults_used(values).items()},
                            "results": {k: _plain(v) for k, v in self.at(values).items()}}
        return record


def _plain(value: Any) -> Any:
    value = sympy.sympify(value)
    if value.is_Integer:
        return int(value)
    if value.is_Rational:
        return str(value)
    return str(value)


def show_value(value: Any) -> str:
    """A knob value as a user writes it: 7/5 as 1.4 (a terminating decimal), 1/3 as 1/3."""
    if isinstance(value, str):
        return value
    value = sympy.sympify(value)
    if not value.is_Rational or value.is_Integer:
        return str(value)
    denominator = int(value.q)
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return f"{float(value):g}" if denominator == 1 else str(value)


def _latex_text(text: str) -> str:
    return text.replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def _knob_symbol_name(key: str) -> str:
    """``resolution`` is the symbol ``R``; other names are symbol names."""
    symbol = S.KNOB_SYMBOLS.get(key)
    return symbol.name if symbol is not None else key


def _exact_number(value: Any, what: str) -> Any:
    """A number as an exact sympy Integer/Rational; text such as ``14``, ``0.75``, ``10/14``
    is read with :class:`fractions.Fraction` (never ``sympify``)."""
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, float):
        return sympy.nsimplify(value)
    if isinstance(value, int):
        return Integer(value)
    try:
        number = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise CostModelError(f"cannot read {what}={value}: give a number such as 14, 0.75 or "
                             "10/14") from None
    return Rational(number.numerator, number.denominator)


def equal(a: Expr, b: Expr) -> bool:
    """Exact symbolic equality: a cheap ``expand(cancel(a - b))`` first, ``simplify`` when
    that is not conclusive (the tests use ``simplify(a - b) == 0`` throughout)."""
    difference = sympy.expand(sympy.cancel(sympy.sympify(a) - sympy.sympify(b)))
    return difference == 0 or sympy.simplify(difference) == 0


# --- the ShuffleNet v2 memory access cost -------------------------------------------------------

def memory_access_cost(x: Shape, result: Result) -> Expr:
    """ShuffleNet v2's memory access cost (MAC, §2, guideline G1) of one layer: every input
    activation is read once, every output activation written once and every weight read once,
    so a 1x1 convolution with c1 input and c2 output channels on an h×w map costs
    ``h·w·c1 + h·w·c2 + c1·c2/g`` (g groups).

    This is the paper's idealized count (the device memory holds the whole feature maps and
    kernels; biases, batch norm and caches are ignored). It is not a field of
    :class:`~costmodel.core.ops.Counts`, so it is computed here from the layer's shapes:
    input activations ``x.numel``, output activations ``result.shape.numel`` and the layer's
    weights ``result.counts.weights``.
    """
    return x.numel + result.shape.numel + result.counts.weights


# --- the registry ------------------------------------------------------------------------------

DERIVATIONS: dict[str, Callable[[], Derivation]] = {}
_CACHE: dict[str, Derivation] = {}


def derivation(name: str) -> Callable[[Callable[[], Derivation]], Callable[[], Derivation]]:
    """Register ``builder`` as the derivation ``name`` (a name registered twice is an
    error)."""
    def register(builder: Callable[[], Derivation]) -> Callable[[], Derivation]:
        if name in DERIVATIONS:
            raise RuntimeError(f"derivation {name!r} is registered twice")
        DERIVATIONS[name] = builder
        return builder

    return register


def names() -> tuple[str, ...]:
    """The registered derivation names, in the order the source material walks through
    them."""
    return tuple(DERIVATIONS)


def derive(name: str) -> Derivation:
    """The derivation called ``name`` (computed once per process); an unknown name is a user
    error that lists the known ones."""
    if name not in DERIVATIONS:
        near = difflib.get_close_matches(name, DERIVATIONS, n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(near)}? " if near else ""
        raise CostModelError(f"unknown derivation {name!r}; {hint}derivations: "
                             f"{', '.join(DERIVATIONS)} (or a zoo model or .cm file for a whole "
                             "network)")
    if name not in _CACHE:
        _CACHE[name] = DERIVATIONS[name]()
    return _CACHE[name]


def derive_any(name: str, **network_options: Any) -> Derivation:
    """A registered derivation, or else a whole network (zoo model or spec string)."""
    if name in DERIVATIONS:
        return derive(name)
    from ..zoo import names as model_names

    bare = ":" not in name and "/" not in name and not name.endswith(".cm")
    if bare and name not in model_names():
        from pathlib import Path

        if not Path(name).is_file():
            near = difflib.get_close_matches(name, [*DERIVATIONS, *model_names()], n=4,
                                             cutoff=0.6)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise CostModelError(f"unknown derivation or model {name!r}; {hint}derivations: "
                                 f"{', '.join(DERIVATIONS)}; models: costmodel list (or give "
                                 "the path of a .cm file)")
    return derive_network(name, **network_options)


# --- building blocks -------------------------------------------------------------------------

def same(kernel: Expr) -> Expr:
    """Exact "same" padding for an odd (possibly symbolic) kernel: (K - 1)/2."""
    return (kernel - 1) / 2


@dataclass
class _Chain:
    """Applies primitives one after another to a running shape, recording each step."""

    x: Shape
    steps: list[tuple[str, Shape, Result]] = field(default_factory=list)

    def __call__(self, label: str, op: str, **attrs: Any) -> Result:
        result = ops.apply(op, [self.x], attrs)
        self.steps.append((label, self.x, result))
        self.x = result.shape
        return result

    def merge(self, label: str, op: str, other: Shape) -> Result:
        result = ops.apply(op, [self.x, other], {})
        self.steps.append((label, self.x, result))
        self.x = result.shape
        return result

    @property
    def macs(self) -> Expr:
        return sympy.Add(*(r.counts.macs for _, _, r in self.steps))

    @property
    def params(self) -> Expr:
        return sympy.Add(*(r.counts.weights for _, _, r in self.steps))

    def record(self) -> tuple[Step, ...]:
        return tuple(Step(label, r.kind, str(x), str(r.shape), r.counts.macs)
                     for label, x, r in self.steps)

    def keeps_size(self, h: Expr, w: Expr) -> None:
        """Every step's output has the input's spatial size (stride 1, "same")."""
        for label, _, result in self.steps:
            if sympy.simplify(result.shape.h - h) != 0 or sympy.simplify(result.shape.w - w) != 0:
                raise AssertionError(f"{label}: output {result.shape} is not {h}×{w}")


def per_area(expr: Expr, area: Expr) -> Expr:
    """``expr`` written as ``area·(...)``, the papers' ``HW(2Ck + 9k)`` shape."""
    return area * sympy.expand(sympy.cancel(expr / area))


def _symbols(*exprs: Expr) -> tuple[Symbol, ...]:
    order = [*S.BY_NAME.values(), B]
    free = set().union(*(sympy.sympify(e).free_symbols for e in exprs))
    return tuple(s for s in order if s in free)


H, W, C, k, g, K = S.H, S.W, S.C, S.k, S.g, S.K
alpha, rho, t, c1, c2 = S.alpha, S.rho, S.t, S.c1, S.c2
KERNEL_3 = ((K, Integer(3)),)
KERNEL_NOTE = "K = 3 when --at does not give K (the papers' 3×3 kernels)."


def _conv_chain(groups: Expr = Integer(1)) -> _Chain:
    chain = _Chain(Shape(C, H, W))
    chain("conv", "conv", c=k, k=K, p=same(K), g=groups)
    chain.keeps_size(H, W)
    return chain


def _separable_chain(channels: Expr = C, width: Expr = k, h: Expr = H, w: Expr = W) -> _Chain:
    chain = _Chain(Shape(channels, h, w))
    chain("depthwise", "dw", k=K, p=same(K))
    chain("pointwise", "pw", c=width)
    chain.keeps_size(h, w)
    return chain


# --- the derivations, in the source material's order ------------------------------------------

@derivation("conv")
def _conv() -> Derivation:
    chain = _conv_chain()
    return Derivation(
        "conv", "standard convolution, K×K, C → k channels", f"{MOBILENET_V1}, §3.1 (Eq. 2)",
        sympy.factor(chain.macs), H * W * C * k * K**2,
        extras=(Quantity("params", chain.params, C * k * K**2),),
        symbols=_symbols(chain.macs), steps=chain.record(), defaults=KERNEL_3,
        explanation="Every one of the H·W·k outputs is a dot product over a K×K×C window: "
                    "H·W·k·C·K² multiply-accumulates. " + KERNEL_NOTE)


@derivation("group_conv")
def _group_conv() -> Derivation:
    chain = _conv_chain(g)
    full = _conv_chain().macs
    return Derivation(
        "group_conv", "group convolution, g groups", f"{SOURCE}; {ALEXNET} (AlexNet's "
        "conv2, g = 2)", sympy.factor(chain.macs), H * W * C * k * K**2 / g,
        extras=(Quantity("params", chain.params, C * k * K**2 / g),
                Quantity("÷ conv", sympy.cancel(chain.macs / full), 1 / g)),
        symbols=_symbols(chain.macs), steps=chain.record(), defaults=KERNEL_3,
        explanation="The C input and k output channels split into g independent groups of C/g "
                    "and k/g; each output sees C/g channels, so MACs and weights drop by g. "
                    + KERNEL_NOTE)


@derivation("depthwise")
def _depthwise() -> Derivation:
    chain = _Chain(Shape(C, H, W))
    chain("depthwise", "dw", k=K, p=same(K))
    chain.keeps_size(H, W)
    return Derivation(
        "depthwise", "depthwise convolution (g = C)", f"{MOBILENET_V1}, §3.1 (Eq. 4)",
        sympy.factor(chain.macs), H * W * C * K**2,
        extras=(Quantity("params", chain.params, C * K**2),),
        symbols=_symbols(chain.macs), steps=chain.record(), defaults=KERNEL_3,
        explanation="One K×K filter per channel: a group convolution with g = C groups and "
                    "k = C outputs. " + KERNEL_NOTE)


@derivation("pointwise")
def _pointwise() -> Derivation:
    chain = _Chain(Shape(C, H, W))
    chain("pointwise", "pw", c=k)
    return Derivation(
        "pointwise", "pointwise (1×1) convolution, C → k", f"{MOBILENET_V1}, §3.1",
        sympy.factor(chain.macs), H * W * C * k,
        extras=(Quantity("params", chain.params, C * k),),
        symbols=_symbols(chain.macs), steps=chain.record(),
        explanation="A standard convolution with K = 1: it mixes channels at each pixel.")


@derivation("separable")
def _separable() -> Derivation:
    chain = _separable_chain()
    return Derivation(
        "separable", "depthwise separable convolution (depthwise K×K + pointwise 1×1)",
        f"{MOBILENET_V1}, §3.1 (Eq. 5)", per_area(chain.macs, H * W * C),
        H * W * C * K**2 + H * W * C * k,
        extras=(Quantity("params", chain.params, C * K**2 + C * k),),
        symbols=_symbols(chain.macs), steps=chain.record(), defaults=KERNEL_3,
        explanation="A depthwise K×K conv filters each channel; a pointwise 1×1 conv then "
                    "combines channels: H·W·C·K² + H·W·C·k. " + KERNEL_NOTE)


@derivation("separable_ratio")
def _separable_ratio() -> Derivation:
    ratio = sympy.expand(sympy.cancel(_separable_chain().macs / _conv_chain().macs))
    return Derivation(
        "separable_ratio", "cost of a separable layer over a standard convolution",
        f"{MOBILENET_V1}, §3.1 (the reduction after Eq. 5)", ratio, 1 / k + 1 / K**2,
        quantity="ratio",
        extras=(Quantity("ratio at K = 3", ratio.subs(K, 3), 1 / k + Rational(1, 9),
                         "a 3×3 kernel: 8 to 9 times fewer MACs once k is large"),),
        symbols=_symbols(ratio), defaults=KERNEL_3,
        explanation="(H·W·C·K² + H·W·C·k) / (H·W·C·k·K²): the map size and the input "
                    "channels cancel. " + KERNEL_NOTE)


@derivation("mobilenet_v1_layer")
def _mobilenet_v1_layer() -> Derivation:
    # The multiplied side ρH is a whole number of pixels: build on integer symbols for ρH and
    # ρW (so that the "same" output side is exactly the input side, with no floor(ρH)), then
    # write them as ρ·H and ρ·W.
    hr, wr = Symbol("rhoH", positive=True, integer=True), Symbol("rhoW", positive=True,
                                                                  integer=True)
    chain = _separable_chain(alpha * C, alpha * k, hr, wr)
    macs = chain.macs.subs({hr: rho * H, wr: rho * W})
    return Derivation(
        "mobilenet_v1_layer", "a separable layer under width multiplier α and resolution "
        "multiplier ρ", f"{MOBILENET_V1}, §3.3–3.4 (Eq. 7)",
        per_area(macs, rho**2 * H * W), H * W * rho**2 * (K**2 * alpha * C + alpha**2 * C * k),
        extras=(Quantity("params", chain.params, K**2 * alpha * C + alpha**2 * C * k,
                         "ρ does not change the parameters"),),
        symbols=_symbols(macs), steps=chain.record(),
        defaults=(*KERNEL_3, (alpha, Integer(1)), (rho, Integer(1))),
        explanation="α thins every layer (αC in, αk out), so the pointwise cost falls as α²; "
                    "ρ shrinks the map to ρH×ρW, so everything falls as ρ². The layer is built "
                    "on whole-number sides ρH, ρW. " + KERNEL_NOTE + " α and ρ are 1 unless "
                    "given.")


def _bottleneck(middle: str) -> tuple[_Chain, Expr]:
    """1x1 C→k, a 3x3 middle layer on k channels, 1x1 k→C, identity shortcut (stride 1)."""
    x = Shape(C, H, W)
    chain = _Chain(x)
    grouped = middle == "shuffle"
    chain("reduce 1×1", "pw", c=k, g=g if grouped else 1)
    if grouped:
        chain("channel shuffle", "shuffle", g=g)
    if middle == "conv":
        chain("3×3", "conv", c=k, k=3)
    elif middle == "gconv":
        chain("3×3 grouped", "conv", c=k, k=3, g=g)
    else:
        chain("3×3 depthwise", "dw", k=3)
    chain("expand 1×1", "pw", c=C, g=g if grouped else 1)
    chain.merge("shortcut add", "add", x)
    chain.keeps_size(H, W)
    return chain, per_area(chain.macs, H * W)


@derivation("resnet_bottleneck")
def _resnet_bottleneck() -> Derivation:
    chain, macs = _bottleneck("conv")
    return Derivation(
        "resnet_bottleneck", "ResNet bottleneck: 1×1 C→k, 3×3 k→k, 1×1 k→C",
        f"{SHUFFLENET_V1}, §3.2 (ResNet unit); {RESNET}, Fig. 5; {SOURCE}, Figure 13", macs,
        H * W * (2 * C * k + 9 * k**2),
        extras=(Quantity("params", chain.params, 2 * C * k + 9 * k**2),),
        symbols=_symbols(macs), steps=chain.record(),
        explanation="The two 1×1 convs cost H·W·C·k each; the 3×3 conv on the narrow k "
                    "channels H·W·9k². The shortcut add is not a MAC.")


@derivation("resnet_bottleneck_dw")
def _resnet_bottleneck_dw() -> Derivation:
    chain, macs = _bottleneck("dw")
    return Derivation(
        "resnet_bottleneck_dw", "bottleneck with a depthwise 3×3 (ShuffleNet's Fig. 2(a))",
        f"{SHUFFLENET_V1}, Fig. 2(a); {SOURCE}, Figure 14(a)", macs,
        H * W * (2 * C * k + 9 * k),
        extras=(Quantity("params", chain.params, 2 * C * k + 9 * k),),
        symbols=_symbols(macs), steps=chain.record(),
        explanation="The 3×3 conv becomes depthwise: 9k per pixel instead of 9k², so the two "
                    "dense 1×1 convs (2Ck) now dominate.")


@derivation("resnext_bottleneck")
def _resnext_bottleneck() -> Derivation:
    chain, macs = _bottleneck("gconv")
    return Derivation(
        "resnext_bottleneck", "ResNeXt bottleneck: the 3×3 conv in g groups",
        f"{SHUFFLENET_V1}, §3.2 (ResNeXt unit); {RESNEXT}, Fig. 3(c)", macs,
        H * W * (2 * C * k + 9 * k**2 / g),
        extras=(Quantity("params", chain.params, 2 * C * k + 9 * k**2 / g),),
        symbols=_symbols(macs), steps=chain.record(),
        explanation="ResNeXt's template with cardinality g and width k = g·d: the grouped 3×3 "
                    "costs 9k²/g per pixel (C = 256, k = 128, g = 32 gives the paper's ≈70k "
                    "parameters and ≈0.22G MACs at 56×56).")


@derivation("shufflenet_unit")
def _shufflenet_unit() -> Derivation:
    chain, macs = _bottleneck("shuffle")
    dw_chain, dw_macs = _bottleneck("dw")
    return Derivation(
        "shufflenet_unit", "ShuffleNet unit, stride 1: grouped 1×1s, shuffle, depthwise 3×3",
        f"{SHUFFLENET_V1}, §3.2 and Fig. 2(b); {SOURCE}, Figure 14(b)", macs,
        H * W * (2 * C * k / g + 9 * k),
        extras=(Quantity("params", chain.params, 2 * C * k / g + 9 * k),
                Quantity("÷ resnet_bottleneck_dw", sympy.factor(sympy.cancel(macs / dw_macs)),
                         (2 * C / g + 9) / (2 * C + 9),
                         "ShuffleNet's unit against the depthwise bottleneck of Fig. 2(a)")),
        symbols=_symbols(macs), steps=chain.record(),
        explanation="Grouping the two 1×1 convs divides their 2Ck by g; the channel shuffle "
                    "lets the groups exchange information and costs no MACs (it is a "
                    "memory permutation, not arithmetic).")


@derivation("inverted_residual")
def _inverted_residual() -> Derivation:
    chain = _Chain(Shape(C, H, W))
    chain("expand 1×1", "pw", c=C * t)
    chain("depthwise", "dw", k=K, p=same(K))
    chain("project 1×1 (linear)", "pw", c=k)
    chain.keeps_size(H, W)
    macs = sympy.factor(chain.macs)
    return Derivation(
        "inverted_residual", "MobileNet v2 inverted residual (expansion t, stride 1)",
        f"{MOBILENET_V2}, §3.3 and Table 1", macs, H * W * C * t * (C + K**2 + k),
        extras=(Quantity("params", chain.params, C * t * (C + K**2 + k)),),
        symbols=_symbols(macs), steps=chain.record(), defaults=KERNEL_3,
        explanation="Expand C → tC (1×1), filter depthwise (K×K), project linearly tC → k "
                    "(1×1): H·W·tC·(C + K² + k), the paper's h·w·d′·t·(d′ + k² + d″). The "
                    "identity shortcut (when k = C) adds no MACs. " + KERNEL_NOTE)


def _one_by_one(groups: Expr) -> tuple[_Chain, Expr, Expr]:
    chain = _Chain(Shape(c1, H, W))
    result = chain("1×1 conv", "pw", c=c2, g=groups)
    return chain, memory_access_cost(Shape(c1, H, W), result), result.counts.macs


@derivation("shufflenet_v2_g1")
def _shufflenet_v2_g1() -> Derivation:
    chain, mac, flops = _one_by_one(Integer(1))
    # At fixed FLOPs B = h·w·c1·c2, c2 = B/(h·w·c1); the memory access cost is smallest where
    # its derivative in c1 vanishes.
    # Its derivative is H·W - B/c1²: the roots of the numerator H·W·c1² - B, the positive
    # one a minimum (the second derivative 2B/c1³ is positive).
    at_fixed_b = mac.subs(c2, B / (H * W * c1))
    slope = sympy.diff(at_fixed_b, c1)
    best = [r for r in sympy.roots(sympy.Poly(sympy.numer(sympy.together(slope)), c1))
            if r.is_positive]
    assert len(best) == 1 and sympy.diff(at_fixed_b, c1, 2).subs(c1, best[0]).is_positive
    bound = sympy.expand(at_fixed_b.subs(c1, best[0]))
    c2_best = sympy.expand((B / (H * W * c1)).subs(c1, best[0]))
    assert c2_best == best[0]  # the minimum has c1 = c2
    return Derivation(
        "shufflenet_v2_g1", "memory access cost of a 1×1 conv (guideline G1)",
        f"{SHUFFLENET_V2}, §2 (G1; the bound is Eq. 1)", per_area(mac - c1 * c2, H * W) + c1 * c2,
        H * W * (c1 + c2) + c1 * c2, quantity="MAC",
        extras=(Quantity("B (MACs)", flops, H * W * c1 * c2, "the FLOPs held fixed"),
                Quantity("MAC at fixed B", at_fixed_b, H * W * c1 + B / c1 + B / (H * W)),
                Quantity("lower bound", bound, 2 * sympy.sqrt(H * W * B) + B / (H * W),
                         f"reached at c1 = c2 = {best[0]}"),),
        symbols=_symbols(mac, B), steps=chain.record(),
        explanation="MAC (memory access cost) counts memory traffic, not arithmetic: h·w·c1 "
                    "activations in, h·w·c2 out, c1·c2 weights. Computed from the layer's "
                    "shapes by memory_access_cost(). At fixed FLOPs B, its minimum over c1 is "
                    "where c1 = c2: equal channel widths minimize memory access.")


@derivation("shufflenet_v2_g2")
def _shufflenet_v2_g2() -> Derivation:
    chain, mac, flops = _one_by_one(g)
    at_fixed_b = sympy.expand(mac.subs(c2, B * g / (H * W * c1)))
    return Derivation(
        "shufflenet_v2_g2", "memory access cost of a grouped 1×1 conv (guideline G2)",
        f"{SHUFFLENET_V2}, §2 (G2, Eq. 2)", per_area(mac - c1 * c2 / g, H * W) + c1 * c2 / g,
        H * W * (c1 + c2) + c1 * c2 / g, quantity="MAC",
        extras=(Quantity("B (MACs)", flops, H * W * c1 * c2 / g, "the FLOPs held fixed"),
                Quantity("MAC at fixed B", at_fixed_b, H * W * c1 + B * g / c1 + B / (H * W),
                         "grows with g: more groups at the same FLOPs cost more memory "
                         "access"),),
        symbols=_symbols(mac, B), steps=chain.record(),
        explanation="With g groups the weights shrink to c1·c2/g; at fixed FLOPs B the "
                    "widths grow with g and the memory access cost h·w·c1 + B·g/c1 + B/(h·w) "
                    "grows linearly in g.")


# --- whole networks ----------------------------------------------------------------------------

#: The integer symbol of ``R = s·q + r``.
Q = Symbol("q", integer=True, nonnegative=True)

#: Knob name -> symbol, for knobs a whole-network derivation can leave symbolic.
NETWORK_SYMBOLS = {"resolution": S.R, "alpha": S.alpha, "t": S.t}


def total(network: Network, field_name: str) -> Expr:
    """A raw count summed over every layer with one ``Add`` (linear time: summing Counts one
    layer at a time, as ``Network.total`` does, is quadratic in the number of terms)."""
    return sympy.Add(*(getattr(layer.counts, field_name) for layer in network.layers))


def network_totals(network: Network, convention_name: str = DEFAULT) -> tuple[Expr, Expr]:
    """MACs and params of ``network`` under a convention, summed in linear time."""
    from ..core.ops import Counts

    summed = Counts(*(total(network, name) for name in
                      ("macs", "elementwise", "weights", "norm_params", "activations")))
    conv = get_convention(convention_name)
    if conv.tool is not None:  # a tool's rules apply layer by layer
        return network.macs(convention_name), network.params(convention_name)
    return conv.macs(summed), conv.params(summed)


def total_stride(network: Network, R: Symbol = S.R) -> int:
    """The network's total stride: 1 / (the smallest slope of a feature-map side in R), with
    every floor/ceiling taken away (each side is then R / (the product of the strides so
    far) plus a constant)."""
    slopes = set()
    for side in {layer.output.h for layer in network.layers}:
        if R in getattr(side, "free_symbols", ()):
            plain = side.replace(lambda e: isinstance(e, (sympy.floor, sympy.ceiling)),
                                 lambda e: e.args[0])
            slope = sympy.diff(plain, R)
            if slope.is_Rational and slope > 0:
                slopes.add(slope)
    return int(1 / min(slopes)) if slopes and (1 / min(slopes)).is_Integer else 1


def _floor_period(exprs: Sequence[Expr], R: Symbol, residue_of: Callable[[int], int],
                  start: int = 1, limit: int = 1 << 12) -> tuple[int, int, list[Expr]]:
    """A period s such that substituting ``R = s·q + r`` removes every floor/ceiling that
    depends on R: ``start`` (the network's total stride) when that suffices, else ``start``
    times the denominators met, innermost floors first, until none is left."""
    period = start
    while True:
        r = residue_of(period)
        subbed = [e.subs(R, period * Q + r) for e in exprs]
        pending = [f for e in subbed for f in e.atoms(sympy.floor, sympy.ceiling)
                   if Q in f.free_symbols]
        if not pending:
            return period, r, subbed
        denominator = 1
        for f in pending:
            inner = f.args[0]
            if inner.atoms(sympy.floor, sympy.ceiling) & set(pending):
                continue  # an outer floor: its inner ones go first
            slope = sympy.diff(inner, Q)
            if slope.is_Rational:
                denominator = sympy.ilcm(denominator, slope.q)
        if denominator == 1 or period * denominator > limit:
            return period, r, subbed  # floors that no period removes stay, and are reported
        period *= int(denominator)


def _built_on_the_period(ref, chosen: Sequence[str], residue: int | None,
                         convention_name: str):
    """The fast way to a polynomial in R: find the total stride s from two numeric builds
    (1024 pixels apart, every side grows by 1024/s), then build once with the resolution
    already ``s·q + r``, so that sympy settles every floor while building instead of leaving
    floor(floor(R/2 - 1/2)/2) to be removed afterwards. Returns (network, s, r, (MACs, params)
    in q), or None where this does not give a polynomial (then the general path runs)."""
    default = int(ref.spec.knob("resolution").default)
    try:
        low, high = ref.build(resolution=default), ref.build(resolution=default + 1024)
    except CostModelError:
        return None
    growth = [int(b.output.h - a.output.h) for a, b in zip(low.layers, high.layers)
              if a.output.h.is_Integer and b.output.h.is_Integer and b.output.h != a.output.h]
    if len(low.layers) != len(high.layers) or not growth or 1024 % min(growth):
        return None
    period = 1024 // min(growth)
    r = (default if residue is None else residue) % period
    values = {name: NETWORK_SYMBOLS[name] for name in chosen if name != "resolution"}
    network = ref.build(**values, resolution=period * Q + r)
    totals = network_totals(network, convention_name)
    if any(Q in f.free_symbols for e in totals for f in e.atoms(sympy.floor, sympy.ceiling)):
        return None
    return network, period, r, totals


def _default_symbols(ref, given: Mapping[str, str]) -> list[str]:
    """resolution unless given; alpha too under rounding=none (unless given)."""
    knobs = {knob.name: knob for knob in ref.spec.knobs}
    chosen = []
    if "resolution" in knobs and "resolution" not in given:
        chosen.append("resolution")
    alpha_knob = knobs.get("alpha")
    if alpha_knob is not None and alpha_knob.type != "choice" and "alpha" not in given:
        rounding = given.get("rounding", knobs["rounding"].default if "rounding" in knobs
                             else None)
        if rounding == "none":
            chosen.append("alpha")
    return chosen


def derive_network(spec: str, symbols: Iterable[str] | None = None,
                   convention_name: str = DEFAULT, residue: int | None = None) -> Derivation:
    """The whole network's MACs (``expr``) and params in closed form.

    ``spec`` is a zoo name, ``name:key=value,...`` or an architecture file. ``symbols`` names
    the knobs to keep symbolic (``resolution`` → R, ``alpha``, ``t``); by default the
    resolution, and alpha as well when the network is built with ``rounding=none``. Knobs not
    symbolic keep the spec's values (the defaults otherwise).

    With R symbolic the result is a polynomial in R valid for ``R ≡ r (mod s)``, where ``s``
    is the period of the spatial floors and ``r`` the default resolution's residue (pass
    ``residue`` to choose another class, e.g. 0 for multiples of s).
    """
    from ..zoo import resolve_layer_spec

    ref = resolve_layer_spec(spec, "closed forms")
    given = dict(ref.values)
    knob_names = [knob.name for knob in ref.spec.knobs]
    chosen = list(_default_symbols(ref, given) if symbols is None else symbols)
    for name in chosen:
        if name not in NETWORK_SYMBOLS:
            raise CostModelError(f"cannot keep {name!r} symbolic; choose from "
                                 f"{', '.join(NETWORK_SYMBOLS)}")
        if name not in knob_names:
            raise CostModelError(f"{ref.name} has no knob {name!r}; its knobs are: "
                                 f"{', '.join(knob_names)}")
    assumptions: list[str] = []
    valid_for: tuple[tuple[Symbol, int, int], ...] = ()
    fast = _built_on_the_period(ref, chosen, residue, convention_name) \
        if "resolution" in chosen else None
    if fast is not None:
        network, period, r, (macs_q, params_q) = fast
    else:
        network = ref.build(**{name: NETWORK_SYMBOLS[name] for name in chosen})
        macs, params = network_totals(network, convention_name)
    settings = tuple((key, value) for key, value in network.config if key not in chosen)
    if "resolution" in chosen:
        default = int(ref.spec.knob("resolution").default)
        R = S.R

        def residue_of(period: int) -> int:
            return (default if residue is None else residue) % period

        if fast is None:
            period, r, (macs_q, params_q) = _floor_period([macs, params], R, residue_of,
                                                          start=total_stride(network))
        back = (R - r) / period
        valid_for = ((R, period, r),) if period > 1 else ()
        macs = sympy.expand(macs_q.subs(Q, back))
        params = sympy.expand(params_q.subs(Q, back))
        left = [f for e in (macs, params) for f in e.atoms(sympy.floor, sympy.ceiling)
                if R in f.free_symbols]
        if period == 1:
            assumptions.append("valid for every resolution R (no floors to remove)")
        elif r == 0:
            assumptions.append(f"valid when R is a multiple of {period}, the network's total "
                               f"stride (R = {period}·q: every stride then divides the side it "
                               "halves, and every floor in the spatial sizes is exact)")
        else:
            assumptions.append(f"valid when R ≡ {r} (mod {period}), as the default "
                               f"R = {default} (R = {period}·q + {r}: every floor in the "
                               "spatial sizes is then exact)")
        if left:
            assumptions.append(f"floor() of R remains in {len(left)} terms: no period up to "
                               "4096 removes it")
    else:
        macs, params = sympy.expand(macs), sympy.expand(params)
    if macs.atoms(MakeDivisible) or params.atoms(MakeDivisible):
        assumptions.append("MakeDivisible(c·alpha, 8, 8) remains: the reference channel "
                           "rounding (nearest multiple of 8, never 10% below c·alpha) is exact "
                           "but not a polynomial; rounding=none gives polynomials in alpha")
    floors = [f for e in (macs, params) for f in e.atoms(sympy.floor)
              if S.alpha in f.free_symbols]
    if floors:
        assumptions.append("floor(c·alpha) remains: the reference code's int() channel "
                           "rounding; rounding=none gives polynomials in alpha")
    extras = [Quantity(f"params ({convention_name})", params)]
    maxes = [m for m in macs.atoms(sympy.Max, sympy.Min) if S.alpha in m.free_symbols]
    if len(maxes) == 1 and len(maxes[0].args) == 2 and any(a.is_number for a in maxes[0].args):
        atom = maxes[0]
        edge = next(a for a in atom.args if a.is_number)
        low, high = (edge, S.alpha) if isinstance(atom, sympy.Max) else (S.alpha, edge)
        for label, value in ((f"MACs, alpha ≤ {edge}", low), (f"MACs, alpha ≥ {edge}", high)):
            extras.append(Quantity(label, sympy.expand(macs.subs(atom, value))))
        assumptions.append(f"{atom} remains: one polynomial on each side of alpha = {edge}")
    name = network.name
    fixed = ", ".join(f"{key}={show_value(value)}" for key, value in settings)
    return Derivation(
        name, f"whole network, symbolic in {', '.join(chosen) or 'nothing'}"
        + (f" ({fixed})" if fixed else ""),
        ref.spec.paper, macs, None, extras=tuple(extras), symbols=_symbols(macs, params),
        assumptions=tuple(assumptions), settings=settings, valid_for=valid_for,
        defaults=tuple((NETWORK_SYMBOLS[key], _exact_number(ref.spec.knob(key).default, key))
                       for key in chosen),
        explanation=f"Built layer by layer from costmodel's spec of {name} with "
                    f"{', '.join(chosen) or 'no knob'} left symbolic, summed over its "
                    f"{len(network.layers)} layers ({convention_name} convention), then "
                    "expanded into a polynomial. Knobs not given in --at take their defaults.")


# --- renderings for the command line ------------------------------------------------------------

@contextmanager
def _without_units_import():
    """Let sympy's pretty printer run without importing ``sympy.physics.units``.

    ``PrettyPrinter._print_Mul`` (sympy 1.12-1.14) starts with ``from sympy.physics.units
    import Quantity`` only to sort unit quantities to the end of a product; that import takes
    0.3-0.4 s, a third of `costmodel derive`'s one-second budget (the LaTeX printer dropped the
    same import in sympy PR #24091). When the units package is not loaded, no ``Quantity`` can
    exist in any expression, so a stand-in module whose ``Quantity`` is a class nothing is an
    instance of gives exactly the same output. The stand-in is in ``sys.modules`` only while
    printing and is removed afterwards (a thread importing the units package at that very
    moment would see it; costmodel prints from one thread). When the units package is loaded,
    nothing is changed.
    """
    name = "sympy.physics.units"
    if name in sys.modules:
        yield
        return
    stand_in = types.ModuleType(name, "costmodel: stand-in while pretty-printing")
    stand_in.Quantity = type("Quantity", (), {})  # type: ignore[attr-defined]
    sys.modules[name] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]


#: Wider pretty-printed formulas (unrounded MakeDivisible/floor sums) print as wrapped text.
WIDE = 110


def _pretty(label: str, expr: Expr) -> str:
    """``label = expr`` by sympy's pretty printer (unicode, unwrapped); a formula wider than
    :data:`WIDE` columns is printed as text instead, collected by powers of R and wrapped."""
    with _without_units_import():
        text = sympy.pretty(sympy.Eq(Symbol(label), expr, evaluate=False), use_unicode=True,
                            wrap_line=False)
    if max(len(line) for line in text.splitlines()) <= WIDE:
        return text
    import textwrap

    collected = sympy.collect(expr, S.R) if S.R in expr.free_symbols else expr
    return textwrap.fill(f"{label} = {sympy.sstr(collected)}", width=WIDE,
                         subsequent_indent=" " * (len(label) + 3), break_long_words=False)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _count_text(value: Any) -> str:
    from ..report.table import human

    value = sympy.sympify(value)
    if value.is_Integer:
        return f"{int(value):,}" + (f" ({human(int(value))})" if abs(value) >= 10_000 else "")
    if value.is_Rational:
        return f"{value} ≈ {float(value):.6g}"
    if value.is_number:
        return f"{value} ≈ {float(value):.6g}"
    return str(value)


def render_text(d: Derivation, values: Mapping[Any, Any] | None = None) -> str:
    """The terminal rendering of ``costmodel derive``: the layers, each quantity by sympy's
    pretty printer, the paper's form and whether it is equal, values at ``--at``."""
    out = [f"{d.name}: {d.title}", d.citation, ""]
    if d.steps:
        out.append("Layers (costmodel.core.ops primitives, summed):")
        width = max(len(s.name) for s in d.steps)
        for s in d.steps:
            out.append(f"  {s.name:<{width}}  {s.kind:<12} {s.input} → {s.output}   "
                       f"MACs = {sympy.sstr(s.macs)}")
        out.append("")
    for q in d.quantities():
        out.append(_indent(_pretty(q.label, q.expr)))
        if q.paper_form is not None:
            verdict = "equal (exact sympy)" if equal(q.expr, q.paper_form) else "NOT EQUAL"
            out.append(f"    paper's form: {sympy.sstr(q.paper_form)} — {verdict}")
        if q.note:
            out.append(f"    {q.note}")
        out.append("")
    if values is not None:
        defaults = d.defaults_used(values)
        given = ", ".join(f"{s}={v}" for s, v in
                          ((k.name, v) for k, v in d.substitutions(values).items()))
        extra = f" ({', '.join(defaults)} by default)" if defaults else ""
        out.append(f"At {given}{extra}:")
        for label, value in d.at(values).items():
            out.append(f"  {label} = {_count_text(value)}")
        out.append("")
    if d.symbols:
        out.append("Symbols: " + "; ".join(f"{s.name} {SYMBOL_MEANING.get(s.name, '')}".strip()
                                            for s in d.symbols) + ".")
    for text in d.assumptions:
        out.append(f"Assumption: {text}.")
    if d.explanation:
        out.append(d.explanation)
    if d.quantity == "MACs" or any(q.label.startswith("MACs") for q in d.extras):
        out.append(UNIT_NOTE)
    return "\n".join(out).rstrip() + "\n"


def render_latex(d: Derivation, values: Mapping[Any, Any] | None = None) -> str:
    """A LaTeX fragment: a comment with the citation, an ``align*`` with every quantity."""
    lines = [f"% {d.name}: {d.title}", f"% {d.citation}", d.latex()]
    if values is not None:
        rows = [rf"\text{{{_latex_text(label)}}} &= {sympy.latex(sympy.sympify(value))}"
                for label, value in d.at(values).items()]
        given = ", ".join(f"{k.name} = {v}" for k, v in d.substitutions(values).items())
        lines += [f"% at {given}", r"\begin{align*} " + r" \\ ".join(rows) + r" \end{align*}"]
    lines += [f"% Assumption: {text}." for text in d.assumptions]
    return "\n".join(lines) + "\n"


def render_markdown(d: Derivation, values: Mapping[Any, Any] | None = None) -> str:
    """Markdown with ``$$`` math (GitHub, Jupyter)."""
    lines = [f"**{d.name}**: {d.title}  ", f"_{d.citation}_", ""]
    for q in d.quantities():
        lines.append(f"$$\\text{{{_latex_text(q.label)}}} = {sympy.latex(q.expr)}$$")
        if q.paper_form is not None:
            same = "equal" if equal(q.expr, q.paper_form) else "NOT equal"
            lines.append(f"paper's form: ${sympy.latex(q.paper_form)}$ ({same})")
        lines.append("")
    if values is not None:
        given = ", ".join(f"{k.name}={v}" for k, v in d.substitutions(values).items())
        lines.append(f"At {given}:")
        lines.append("")
        for label, value in d.at(values).items():
            lines.append(f"- {label} = {_count_text(value)}")
        lines.append("")
    lines += [f"_Assumption: {text}._  " for text in d.assumptions]
    if d.explanation:
        lines.append(d.explanation)
    return "\n".join(lines).rstrip() + "\n"


def short_citation(citation: str) -> str:
    """``Howard et al., MobileNets: ..., arXiv 1704.04861, §3.1 (Eq. 2)`` ->
    ``Howard et al., arXiv 1704.04861, §3.1 (Eq. 2)``: the authors and where, per source."""
    import re

    parts = []
    for source in citation.split("; "):
        authors = source.split(",")[0]
        where = re.search(r"(arXiv \d+\.\d+|NIPS \d+)(.*)$", source)
        parts.append(f"{authors}, {where.group(1)}{where.group(2)}" if where else source)
    return "; ".join(parts)


def listing() -> list[dict[str, str]]:
    """Name, title and citation of every registered derivation."""
    return [{"name": name, "title": derive(name).title, "citation": derive(name).citation,
             "source": short_citation(derive(name).citation)} for name in DERIVATIONS]
