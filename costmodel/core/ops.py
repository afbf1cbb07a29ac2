"""One registry of per-op formulas: shapes in, output shape and raw counts out.

Each primitive is a pure function of its input shapes and attributes, registered once with
:func:`op` (a second registration of a name is an error). The counting rule is written down
here and nowhere else:

* ``macs``: multiply-accumulates of convolutions and fully connected layers; one fused
  multiply-add is 1 MAC = 2 FLOPs. This is what the papers call "FLOPs" or "Mult-Adds".
* ``elementwise``: the other arithmetic (batch norm, activations, pooling, adds), one per
  output element and window position. The papers do not count it; a convention may.
* ``weights``: conv/FC weights and biases. ``norm_params``: batch-norm scale and shift, which
  PyTorch lists among ``parameters()`` but the papers fold away.
* ``activations``: elements of the output feature map.

Which of these a reported number includes is decided by a :mod:`~costmodel.core.conventions`
entry, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import sympy
from sympy import Expr, Integer

from ..errors import CostModelError, InputTooSmall

ZERO = Integer(0)


@dataclass(frozen=True)
class Shape:
    """A feature map: channels × height × width, each a sympy expression.

    ``producer`` names the layer that wrote it ("input" for the network's input; empty where
    a formula builds a shape on its own). It records the graph's edges for front ends and
    memory analyses, and takes no part in equality: two maps of the same size are the same
    shape wherever they come from."""

    c: Expr
    h: Expr
    w: Expr
    producer: str = field(default="", compare=False)

    @property
    def numel(self) -> Expr:
        return self.c * self.h * self.w

    def __str__(self) -> str:  # the papers' H×W×C order
        return f"{self.h}×{self.w}×{self.c}"


@dataclass(frozen=True)
class Counts:
    """Raw counts of one layer (or a sum of layers); see the module docstring for each field."""

    macs: Expr = ZERO
    elementwise: Expr = ZERO
    weights: Expr = ZERO
    norm_params: Expr = ZERO
    activations: Expr = ZERO

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def map(self, func: Callable[[Expr], Expr]) -> Counts:
        return Counts(*(func(getattr(self, f.name)) for f in fields(self)))


@dataclass(frozen=True)
class Result:
    """What an op's formula returns: the output shape, the counts and a descriptive type
    (``conv 1x1``, ``conv dw 3x3``...) used to group layers as the papers' tables do."""

    shape: Shape
    counts: Counts
    kind: str


# --- attribute domains ----------------------------------------------------------------------

#: The values each kind of attribute takes, as the README's Safety section lists them.
#: Channels may be fractional: ``rounding=none`` keeps the papers' idealized widths c·alpha;
#: a fractional count written as a number (``conv 2.5``) is refused by the spec builder.
DOMAINS: dict[str, str] = {
    "positive int": "a whole number >= 1",
    "padding": "a whole number >= 0, or a half for asymmetric padding (2p is the total)",
    "channels": "a number > 0 (fractional only when computed from names, as the idealized "
                "width c·alpha; never written as a fraction)",
    "flag": "0 or 1",
}


def in_domain(value: Any, domain: str) -> bool:
    """Whether ``value`` lies in ``domain`` (a key of :data:`DOMAINS`). A symbolic value is
    accepted unless its assumptions rule it out (``alpha`` is positive, ``R`` a positive
    integer)."""
    if isinstance(value, bool) or not isinstance(value, (int, Expr)):
        return False
    value = Integer(value) if isinstance(value, int) else value
    if value.is_number and not value.is_Rational:
        return False  # sqrt(2) channels: no layer has them
    if domain == "flag":
        return value in (0, 1)
    if domain == "positive int":
        return _may_be_whole(value) and value.is_positive is not False
    if domain == "padding":  # p pixels on each side; (a + b)/2 where an import pads a and b
        return _may_be_whole(2 * value) and value.is_nonnegative is not False
    if domain == "channels":
        return value.is_positive is not False
    raise AssertionError(f"unknown domain {domain!r}")


def _may_be_whole(value: Expr) -> bool:
    """A number: whether it is whole; a symbolic value: unless its assumptions rule it out."""
    return value.is_Integer if value.is_number else value.is_integer is not False


@dataclass(frozen=True)
class Attr:
    """One attribute of an op: its name, domain (a key of :data:`DOMAINS`) and default
    (``REQUIRED`` for none; a default of None means "derived from the others")."""

    name: str
    domain: str
    default: Any


REQUIRED = object()


def attr(name: str, domain: str, default: Any = REQUIRED) -> Attr:
    assert domain in DOMAINS, domain
    return Attr(name, domain, default)


@dataclass(frozen=True)
class OpDef:
    """A registered primitive: its name, its attributes in positional order (with domains
    and defaults), how many inputs it takes, and its formula."""

    name: str
    attributes: tuple[Attr, ...]
    formula: Callable[..., Result]
    doc: str
    inputs: str = "one"  # "one" or "many" (merge ops)

    @property
    def attrs(self) -> tuple[tuple[str, Any], ...]:
        """``(name, default)`` pairs in positional order."""
        return tuple((a.name, a.default) for a in self.attributes)

    @property
    def attr_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)


OPS: dict[str, OpDef] = {}


def op(name: str, *attrs: Attr, inputs: str = "one"):
    """Register ``formula`` as the primitive ``name``; ``attrs`` (made by :func:`attr`) in
    the order positional arguments fill them, each with its domain."""

    def register(formula: Callable[..., Result]) -> Callable[..., Result]:
        if name in OPS:
            raise RuntimeError(f"op {name!r} is registered twice")
        OPS[name] = OpDef(name, attrs, formula, (formula.__doc__ or "").strip(), inputs)
        return formula

    return register


def apply(name: str, inputs: Sequence[Shape], attrs: dict[str, Any]) -> Result:
    """Run primitive ``name`` on ``inputs``; missing attributes take their defaults."""
    definition = OPS[name]
    values = {}
    for attribute in definition.attributes:
        key = attribute.name
        if key in attrs:
            value = attrs[key]
            if not in_domain(value, attribute.domain):
                raise CostModelError(f"{name}: {key}= must be {DOMAINS[attribute.domain]}, got "
                                     f"{key}={value}")
            values[key] = value
        elif attribute.default is REQUIRED:
            raise CostModelError(f"{name} needs {key}= (attributes: "
                                 f"{', '.join(definition.attr_names)})")
        else:
            values[key] = attribute.default
    unknown = set(attrs) - set(values)
    if unknown:
        raise CostModelError(f"{name} has no attribute {sorted(unknown)[0]!r} (attributes: "
                             f"{', '.join(definition.attr_names) or 'none'})")
    if definition.inputs == "one":
        return definition.formula(inputs[0], **values)
    return definition.formula(list(inputs), **values)


# --- helpers -------------------------------------------------------------------------------

def _known(x) -> bool:
    return getattr(x, "is_number", isinstance(x, int))


def out_size(size: Expr, kernel, stride, padding, dilation=1, ceil_mode=False) -> Expr:
    """Output side of a window op: floor((size + 2p - d(K-1) - 1)/s) + 1 (ceil with
    ``ceil_mode``, as Caffe's pooling and torch's ``ceil_mode=True`` do)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    rounding = sympy.ceiling if ceil_mode else sympy.floor
    result = rounding(span / stride) + 1
    if ceil_mode and _known(result) and _known(size) and (result - 1) * stride >= size + padding:
        result -= 1  # torch/caffe: the last window must start inside the input or left pad
    return result


def _check_spatial(shape: Shape, what: str) -> Shape:
    for side in (shape.h, shape.w):
        if _known(side) and side < 1:
            raise InputTooSmall(f"{what} leaves a {shape.h}×{shape.w} output: the input is "
                                "too small for this layer")
    return shape


def _check_divides(groups, channels, what: str) -> None:
    if groups == 1:
        return  # idealized widths (rounding=none) may be fractional; one group takes them all
    if _known(groups) and _known(channels) and (channels / groups).is_integer is False:
        raise CostModelError(f"groups g={groups} do not divide the {channels} {what} channels")


def _window_kind(prefix: str, kernel) -> str:
    return f"{prefix} {kernel}x{kernel}"


# --- convolutions ---------------------------------------------------------------------------

@op("conv", attr("c", "channels"), attr("k", "positive int"), attr("s", "positive int", 1),
    attr("p", "padding", None), attr("d", "positive int", 1),
    attr("g", "positive int", 1), attr("bias", "flag", 0))
def conv(x: Shape, c, k, s, p, d, g, bias) -> Result:
    """Convolution, ``c`` output channels, ``k``×``k`` kernel, stride ``s``, padding ``p``
    (default ``d(k-1)/2``, "same" for odd k), dilation ``d``, ``g`` groups, bias 0/1.

    MACs = H'·W'·c·(C/g)·k². Params = c·(C/g)·k² (+ c with bias). Bias adds are not counted.
    """
    _check_divides(g, x.c, "input")
    _check_divides(g, c, "output")
    p = d * (k - 1) // 2 if p is None else p
    out = _check_spatial(Shape(c, out_size(x.h, k, s, p, d), out_size(x.w, k, s, p, d)),
                         f"conv k={k} s={s}")
    per_output = (x.c / g) * k * k
    depthwise = g != 1 and g == x.c  # also when both are the same symbolic width
    kind = _window_kind("conv dw" if depthwise else "conv" if g == 1 else "gconv", k)
    return Result(out, Counts(macs=out.numel * per_output,
                              weights=c * per_output + (c if bias else 0),
                              activations=out.numel), kind)


@op("dw", attr("k", "positive int", 3), attr("s", "positive int", 1),
    attr("p", "padding", None), attr("d", "positive int", 1),
    attr("m", "positive int", 1), attr("bias", "flag", 0))
def depthwise(x: Shape, k, s, p, d, m, bias) -> Result:
    """Depthwise convolution: one ``k``×``k`` filter per channel (``m`` per channel with a
    depth multiplier), i.e. ``conv`` with g = C and c = m·C. MACs = H'·W'·m·C·k²."""
    return conv(x, c=m * x.c, k=k, s=s, p=p, d=d, g=x.c, bias=bias)


@op("pw", attr("c", "channels"), attr("g", "positive int", 1), attr("bias", "flag", 0))
def pointwise(x: Shape, c, g, bias) -> Result:
    """Pointwise (1x1) convolution, optionally grouped: ``conv`` with k = 1.
    MACs = H·W·c·C/g."""
    return conv(x, c=c, k=1, s=1, p=0, d=1, g=g, bias=bias)


@op("fc", attr("c", "channels"), attr("bias", "flag", 1))
def fully_connected(x: Shape, c, bias) -> Result:
    """Fully connected layer on the flattened input (C·H·W features) to ``c`` outputs.
    MACs = C·H·W·c. Params = C·H·W·c (+ c with bias)."""
    features = x.numel
    out = Shape(c, Integer(1), Integer(1))
    return Result(out, Counts(macs=features * c, weights=features * c + (c if bias else 0),
                              activations=c), "fc")


# --- pooling --------------------------------------------------------------------------------

def _pool(x: Shape, k, s, p, ceil, kind: str) -> Result:
    s = k if s is None else s
    out = _check_spatial(Shape(x.c, out_size(x.h, k, s, p, 1, bool(ceil)),
                               out_size(x.w, k, s, p, 1, bool(ceil))), f"{kind} k={k} s={s}")
    return Result(out, Counts(elementwise=out.numel * k * k, activations=out.numel),
                  _window_kind(kind, k))


@op("maxpool", attr("k", "positive int"), attr("s", "positive int", None),
    attr("p", "padding", 0), attr("ceil", "flag", 0))
def max_pool(x: Shape, k, s, p, ceil) -> Result:
    """Max pooling over ``k``×``k`` windows, stride ``s`` (default ``k``), ``ceil`` = 1 for
    Caffe-style ceil rounding of the output size. No MACs: K² comparisons per output."""
    return _pool(x, k, s, p, ceil, "maxpool")


@op("avgpool", attr("k", "positive int"), attr("s", "positive int", None),
    attr("p", "padding", 0), attr("ceil", "flag", 0))
def avg_pool(x: Shape, k, s, p, ceil) -> Result:
    """Average pooling, as ``maxpool``. Not counted as MACs (K² adds per output)."""
    return _pool(x, k, s, p, ceil, "avgpool")


@op("gap")
def global_avg_pool(x: Shape) -> Result:
    """Global average pooling to 1×1. Not counted as MACs (H·W adds per channel)."""
    return Result(Shape(x.c, Integer(1), Integer(1)),
                  Counts(elementwise=x.numel, activations=x.c), "gap")


@op("adaptivepool", attr("size", "positive int"))
def adaptive_avg_pool(x: Shape, size) -> Result:
    """Adaptive average pooling to ``size``×``size`` (torchvision's VGG keeps its classifier
    input at 7×7 for any resolution this way). Not counted as MACs."""
    out = Shape(x.c, size, size)
    return Result(out, Counts(elementwise=x.numel, activations=out.numel), "adaptivepool")


# --- per-element ops ------------------------------------------------------------------------

@op("bn")
def batch_norm(x: Shape) -> Result:
    """Batch norm. At inference it folds into the preceding conv, so the papers count neither
    its 2 ops per element nor its 2·C parameters (scale, shift); PyTorch lists the parameters."""
    return Result(x, Counts(elementwise=2 * x.numel, norm_params=2 * x.c,
                            activations=x.numel), "bn")


def _activation(name: str, ops_per_element: int) -> None:
    def activation(x: Shape) -> Result:
        return Result(x, Counts(elementwise=ops_per_element * x.numel,
                                activations=x.numel), "act")

    activation.__doc__ = f"{name} activation: no MACs, no parameters."
    op(name)(activation)


for _name, _cost in (("relu", 1), ("relu6", 1), ("sigmoid", 1), ("hsigmoid", 1),
                     ("hswish", 2), ("swish", 2)):
    _activation(_name, _cost)


@op("lrn", attr("size", "positive int", 5))
def local_response_norm(x: Shape, size) -> Result:
    """Local response normalization (AlexNet, GoogLeNet). Not counted as MACs."""
    return Result(x, Counts(elementwise=size * x.numel, activations=x.numel), "lrn")


@op("dropout")
def dropout(x: Shape) -> Result:
    """Dropout: the identity at inference."""
    return Result(x, Counts(activations=x.numel), "dropout")


@op("shuffle", attr("g", "positive int"))
def channel_shuffle(x: Shape, g) -> Result:
    """Channel shuffle (ShuffleNet): a permutation of channels, no arithmetic."""
    _check_divides(g, x.c, "shuffled")
    return Result(x, Counts(activations=x.numel), "shuffle")


@op("split", attr("c", "channels"))
def channel_split(x: Shape, c) -> Result:
    """Channel split (ShuffleNet v2): this branch takes ``c`` of the input channels."""
    if _known(c) and _known(x.c) and not 0 < c <= x.c:
        raise CostModelError(f"split takes {c} channels of a {x.c}-channel input")
    out = Shape(c, x.h, x.w)
    return Result(out, Counts(activations=out.numel), "split")


# --- merges of several inputs ---------------------------------------------------------------

def _same_spatial(xs: list[Shape], what: str) -> None:
    for other in xs[1:]:
        if (other.h, other.w) != (xs[0].h, xs[0].w):
            raise CostModelError(f"{what} needs equal spatial sizes, got "
                                 + " and ".join(str(x) for x in xs))


@op("add", inputs="many")
def add(xs: list[Shape]) -> Result:
    """Element-wise sum of branches of the same shape (residual connections)."""
    _same_spatial(xs, "add")
    if any(x.c != xs[0].c for x in xs[1:]):
        raise CostModelError("add needs equal channels, got " + " and ".join(map(str, xs)))
    return Result(xs[0], Counts(elementwise=(len(xs) - 1) * xs[0].numel,
                                activations=xs[0].numel), "add")


@op("concat", inputs="many")
def concat(xs: list[Shape]) -> Result:
    """Concatenation of branches along channels."""
    _same_spatial(xs, "concat")
    out = Shape(sum((x.c for x in xs), ZERO), xs[0].h, xs[0].w)
    return Result(out, Counts(activations=out.numel), "concat")


@op("mul", inputs="many")
def multiply(xs: list[Shape]) -> Result:
    """Element-wise product of a feature map and a per-channel gate (squeeze-excite),
    broadcast over 1×1 gates. Not counted as MACs."""
    full = max(xs, key=lambda x: 0 if (x.h, x.w) == (1, 1) else 1)
    if any(x.c != full.c for x in xs):
        raise CostModelError("mul needs equal channels, got " + " and ".join(map(str, xs)))
    return Result(full, Counts(elementwise=full.numel, activations=full.numel), "mul")
