"""PyTorch calls → costmodel ops: one rule per module type, function and tensor method.

A rule reads a call (the module or the function's arguments, with tensors already turned into
:class:`Value`) and answers with what the call is in costmodel's terms:

* :class:`Emit` -- a layer of a registered op (``conv``, ``bn``, ``add``...) with attributes;
* :class:`Alias` -- the same feature map seen differently (``flatten`` before a ``Linear``,
  ``contiguous``, ``nn.Identity``, a view that keeps the data as it was);
* :class:`Unsupported` -- a call costmodel cannot count, with the reason; the tracer lists it
  by name in the network's notes, never drops it silently.

The tables :data:`MODULE_RULES`, :data:`FUNCTION_RULES` and :data:`METHOD_RULES` hold the calls
that need reading (attributes, shapes); a call an op's definition lists in ``torch.reads``
(core/ops.py: activations, dropout) is read as that op with no attributes by
:func:`module_rule`, :func:`function_rule` and :func:`method_rule`, which the tracer asks.
Only what maps exactly onto an op is accepted (square kernels, channel-wise chunks...);
anything else is Unsupported, which is honest and visible.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core.ops import OPS, Shape, same_padding


@dataclass(frozen=True)
class Value:
    """A tensor as the tracer sees it: costmodel's shape (C×H×W, ``producer`` = the layer that
    wrote it; an N×F tensor is F×1×1), the tensor's size (batch first), and a pending layout
    for a channel shuffle written as view/transpose/view: ``("grouped", g)`` after the first
    view to N×g×(C/g)×H×W, ``("transposed", g)`` after the transpose."""

    shape: Shape
    size: tuple[int, ...]
    layout: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Pieces:
    """The tuple ``chunk``/``split`` along channels returns: the source and each piece's width."""

    source: Value
    widths: tuple[int, ...]


@dataclass(frozen=True)
class Emit:
    op: str
    inputs: tuple[Value, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    #: the PyTorch call the tool conventions see, where not the traced one (a module of
    #: costmodel's own that wraps nn.MultiheadAttention); the parameters (by qualified name)
    #: a functional call reads, counted once however many layers read them
    call: str = ""
    params: tuple[str, ...] = ()
    #: the shape the call returns, where the op's formula gives a regrouping of it of the
    #: same elements (Swin's attention over windows, returned as the map)
    output: Any = None


@dataclass(frozen=True)
class Alias:
    value: Value


@dataclass(frozen=True)
class Unsupported:
    reason: str


Rule = Callable[..., "Emit | Alias | Unsupported | Pieces"]


def _axes(value: Any, rank: int, what: str) -> Any:
    """A torch size argument (an int, or one per spatial axis) as costmodel writes it: one
    int where every axis has the same, else a tuple per axis (``k=1x7``)."""
    if isinstance(value, (tuple, list)):
        if len(value) == 1:
            value = value[0]
        elif len(value) != rank:
            raise _NotPerAxis(f"{what} {tuple(value)} for an input of {rank} spatial axes")
        elif len(set(value)) == 1:
            value = value[0]
        else:
            return tuple(int(v) for v in value)
    return int(value)


class _NotPerAxis(Exception):
    pass


def _without_defaults(attrs: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in attrs.items() if k not in defaults or defaults[k] != v}


# --- modules ------------------------------------------------------------------------------------

def conv_layer(x: Value, cout: int, k: Any, s: Any, p: Any, d: Any, g: int,
               bias: bool) -> Emit:
    """The most specific op for a convolution over any number of axes: ``dw`` (one filter
    group per input channel), ``pw`` (1×1, stride 1, no padding), else ``conv``; sizes are
    ints or per-axis tuples (:func:`_axes`); attributes at their op's defaults are left
    out, as a spec writer would."""
    cin = int(x.shape.c)
    same = same_padding(k, d, x.shape.rank)
    if g == cin and g > 1 and cout % cin == 0:
        return Emit("dw", (x,), _without_defaults(
            {"k": k, "s": s, "p": p, "d": d, "m": cout // cin, "bias": int(bias)},
            {"k": 3, "s": 1, "p": same, "d": 1, "m": 1, "bias": 0}))
    if (k, s, p, d) == (1, 1, 0, 1):
        return Emit("pw", (x,), _without_defaults({"c": cout, "g": g, "bias": int(bias)},
                                                  {"g": 1, "bias": 0}))
    return Emit("conv", (x,), _without_defaults(
        {"c": cout, "k": k, "s": s, "p": p, "d": d, "g": g, "bias": int(bias)},
        {"s": 1, "p": same, "d": 1, "g": 1, "bias": 0}))


def _conv(m: nn.modules.conv._ConvNd, x: Value) -> Emit | Unsupported:
    """``nn.Conv1d``/``Conv2d``/``Conv3d``, square kernels or not."""
    rank = x.shape.rank
    if len(m.kernel_size) != rank:
        return Unsupported(f"a {len(m.kernel_size)}-D convolution on a map of {rank} "
                           "spatial axes")
    try:
        k, s, d = (_axes(getattr(m, a), rank, a) for a in ("kernel_size", "stride", "dilation"))
        if isinstance(m.padding, str):
            if m.padding == "valid":
                p = 0
            else:  # "same": d(k-1)/2 per axis, where d(k-1) is even
                spans = [di * (ki - 1) for ki, di in zip(m.kernel_size, m.dilation)]
                if any(span % 2 for span in spans):
                    return Unsupported(f"padding='same' with an even kernel "
                                       f"{tuple(m.kernel_size)} pads unevenly")
                p = _axes([span // 2 for span in spans], rank, "padding")
        else:
            p = _axes(m.padding, rank, "padding")
    except _NotPerAxis as exc:
        return Unsupported(str(exc))
    return conv_layer(x, m.out_channels, k, s, p, d, m.groups, m.bias is not None)


def _linear(m: nn.Linear, x: Value) -> Emit | Unsupported:
    if len(x.size) != 2:
        return Unsupported(f"Linear on a {len(x.size)}-d tensor (along its last dimension)")
    return Emit("fc", (x,), _without_defaults({"c": m.out_features, "bias": int(m.bias is not None)},
                                              {"bias": 1}))


def _batch_norm(m: nn.modules.batchnorm._BatchNorm, x: Value) -> Emit | Unsupported:
    if not m.affine:
        return Unsupported("batch norm without affine scale and shift (costmodel's bn has both)")
    return Emit("bn", (x,))


def pool(op: str, x: Value, k, s, p, ceil, dilation=1) -> Emit | Unsupported:
    rank = x.shape.rank
    try:
        k = _axes(k, rank, "kernel_size")
        s = k if s is None or s == [] or s == () else _axes(s, rank, "stride")
        p, dilation = _axes(p, rank, "padding"), _axes(dilation, rank, "dilation")
    except _NotPerAxis as exc:
        return Unsupported(str(exc))
    if dilation != 1:
        return Unsupported(f"dilated pooling (dilation {dilation})")
    return Emit(op, (x,), _without_defaults({"k": k, "s": s, "p": p, "ceil": int(bool(ceil))},
                                            {"s": k, "p": 0, "ceil": 0}))


def adaptive(x: Value, size: Any) -> Emit | Unsupported:
    try:
        size = _axes(size, x.shape.rank, "output_size")
    except (_NotPerAxis, TypeError) as exc:
        return Unsupported(f"adaptive pooling to {size}: {exc}")
    return Emit("gap", (x,)) if size == 1 else Emit("adaptivepool", (x,), {"size": size})


def _hardtanh(m: nn.Hardtanh, x: Value) -> Emit | Unsupported:
    if (m.min_val, m.max_val) == (0.0, 6.0):
        return Emit("relu6", (x,))
    return Unsupported(f"Hardtanh({m.min_val}, {m.max_val})")


def _flatten(m: nn.Flatten, x: Value) -> Alias | Unsupported:
    return flatten(x, m.start_dim, m.end_dim)


def flatten(x: Value, start: int = 0, end: int = -1) -> Alias | Unsupported:
    if start == 1 and end in (-1, len(x.size) - 1):
        return Alias(Value(x.shape, (x.size[0], int(x.shape.numel))))
    return Unsupported(f"flatten({start}, {end}) of a {len(x.size)}-d tensor")


def _max_pool(m: nn.modules.pooling._MaxPoolNd, x: Value) -> Emit | Unsupported:
    if m.return_indices:
        return Unsupported("max pooling that returns indices")
    return pool("maxpool", x, m.kernel_size, m.stride, m.padding, m.ceil_mode, m.dilation)


def _avg_pool(m: nn.modules.pooling._AvgPoolNd, x: Value) -> Emit | Unsupported:
    return pool("avgpool", x, m.kernel_size, m.stride, m.padding, m.ceil_mode)


MODULE_RULES: dict[type, Rule] = {
    **{conv: _conv for conv in (nn.Conv1d, nn.Conv2d, nn.Conv3d)},
    nn.Linear: _linear,
    **{norm: _batch_norm for norm in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)},
    nn.Hardtanh: _hardtanh,
    **{pool_: _max_pool for pool_ in (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)},
    **{pool_: _avg_pool for pool_ in (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)},
    **{pool_: (lambda m, x: adaptive(x, m.output_size))
       for pool_ in (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)},
    nn.LocalResponseNorm: lambda m, x: Emit("lrn", (x,), {"size": m.size}),
    nn.ChannelShuffle: lambda m, x: Emit("shuffle", (x,), {"g": m.groups}),
    nn.Identity: lambda m, x: Alias(x),
    nn.Flatten: _flatten,
}


# --- functions and tensor methods ---------------------------------------------------------------

def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _merge(op: str) -> Rule:
    def rule(*args: Any, **kwargs: Any):
        tensors = [a for a in args[:2] if isinstance(a, Value)]
        if len(tensors) != 2:
            return Unsupported(f"{op} with a constant ({_describe(args[:2])})")
        return Emit(op, tuple(tensors))
    return rule


def _describe(args: tuple) -> str:
    return ", ".join("tensor" if isinstance(a, Value) else repr(a) for a in args)


def _channel_dim(dim: int, x: Value) -> bool:
    rank = len(x.size)  # N×C, N×C×L, N×C×H×W, N×C×T×H×W: channels are dimension 1
    return dim == 1 or dim == 1 - rank


def _cat(tensors: Any, dim: int = 0, **_: Any) -> Emit | Unsupported:
    tensors = list(tensors)
    if not tensors or not all(isinstance(t, Value) for t in tensors):
        return Unsupported("cat of something other than traced tensors")
    if not _channel_dim(dim, tensors[0]):
        return Unsupported(f"cat along dimension {dim} (costmodel concatenates channels)")
    return Emit("concat", tuple(tensors))


def chunk_widths(total: int, chunks: int) -> tuple[int, ...]:
    """The widths torch.chunk cuts ``total`` into: pieces of ceil(total / chunks), the last
    one what is left (so there may be fewer than ``chunks``)."""
    width = -(-total // chunks)
    widths, left = [], total
    while left > 0:
        widths.append(min(width, left))
        left -= width
    return tuple(widths)


def _chunk(x: Value, chunks: int, dim: int = 0, **_: Any) -> Pieces | Unsupported:
    if not _channel_dim(dim, x):
        return Unsupported(f"chunk along dimension {dim}")
    return Pieces(x, chunk_widths(x.size[1], chunks))


def _split(x: Value, sizes: Any, dim: int = 0, **_: Any) -> Pieces | Unsupported:
    if not _channel_dim(dim, x):
        return Unsupported(f"split along dimension {dim}")
    if isinstance(sizes, int):
        return _chunk(x, -(-x.size[1] // sizes), 1)
    return Pieces(x, tuple(int(s) for s in sizes))


def _mean(x: Value, dim: Any = None, keepdim: bool = False, **_: Any) -> Emit | Unsupported:
    dims = {d % len(x.size) for d in (dim if isinstance(dim, (tuple, list)) else [dim])} \
        if dim is not None else set()
    if len(x.size) >= 3 and dims == set(range(2, len(x.size))):
        return Emit("gap", (x,))
    return Unsupported(f"mean over dimensions {dim}")


def _unary(op: str) -> Rule:
    return lambda x, *args, **kwargs: Emit(op, (x,)) if isinstance(x, Value) else \
        Unsupported(f"{op} of a non-tensor")


def _hardtanh_fn(x: Value, min_val: float = -1.0, max_val: float = 1.0, *_: Any, **__: Any):
    return Emit("relu6", (x,)) if (min_val, max_val) == (0.0, 6.0) else \
        Unsupported(f"hardtanh({min_val}, {max_val})")


def _alias(x: Value, *_: Any, **__: Any) -> Alias:
    return Alias(x)


def _getitem(x: Any, index: Any) -> Any:
    """``pieces[i]`` of a chunk, or ``x[:, a:b]`` (a channel slice): a ``split`` layer."""
    if isinstance(x, Pieces):
        return Emit("split", (x.source,), {"c": x.widths[index]})
    if isinstance(x, Value) and isinstance(index, tuple) and len(index) == 2 \
            and index[0] == slice(None) and isinstance(index[1], slice) and index[1].step in (None, 1):
        start, stop, _ = index[1].indices(x.size[1])
        return Emit("split", (x,), {"c": stop - start})
    return Unsupported(f"indexing [{index}]")


def _pool_fn(op: str) -> Rule:
    def rule(x: Value, kernel_size: Any, stride: Any = None, padding: Any = 0, *args: Any,
             **kwargs: Any):
        ceil = kwargs.get("ceil_mode", args[1] if op == "maxpool" and len(args) > 1 else
                          args[0] if op == "avgpool" and args else False)
        dilation = kwargs.get("dilation", args[0] if op == "maxpool" and args else 1)
        if kwargs.get("return_indices"):
            return Unsupported("max pooling that returns indices")
        return pool(op, x, kernel_size, stride, padding, ceil, dilation)
    return rule


FUNCTION_RULES: dict[Any, Rule] = {
    operator.add: _merge("add"), operator.iadd: _merge("add"), torch.add: _merge("add"),
    operator.mul: _merge("mul"), operator.imul: _merge("mul"), torch.mul: _merge("mul"),
    torch.cat: _cat, torch.concat: _cat, torch.chunk: _chunk, torch.split: _split,
    torch.flatten: lambda x, start_dim=0, end_dim=-1: flatten(x, start_dim, end_dim),
    operator.getitem: _getitem,
    F.hardtanh: _hardtanh_fn,
    **{pool_: (lambda x, output_size: adaptive(x, output_size))
       for pool_ in (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d, F.adaptive_avg_pool3d)},
    **{pool_: _pool_fn("maxpool") for pool_ in (F.max_pool1d, F.max_pool2d, F.max_pool3d)},
    **{pool_: _pool_fn("avgpool") for pool_ in (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)},
    torch.mean: _mean,
    torch.narrow: lambda x, dim, start, length: METHOD_RULES["narrow"](x, dim, start, length),
    F.channel_shuffle: lambda x, groups: Emit("shuffle", (x,), {"g": groups}),
    torch.channel_shuffle: lambda x, groups: Emit("shuffle", (x,), {"g": groups}),
}

METHOD_RULES: dict[str, Rule] = {
    "add": _merge("add"), "add_": _merge("add"), "mul": _merge("mul"), "mul_": _merge("mul"),
    "chunk": _chunk, "split": _split, "mean": _mean,
    "flatten": lambda x, start_dim=0, end_dim=-1: flatten(x, start_dim, end_dim),
    "contiguous": _alias,
    "narrow": lambda x, dim, start, length: Emit("split", (x,), {"c": int(length)})
    if _channel_dim(dim, x) else Unsupported(f"narrow along dimension {dim}"),
}


# --- the calls op definitions read as themselves ------------------------------------------------

def _read_as(call: str) -> Rule | None:
    """A rule emitting the op whose definition lists ``call`` in ``torch.reads``."""
    for name, definition in OPS.items():
        if call in definition.torch.reads:
            return _unary(name)
    return None


def module_rule(module: nn.Module) -> Rule | None:
    """The rule for a module: this file's (by type, through subclasses), else an op's
    definition that reads its class (``nn.ReLU``)."""
    for kind in type(module).__mro__:
        if kind in MODULE_RULES:
            return MODULE_RULES[kind]
        rule = _read_as(f"nn.{kind.__name__}") if kind.__module__.startswith("torch.nn") \
            else None
        if rule is not None:
            return lambda m, x, rule=rule: rule(x)
    return None


def function_rule(target: Any, name: str) -> Rule | None:
    """The rule for a function (``name`` as the tracer spells it: ``F.relu``,
    ``torch.sigmoid``): this file's, else an op definition's."""
    rule = FUNCTION_RULES.get(target)
    return rule if rule is not None else _read_as(name)


def method_rule(method: str) -> Rule | None:
    """The rule for a tensor method: this file's, else an op definition's (``Tensor.relu``)."""
    rule = METHOD_RULES.get(method)
    return rule if rule is not None else _read_as(f"Tensor.{method}")


def reshape(x: Value, out_size: tuple[int, ...], how: str, args: tuple) -> Alias | Emit | Unsupported:
    """``view``/``reshape``/``transpose``/``permute`` of a feature map: a flatten for a
    ``Linear``, no change at all, or one step of a channel shuffle (ShuffleNet's
    ``x.view(n, g, c // g, h, w).transpose(1, 2).contiguous().view(n, c, h, w)``)."""
    n = x.size[0]
    c, h, w = (int(v) for v in (x.shape.c, x.shape.h, x.shape.w))
    if how in ("view", "reshape"):
        if out_size == (n, c * h * w) and not x.layout:
            return Alias(Value(x.shape, out_size))
        if out_size == x.size and not x.layout:
            return Alias(x)
        if not x.layout and len(out_size) == 5 and out_size[0] == n \
                and out_size[1] * out_size[2] == c and out_size[3:] == (h, w):
            return Alias(Value(x.shape, out_size, ("grouped", out_size[1])))
        if x.layout and out_size == (n, c, h, w):
            kind, groups = x.layout
            back = Value(x.shape, out_size)
            return Emit("shuffle", (back,), {"g": groups}) if kind == "transposed" else Alias(back)
    elif x.layout and x.layout[0] == "grouped":
        dims = tuple(a % 5 for a in args)
        if (how == "transpose" and set(dims) == {1, 2}) or \
                (how == "permute" and dims == (0, 2, 1, 3, 4)):
            return Alias(Value(x.shape, out_size, ("transposed", x.layout[1])))
    return Unsupported(f"{how} to {tuple(out_size)}")


RESHAPES = ("view", "reshape", "transpose", "permute")
