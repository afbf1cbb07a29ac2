"""What one op is, in one definition: the registry of primitives and the facts each holds.

An op (:class:`OpDef`) is registered once, with :func:`op`, and holds everything the rest of
costmodel asks about it:

* its **formula**: a pure function of the input shapes and attributes, returning the output
  shape and the raw :class:`Counts` (the counting rule is in :mod:`costmodel.core.ops`);
* its **attributes**, each with a domain (:data:`DOMAINS`) and a default;
* its **category** (:data:`CATEGORIES`): the kind of arithmetic it does, which is what a
  counting convention keys on (:mod:`costmodel.core.conventions`: a tool's rule per category
  plus the named exceptions the tool really has);
* how **PyTorch** writes it (:class:`Torch`): the call ``to_torch`` writes and hook-based
  tools see, the other calls that compute it, the module and functional factories
  ``to_torch`` uses, and the calls ``count_torch`` reads as this op with no attributes;
* how **ONNX** writes it (:class:`Onnx`): its op types, and those the ONNX reader reads as
  this op with no attributes;
* how it reads and writes **memory** (:class:`Memory`), for :mod:`costmodel.analysis.memory`;
* its **display** kind, the label of its layers in tables (a formula may refine it:
  ``conv dw 3x3``).

Registration checks that the definition is complete and consistent: a missing or malformed
fact is a :class:`~costmodel.errors.CostModelError` naming the op and the field, raised when
the op is defined, never a ``KeyError`` when it is first used. :func:`registered` defines an
op for the span of a ``with`` block (tests, experiments) and removes it afterwards.

Nothing here imports sympy's heavy parts or torch: the torch factories are called only by
``to_torch``, which imports torch itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from sympy import Expr, Integer

from ..errors import CostModelError
from .categories import ALIASING, CATEGORIES, STREAMING  # noqa: F401  (re-exported)

ZERO = Integer(0)

#: Where a tensor holds its channels (:class:`Shape`): N×C×… ("first") or N×…×C ("last").
LAYOUTS = ("first", "last")


@dataclass(frozen=True)
class Shape:
    """A feature map: ``c`` channels over any number of spatial axes, each a sympy expression.

    ``sizes`` lists the spatial axes outermost first: ``(L,)`` for a sequence or audio frame,
    ``(H, W)`` for an image, ``(T, H, W)`` for a video clip. An image is the common case, so
    :attr:`h` and :attr:`w` name its last two axes (a 1-D map has h = 1; a 0-D one, a vector,
    has h = w = 1) and :meth:`image` builds one.

    ``producer`` names the layer that wrote it ("input" for the network's input; empty where
    a formula builds a shape on its own). It records the graph's edges for front ends and
    memory analyses, and takes no part in equality: two maps of the same size are the same
    shape wherever they come from.

    ``layout`` says where the channels are in the tensor PyTorch holds: ``"first"`` (the
    default: N×C×H×W, N×C×L, what convolutions read) or ``"last"`` (N×…×C: what
    ``nn.Linear``, ``nn.LayerNorm`` and attention read). **Tokens** are the last layout: a
    sequence of L tokens of D features (N×L×D, ViT's encoder) is ``Shape(D, (L,), "last")``,
    ConvNeXt's permuted map N×H×W×C is ``Shape(C, (H, W), "last")``, and a tensor whose batch
    axis holds windows or heads as well (Swin's N·nW×k²×C, attention's N×heads×L×d) keeps
    them as leading sizes: ``Shape(C, (nW, k*k), "last")``, ``Shape(d, (heads, L), "last")``
    (per sample: the batch N itself is never a size). In the last layout the last size is the
    sequence attention runs over and the sizes before it are independent batches of it. ``c``
    is always the axis a linear layer, a norm or a softmax acts on. Layouts are equal only to
    themselves: a map and its permutation are different shapes."""

    c: Expr
    sizes: tuple[Expr, ...]
    producer: str = field(default="", compare=False)
    layout: str = "first"

    @classmethod
    def image(cls, c: Expr, h: Expr, w: Expr, producer: str = "") -> Shape:
        """A C×H×W map, the papers' case."""
        return cls(c, (h, w), producer)

    @property
    def rank(self) -> int:
        """The number of spatial axes (1 for a sequence, 2 for an image, 3 for a video)."""
        return len(self.sizes)

    @property
    def h(self) -> Expr:
        return self.sizes[-2] if len(self.sizes) >= 2 else Integer(1)

    @property
    def w(self) -> Expr:
        return self.sizes[-1] if self.sizes else Integer(1)

    @property
    def positions(self) -> Expr:
        """The number of spatial positions: H·W for an image, T·H·W for a video."""
        total = Integer(1)
        for size in self.sizes:
            total *= size
        return total

    @property
    def numel(self) -> Expr:
        return self.c * self.positions

    def __post_init__(self) -> None:
        if not isinstance(self.sizes, tuple) or not isinstance(self.producer, str):
            raise TypeError("Shape(c, sizes, producer): sizes is a tuple of spatial sizes "
                            f"(Shape.image(c, h, w) for an image), got {self.sizes!r}")
        if self.layout not in LAYOUTS:
            raise TypeError(f"Shape layout is one of {', '.join(LAYOUTS)}, got {self.layout!r}")

    def __str__(self) -> str:  # the papers' H×W×C order
        return "×".join(str(side) for side in (*self.sizes, self.c))


@dataclass(frozen=True)
class Counts:
    """Raw counts of one layer (or a sum of layers); :mod:`costmodel.core.ops` says what
    each field counts."""

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
    (``conv 1x1``, ``conv dw 3x3``...) used to group layers as the papers' tables do; empty
    means the op's display kind."""

    shape: Shape
    counts: Counts
    kind: str = ""


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
    "count": "a whole number >= 0",
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
    if domain == "count":
        return _may_be_whole(value) and value.is_nonnegative is not False
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
    #: whether the attribute may give one value per spatial axis (a kernel ``k=1x7``, a
    #: stride ``s=1x2``): a tuple of values of the domain, as many as the input has axes
    per_axis: bool = False


REQUIRED = object()


def attr(name: str, domain: str, default: Any = REQUIRED, per_axis: bool = False) -> Attr:
    if domain not in DOMAINS:
        raise CostModelError(f"attribute {name!r}: unknown domain {domain!r}; domains: "
                             f"{', '.join(DOMAINS)}")
    return Attr(name, domain, default, per_axis)


def attribute_in_domain(value: Any, attribute: Attr) -> bool:
    """Whether ``value`` suits ``attribute``: a value of its domain, or for a per-axis
    attribute a tuple of one to three such values."""
    if attribute.per_axis and isinstance(value, tuple):
        return 1 <= len(value) <= 3 and all(in_domain(v, attribute.domain) for v in value)
    return in_domain(value, attribute.domain)


def per_axis(value: Any, rank: int, name: str) -> tuple[Any, ...]:
    """``value`` of a per-axis attribute as one entry per spatial axis: a single value
    applies to every axis; a tuple must have one entry per axis."""
    if not isinstance(value, tuple):
        return (value,) * rank
    if len(value) != rank:
        written = written_value(value)
        raise CostModelError(f"{name}={written} gives {len(value)} axes, but the input has "
                             f"{rank} spatial axes; write {rank} sizes joined by x, or one")
    return value


def same_padding(k: Any, d: Any, rank: int) -> Any:
    """torch's "same" padding d(K-1)/2 per axis for a kernel ``k`` and dilation ``d`` (one
    value where both are one value): the default padding of conv and dw, and what to_torch,
    the readers and the spec writer take it to be."""
    if not isinstance(k, tuple) and not isinstance(d, tuple):
        return d * (k - 1) // 2
    return tuple(di * (ki - 1) // 2 for ki, di in zip(per_axis(k, rank, "k"),
                                                     per_axis(d, rank, "d")))


def call_for_rank(call: str, rank: int) -> str:
    """A 2-D torch call (``nn.Conv2d``, ``F.max_pool2d``) as written over ``rank`` spatial
    axes (``nn.Conv3d`` for a clip, ``F.max_pool1d`` for a sequence); any other call as is."""
    if rank != 2 and 1 <= rank <= 3 and call.endswith("2d"):
        return f"{call[:-2]}{rank}d"
    return call


# --- the facts of an op ---------------------------------------------------------------------

@dataclass(frozen=True)
class Torch:
    """How PyTorch writes an op.

    ``call``: the call ``to_torch`` writes by default and the tool conventions key on
    (``nn.Conv2d``, ``+``, ``torch.cat``...); ``also``: the other calls that compute the op
    (functional forms, tensor methods, the in-place operator), each a name a tool's rules
    may name; ``module``: ``LayerInfo -> nn.Module``, the module ``to_torch`` builds;
    ``functions``: call -> ``LayerInfo -> callable``, the functional forms ``to_torch``
    writes for a layer recorded with that call (the first is the default functional form);
    ``reads``: the calls (among ``call`` and ``also``) that ``count_torch`` reads as this op
    with no attributes; the others are read by frontends/torch_rules.py's rules."""

    call: str
    module: Callable[[Any], Any]
    also: tuple[str, ...] = ()
    functions: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    reads: tuple[str, ...] = ()

    @property
    def calls(self) -> tuple[str, ...]:
        """Every call that computes the op: ``call``, ``also``, and for a 2-D call
        (``nn.Conv2d``, ``F.max_pool2d``) its 1-D and 3-D forms, which to_torch writes for
        a sequence or a video clip."""
        written = (self.call, *self.also)
        by_rank = tuple(call_for_rank(c, rank) for c in written if c.endswith("2d")
                        for rank in (1, 3))
        return written + tuple(c for c in by_rank if c not in written)


@dataclass(frozen=True)
class Onnx:
    """How ONNX writes an op: its op types (``types``), those the ONNX reader reads as this
    op with no attributes (``reads``; the others have a handler in
    frontends/onnx_ops.py), and, where ONNX has no op of its own, a ``note`` saying how an
    exporter writes it instead."""

    types: tuple[str, ...]
    reads: tuple[str, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Memory:
    """How an op reads and writes memory: ``alias`` (a key of :data:`ALIASING`) and
    ``stream`` (of :data:`STREAMING`). A kernel reads each input map once, writes its output
    once and reads its weights once."""

    alias: str = "never"
    stream: str = "none"


@dataclass(frozen=True)
class OpDef:
    """A registered primitive: every fact about it (see the module docstring)."""

    name: str
    attributes: tuple[Attr, ...]
    formula: Callable[..., Result]
    doc: str
    category: str
    display: str
    torch: Torch
    onnx: Onnx
    memory: Memory
    inputs: str = "one"  # "one" or "many" (merge ops)
    #: extra quantities a tool's rule may count for a layer of this op, beyond macs, bias,
    #: input and output: ``(inputs, attrs with defaults) -> {name: count}``
    quantities: Callable[[Sequence[Shape], dict[str, Any]], dict[str, Expr]] | None = None

    @property
    def attrs(self) -> tuple[tuple[str, Any], ...]:
        """``(name, default)`` pairs in positional order."""
        return tuple((a.name, a.default) for a in self.attributes)

    @property
    def attr_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)


OPS: dict[str, OpDef] = {}

#: The facts :func:`op` needs, each with what it is (for the error when one is missing).
_FACTS = {
    "category": f"its kind of arithmetic, one of: {', '.join(CATEGORIES)}",
    "display": "the label of its layers in tables (a str)",
    "torch": "how PyTorch writes it, a costmodel.core.opdef.Torch",
    "onnx": "how ONNX writes it, a costmodel.core.opdef.Onnx",
    "memory": "how it reads and writes memory, a costmodel.core.opdef.Memory",
}


def op(name: str, *attrs: Attr, inputs: str = "one", category: str | None = None,
       display: str | None = None, torch: Torch | None = None, onnx: Onnx | None = None,
       memory: Memory | None = None,
       quantities: Callable[..., dict[str, Expr]] | None = None):
    """Register ``formula`` as the primitive ``name`` with every fact about it; ``attrs``
    (made by :func:`attr`) in the order positional arguments fill them. A missing or
    inconsistent fact is a CostModelError naming the op and the field."""

    def register(formula: Callable[..., Result]) -> Callable[..., Result]:
        definition = OpDef(name, attrs, formula, (formula.__doc__ or "").strip(), category,
                           display, torch, onnx, memory, inputs, quantities)
        define(definition)
        return formula

    return register


def define(definition: OpDef) -> OpDef:
    """Check ``definition`` and add it to :data:`OPS`; a second definition of a name is an
    error."""
    check(definition)
    if definition.name in OPS:
        raise CostModelError(f"op {definition.name!r} is registered twice")
    OPS[definition.name] = definition
    return definition


def check(d: OpDef) -> None:
    """Every fact present and consistent, else a CostModelError naming the op and field."""
    def fail(what: str) -> CostModelError:
        return CostModelError(f"op {d.name!r}: {what}")

    if not isinstance(d.name, str) or not d.name.isidentifier():
        raise fail("its name must be an identifier")
    for key, what in _FACTS.items():
        if getattr(d, key) is None:
            raise fail(f"missing {key}= ({what})")
    if d.category not in CATEGORIES:
        raise fail(f"category={d.category!r} is not one of: {', '.join(CATEGORIES)}")
    if not isinstance(d.display, str) or not d.display:
        raise fail("display= must be a non-empty str")
    if d.inputs not in ("one", "many"):
        raise fail(f"inputs={d.inputs!r} must be 'one' or 'many'")
    if not callable(d.formula):
        raise fail("its formula is not callable")
    names = [a.name for a in d.attributes]
    if len(set(names)) != len(names) or not all(isinstance(a, Attr) for a in d.attributes):
        raise fail("its attributes must be distinct attr(...) values")
    for key, kind in (("torch", Torch), ("onnx", Onnx), ("memory", Memory)):
        if not isinstance(getattr(d, key), kind):
            raise fail(f"{key}= must be a {kind.__name__}, got {type(getattr(d, key)).__name__}")
    _check_torch(d, fail)
    _check_onnx(d, fail)
    if d.memory.alias not in ALIASING:
        raise fail(f"memory alias={d.memory.alias!r} is not one of {', '.join(ALIASING)}")
    if d.memory.stream not in STREAMING:
        raise fail(f"memory stream={d.memory.stream!r} is not one of {', '.join(STREAMING)}")
    if d.quantities is not None and not callable(d.quantities):
        raise fail("quantities= must be callable")


def _check_torch(d: OpDef, fail: Callable[[str], CostModelError]) -> None:
    t = d.torch
    if not isinstance(t.call, str) or not t.call:
        raise fail("torch call= must name the PyTorch call that computes it")
    if not callable(t.module):
        raise fail("torch module= must be a factory LayerInfo -> nn.Module")
    if not all(isinstance(c, str) and c for c in t.also) or len(set(t.calls)) != len(t.calls):
        raise fail("torch also= must be distinct call names")
    for call, factory in t.functions.items():
        if call not in t.calls or not callable(factory):
            raise fail(f"torch functions= names {call!r}, not one of its calls "
                       f"({', '.join(t.calls)}), or its factory is not callable")
    unknown = [c for c in t.reads if c not in t.calls]
    if unknown:
        raise fail(f"torch reads= names {unknown[0]!r}, not one of its calls")
    if t.reads and not _plain(d):
        raise fail("torch reads= is for ops of one input without required attributes "
                   "(a call read with no attributes); write a rule in "
                   "frontends/torch_rules.py instead")


def _check_onnx(d: OpDef, fail: Callable[[str], CostModelError]) -> None:
    o = d.onnx
    if not all(isinstance(t, str) and t for t in o.types):
        raise fail("onnx types= must be ONNX op type names")
    if not o.types and not o.note:
        raise fail("onnx types= is empty: give note= saying how an exporter writes it")
    unknown = [t for t in o.reads if t not in o.types]
    if unknown:
        raise fail(f"onnx reads= names {unknown[0]!r}, not one of its types")
    if o.reads and not _plain(d):
        raise fail("onnx reads= is for ops of one input without required attributes; "
                   "write a handler in frontends/onnx_ops.py instead")


def _plain(d: OpDef) -> bool:
    return d.inputs == "one" and all(a.default is not REQUIRED for a in d.attributes)


def unregister(name: str) -> None:
    """Remove op ``name`` from the registry (what :func:`registered` does on exit)."""
    if name not in OPS:
        raise CostModelError(f"no op {name!r} to unregister")
    del OPS[name]


@contextlib.contextmanager
def registered(*definitions: OpDef) -> Iterator[tuple[OpDef, ...]]:
    """The ops ``definitions`` registered for the span of a ``with`` block (each checked as
    :func:`op` checks it), and removed afterwards, even when the block fails."""
    done = []
    try:
        for definition in definitions:
            done.append(define(definition))
        yield tuple(done)
    finally:
        for definition in done:
            OPS.pop(definition.name, None)


# --- looking facts up -----------------------------------------------------------------------

def definition_of(name: str) -> OpDef:
    """The definition of op ``name``; an unknown op is a CostModelError listing the known."""
    try:
        return OPS[name]
    except KeyError:
        raise CostModelError(f"unknown op {name!r}; registered ops: {', '.join(OPS)}") from None


def ops_in(*categories: str) -> tuple[str, ...]:
    """The registered ops of ``categories``, in registration order."""
    return tuple(name for name, d in OPS.items() if d.category in categories)


def activations() -> tuple[str, ...]:
    """Every registered activation: what ``act=`` takes (the builder's, the writer's and the
    memory analysis's list, derived here once)."""
    return ops_in("activation")


def category_of(name: str) -> str:
    return definition_of(name).category


def with_defaults(name: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` attributes of op ``name`` completed with the op's defaults (a required one
    left out stays out)."""
    values = {a.name: a.default for a in definition_of(name).attributes
              if a.default is not REQUIRED}
    values.update(given)
    return values


def written_value(value: Any) -> str:
    """An attribute value as the language writes it: ``3``, ``1x7``, ``(1, 5/2)``."""
    if not isinstance(value, tuple):
        return str(value)
    texts = [str(v) for v in value]
    return "x".join(texts) if all(t.isdigit() for t in texts) else f"({', '.join(texts)})"


def apply(name: str, inputs: Sequence[Shape], attrs: dict[str, Any]) -> Result:
    """Run primitive ``name`` on ``inputs``; missing attributes take their defaults."""
    definition = definition_of(name)
    values = {}
    for attribute in definition.attributes:
        key = attribute.name
        if key in attrs:
            value = attrs[key]
            if not attribute_in_domain(value, attribute):
                axes = " (one, or one per spatial axis as 1x7)" if attribute.per_axis else ""
                raise CostModelError(f"{name}: {key}= must be {DOMAINS[attribute.domain]}"
                                     f"{axes}, got {key}={written_value(value)}")
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
        result = definition.formula(inputs[0], **values)
    else:
        result = definition.formula(list(inputs), **values)
    if not result.kind:
        return Result(result.shape, result.counts, definition.display)
    return result
