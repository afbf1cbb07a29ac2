"""The named derivations of ``costmodel derive``, in the order of the papers' arguments.

Each builds its structure from the layer primitives (:func:`costmodel.core.ops.apply`) on a
symbolic ``Shape.image(C, H, W)`` and registers itself in :data:`DERIVATIONS` with
:func:`derivation` (a second registration of a name is an error);
:func:`costmodel.analysis.derive.derive` looks them up.

"Same" padding with a symbolic kernel: the conv default ``p = d·(K-1)//2`` becomes
``floor((K - 1)/2)`` when ``K`` is a symbol, and ``out_size`` then reads
``H + 2·floor((K-1)/2) - K + 1``, which sympy cannot reduce to ``H`` because it does not know
that ``K`` is odd. The derivations therefore pass ``p = (K - 1)/2`` explicitly, the exact
"same" padding of an odd kernel: ``out_size`` is then ``floor(H - 1) + 1 = H``, and every
derivation checks that its output side is ``H`` before using it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sympy
from sympy import Expr, Integer, Rational, Symbol

from ..core import ops
from ..core import symbols as S
from ..core.ops import Result, Shape
from .derivation import (ALEXNET, MOBILENET_V1, MOBILENET_V2, RESNET, RESNEXT, SHUFFLENET_V1,
                         SHUFFLENET_V2, B, Derivation, Quantity, Step)
from .derivation import symbols_of as _symbols

#: name -> the function that builds the derivation, in registration (the papers') order
DERIVATIONS: dict[str, Callable[[], Derivation]] = {}


def derivation(name: str) -> Callable[[Callable[[], Derivation]], Callable[[], Derivation]]:
    """Register ``builder`` as the derivation ``name`` (a name registered twice is an
    error)."""
    def register(builder: Callable[[], Derivation]) -> Callable[[], Derivation]:
        if name in DERIVATIONS:
            raise RuntimeError(f"derivation {name!r} is registered twice")
        DERIVATIONS[name] = builder
        return builder

    return register


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


H, W, C, k, g, K = S.H, S.W, S.C, S.k, S.g, S.K
alpha, rho, t, c1, c2 = S.alpha, S.rho, S.t, S.c1, S.c2
KERNEL_3 = ((K, Integer(3)),)
KERNEL_NOTE = "K = 3 when --at does not give K (the papers' 3×3 kernels)."


def _conv_chain(groups: Expr = Integer(1)) -> _Chain:
    chain = _Chain(Shape.image(C, H, W))
    chain("conv", "conv", c=k, k=K, p=same(K), g=groups)
    chain.keeps_size(H, W)
    return chain


def _separable_chain(channels: Expr = C, width: Expr = k, h: Expr = H, w: Expr = W) -> _Chain:
    chain = _Chain(Shape.image(channels, h, w))
    chain("depthwise", "dw", k=K, p=same(K))
    chain("pointwise", "pw", c=width)
    chain.keeps_size(h, w)
    return chain


# --- the derivations, in the papers' order ------------------------------------------

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
        "group_conv", "group convolution, g groups", f"{SHUFFLENET_V1}, §3.1; {ALEXNET}, §3.2 "
        "(AlexNet's conv2 on two GPUs, g = 2)", sympy.factor(chain.macs), H * W * C * k * K**2 / g,
        extras=(Quantity("params", chain.params, C * k * K**2 / g),
                Quantity("÷ conv", sympy.cancel(chain.macs / full), 1 / g)),
        symbols=_symbols(chain.macs), steps=chain.record(), defaults=KERNEL_3,
        explanation="The C input and k output channels split into g independent groups of C/g "
                    "and k/g; each output sees C/g channels, so MACs and weights drop by g. "
                    + KERNEL_NOTE)


@derivation("depthwise")
def _depthwise() -> Derivation:
    chain = _Chain(Shape.image(C, H, W))
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
    chain = _Chain(Shape.image(C, H, W))
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
    x = Shape.image(C, H, W)
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


def _bottleneck_derivation(name: str, middle: str, title: str, citation: str,
                           per_pixel: Expr, explanation: str) -> Derivation:
    """A bottleneck whose paper form is H·W·(``per_pixel``) MACs and ``per_pixel`` params
    (every layer keeps the H×W map, so the weights are the MACs per pixel)."""
    chain, macs = _bottleneck(middle)
    return Derivation(name, title, citation, macs, H * W * per_pixel,
                      extras=(Quantity("params", chain.params, per_pixel),),
                      symbols=_symbols(macs), steps=chain.record(), explanation=explanation)


#: The bottlenecks of ShuffleNet's §3.2, as data: name, middle layer, title, citation, MACs per
#: pixel as the papers print them, explanation.
BOTTLENECKS = (
    ("resnet_bottleneck", "conv", "ResNet bottleneck: 1×1 C→k, 3×3 k→k, 1×1 k→C",
     f"{SHUFFLENET_V1}, §3.2 (ResNet unit); {RESNET}, Fig. 5", 2 * C * k + 9 * k**2,
     "The two 1×1 convs cost H·W·C·k each; the 3×3 conv on the narrow k channels H·W·9k². "
     "The shortcut add is not a MAC."),
    ("resnet_bottleneck_dw", "dw", "bottleneck with a depthwise 3×3 (ShuffleNet's Fig. 2(a))",
     f"{SHUFFLENET_V1}, Fig. 2(a)", 2 * C * k + 9 * k,
     "The 3×3 conv becomes depthwise: 9k per pixel instead of 9k², so the two dense 1×1 "
     "convs (2Ck) now dominate."),
    ("resnext_bottleneck", "gconv", "ResNeXt bottleneck: the 3×3 conv in g groups",
     f"{SHUFFLENET_V1}, §3.2 (ResNeXt unit); {RESNEXT}, Fig. 3(c)", 2 * C * k + 9 * k**2 / g,
     "ResNeXt's template with cardinality g and width k = g·d: the grouped 3×3 costs 9k²/g "
     "per pixel (C = 256, k = 128, g = 32 gives the paper's ≈70k parameters and ≈0.22G MACs "
     "at 56×56)."),
)
for _bottleneck_args in BOTTLENECKS:
    derivation(_bottleneck_args[0])(partial(_bottleneck_derivation, *_bottleneck_args))


@derivation("shufflenet_unit")
def _shufflenet_unit() -> Derivation:
    chain, macs = _bottleneck("shuffle")
    dw_chain, dw_macs = _bottleneck("dw")
    return Derivation(
        "shufflenet_unit", "ShuffleNet unit, stride 1: grouped 1×1s, shuffle, depthwise 3×3",
        f"{SHUFFLENET_V1}, §3.2 and Fig. 2(b)", macs,
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
    chain = _Chain(Shape.image(C, H, W))
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
    chain = _Chain(Shape.image(c1, H, W))
    result = chain("1×1 conv", "pw", c=c2, g=groups)
    return chain, memory_access_cost(Shape.image(c1, H, W), result), result.counts.macs


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
