"""PyTorch calls → the newer ops (core/ops_modern.py, ops_tokens.py, ops_attention.py): the
rules ``count_torch`` reads norms, linear layers over tokens, attention, contractions,
learned tensors used directly, transposed convolutions and resampling with, as
:mod:`.torch_rules` does for the classic ones (and in its terms: :class:`Value`,
:class:`Emit`, :class:`Alias`, :class:`Unsupported`).

Two kinds of values are new here:

* :class:`Param`: a parameter read directly in ``forward`` (a ``get_attr`` node: a layer
  scale, a class token, a position embedding, ``F.layer_norm``'s weight). A rule that reads
  one as part of an op names it in ``Emit.params``; views of it (``expand``, ``view``, an
  index into a relative-position table) are the same Param. Parameters no layer claims are
  counted by ``parameter`` layers at the end (frontends/torch_trace.py).
* tensors of the last layout (core/opdef.py ``Shape``): N×L×D tokens, N×H×W×C maps, and the
  N·windows×L×D or N×heads×L×d tensors inside attention, read from their torch sizes by
  :func:`as_last` (the batch axis divided by the input's batch N).

Views and permutes of a last-layout tensor are free and need no layer: they alias a Value
read again from the output's size. The moves between layouts that ``to_torch`` writes as a
layer (``channels_last``, ``channels_first``, ``merge_positions``, ``select``, ``cls_token``)
are layers, so a spec's network reads back as itself.
"""

from __future__ import annotations

import contextvars
import operator
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..core import torch_modern
from ..core.ops import Shape
from . import torch_rules as base
from .torch_rules import Alias, Emit, Pieces, Unsupported, Value
from .torch_rules_partition import partition_step

#: The batch N of the traced input: axes of N·k (windows folded into the batch) are k per
#: sample. Set by the tracer for the span of one trace.
BATCH: contextvars.ContextVar[int] = contextvars.ContextVar("batch", default=1)


@dataclass(frozen=True)
class Param:
    """A parameter read directly in ``forward``, or a view of one: its qualified name and
    the size of the tensor seen."""

    name: str
    size: tuple[int, ...]
    #: how many numbers the parameter itself holds (its size where it is read, kept by its
    #: views): a view of more (an index into a table, MaxViT's relative position bias) is
    #: no position embedding however many elements it has
    elements: int = -1

    def __post_init__(self) -> None:
        if self.elements < 0:
            object.__setattr__(self, "elements", _numel(self.size))


@dataclass(frozen=True)
class Returned:
    """A module's tuple output: ``nn.MultiheadAttention`` returns (output, weights)."""

    items: tuple[Any, ...]


def as_last(size: tuple[int, ...], producer: str) -> Shape | None:
    """A tensor's torch ``size`` as a last-layout Shape: channels the last axis, the others
    its sizes, the batch axis per sample (dropped where it is the batch N, divided by N
    where it holds windows or RoIs as well)."""
    if len(size) < 2:
        return None
    batch, *rest, channels = (int(s) for s in size)
    n = BATCH.get()
    if batch % n:
        return None
    sizes = tuple(rest) if batch == n else (batch // n, *rest)
    from sympy import Integer

    return Shape(Integer(channels), tuple(Integer(s) for s in sizes), producer, "last")


def _last(x: Value, size: tuple[int, ...] | None = None) -> Value:
    """``x`` (or a view of it of ``size``) as a last-layout Value; its shape None when the
    size does not split per sample."""
    size = tuple(x.size if size is None else size)
    return Value(as_last(size, x.shape.producer if x.shape is not None else "?"), size)


def is_last(x: Any) -> bool:
    return isinstance(x, Value) and x.shape is not None and x.shape.layout == "last"


def _channel_dim(x: Value, dim: int) -> bool:
    rank = len(x.size)
    if is_last(x):
        return dim in (-1, rank - 1)
    return dim in (1, 1 - rank)


# --- modules ----------------------------------------------------------------------------------

def _features(x: Value) -> Value | None:
    """``x`` as a Value whose channels are its last axis: itself in the last layout, an
    N×F vector as it is; None for a channels-first map."""
    if is_last(x) or len(x.size) == 2:
        return x
    return None


def linear(m: nn.Linear, x: Value) -> Emit | Unsupported:
    if len(x.size) == 2 and x.size[0] == BATCH.get():
        return base.MODULE_RULES[nn.Linear](m, x)
    if len(x.size) == 2:  # M rows of a batch N: M/N tokens per sample (RoIs of a box head)
        x = _last(x)
    if not is_last(x):
        return Unsupported(f"Linear on a {len(x.size)}-d channels-first tensor (along its "
                           "last dimension, the map's width)")
    return Emit("linear", (x,), _flag({"c": m.out_features}, "bias", m.bias is not None))


def _flag(attrs: dict, key: str, on: bool, default: bool = True) -> dict:
    if on != default:
        attrs[key] = int(on)
    return attrs


def layer_norm(m: nn.LayerNorm, x: Value) -> Emit | Unsupported:
    y = _features(x)
    if y is None or tuple(m.normalized_shape) != (x.size[-1],):
        return Unsupported(f"LayerNorm over {tuple(m.normalized_shape)} of a "
                           f"{'×'.join(map(str, x.size))} tensor (costmodel's layernorm "
                           "normalizes the features, the last axis, only)")
    attrs = _flag({}, "affine", m.elementwise_affine)
    if m.elementwise_affine:
        _flag(attrs, "bias", m.bias is not None)
    return Emit("layernorm", (y,), attrs)


def group_norm(m: nn.GroupNorm, x: Value) -> Emit | Unsupported:
    if is_last(x):
        return Unsupported("GroupNorm of a channels-last tensor")
    return Emit("groupnorm", (x,), _flag({"g": m.num_groups}, "affine", m.affine))


def rms_norm(m: nn.RMSNorm, x: Value) -> Emit | Unsupported:
    y = _features(x)
    if y is None or tuple(m.normalized_shape) != (x.size[-1],):
        return Unsupported(f"RMSNorm over {tuple(m.normalized_shape)}")
    return Emit("rmsnorm", (y,), _flag({}, "affine", m.weight is not None))


def softmax(x: Value, dim: Any = None, *_: Any, **__: Any) -> Emit | Unsupported:
    if not isinstance(x, Value) or x.shape is None:
        return Unsupported("softmax of a non-tensor")
    if dim is None or not _channel_dim(x, dim):
        if dim in (-1, len(x.size) - 1):  # the last axis of a tensor read channels first
            return Emit("softmax", (_last(x),))
        return Unsupported(f"softmax over dimension {dim}")
    return Emit("softmax", (x,))


def self_attention(m: nn.MultiheadAttention, x: Value) -> Emit | Unsupported:
    if not m.batch_first or not m._qkv_same_embed_dim:
        return Unsupported("MultiheadAttention with batch_first=False or kdim/vdim of its "
                           "own (costmodel reads self-attention of N×L×D tokens)")
    if not is_last(x):
        x = _last(x)
    return Emit("mhsa", (x,), _flag({"heads": m.num_heads}, "bias", m.in_proj_bias is not None))


def conv_transpose(m: nn.modules.conv._ConvTransposeNd, x: Value) -> Emit | Unsupported:
    rank = x.shape.rank
    if len(m.kernel_size) != rank or isinstance(m.padding, str):
        return Unsupported("a transposed convolution of another rank or string padding")
    try:
        values = {key: base._axes(getattr(m, name), rank, name) for key, name in
                  (("k", "kernel_size"), ("s", "stride"), ("p", "padding"),
                   ("op", "output_padding"), ("d", "dilation"))}
    except base._NotPerAxis as exc:
        return Unsupported(str(exc))
    defaults = {"s": 1, "p": 0, "op": 0, "d": 1}
    attrs = {"c": m.out_channels, **{k: v for k, v in values.items() if defaults.get(k) != v}}
    if m.groups != 1:
        attrs["g"] = m.groups
    if m.bias is not None:
        attrs["bias"] = 1
    return Emit("convtranspose", (x,), attrs)


def upsample(x: Value, scale: Any, size: Any, mode: str, align: Any) -> Emit | Unsupported:
    if x.shape is None or is_last(x):
        return Unsupported("upsampling of a channels-last tensor")
    if scale is None and size is not None:
        sizes = size if isinstance(size, (tuple, list)) else [size] * x.shape.rank
        factors = [int(o) // int(i) if int(o) % int(i) == 0 else None
                   for o, i in zip(sizes, x.shape.sizes)]
        if None in factors:
            return Unsupported(f"upsampling to {tuple(sizes)}, not a whole factor")
        scale = tuple(factors)
    try:
        s = base._axes(scale if isinstance(scale, (tuple, list)) else int(scale),
                       x.shape.rank, "scale_factor")
    except (base._NotPerAxis, TypeError, ValueError) as exc:
        return Unsupported(f"upsampling by {scale}: {exc}")
    if mode == "nearest":
        return Emit("upsample_nearest", (x,), {} if s == 2 else {"s": s})
    if mode == "bilinear":
        attrs = {} if s == 2 else {"s": s}
        return Emit("upsample_bilinear", (x,), _flag(attrs, "align", bool(align), False))
    return Unsupported(f"{mode} upsampling")


def _upsample_module(m: nn.Upsample, x: Value):
    return upsample(x, m.scale_factor, m.size, m.mode, m.align_corners)


def _interpolate(x: Value, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: Any = None, *_: Any, **__: Any):
    return upsample(x, scale_factor, size, mode, align_corners)


def _own(op: str, attrs) -> Any:
    """A rule for a module of costmodel's own (core/torch_modern.py) computing ``op``."""
    def rule(m: nn.Module, x: Value) -> Emit:
        return Emit(op, (x,), attrs(m))
    return rule


def _mqa_attrs(m) -> dict:
    attrs = {"heads": m.heads, "key_dim": m.key_dim, "value_dim": m.value_dim}
    if m.kv_stride != 1:
        attrs.update(kv_stride=m.kv_stride, k=m.k)
    out = m.output.proj.out_channels
    if out != m.query.proj.in_channels:
        attrs["c"] = out
    return attrs


def _window_attrs(m) -> dict:
    return {"k": m.k, **({"grid": 1} if m.grid else {})}


def _unwindow_attrs(m) -> dict:
    return {"size": m.h if m.h == m.w else (m.h, m.w), **({"grid": 1} if m.grid else {})}


OWN_MODULES = {
    torch_modern.WindowPartition: _own("window", _window_attrs),
    torch_modern.WindowMerge: _own("unwindow", _unwindow_attrs),
    torch_modern.SelectTokens: _own("select", lambda m: {} if m.n == 1 else {"tokens": m.n}),
    torch_modern.MultiQueryAttention2d: _own("mqa", _mqa_attrs),
    torch_modern.Parameters: lambda m, x: Emit("parameter", (x,),
                                               {"elements": m.values.numel()},
                                               call="nn.Parameter"),
    torch_modern.SelfAttention: lambda m, x: replace(self_attention(m.attention, x),
                                                     call="nn.MultiheadAttention")
    if isinstance(self_attention(m.attention, x), Emit) else self_attention(m.attention, x),
}

MODULE_RULES = {
    nn.Linear: linear,
    nn.LayerNorm: layer_norm,
    nn.GroupNorm: group_norm,
    nn.RMSNorm: rms_norm,
    nn.Softmax: lambda m, x: softmax(x, m.dim),
    nn.MultiheadAttention: self_attention,
    **{kind: conv_transpose for kind in (nn.ConvTranspose1d, nn.ConvTranspose2d,
                                         nn.ConvTranspose3d)},
    **{kind: _upsample_module for kind in (nn.Upsample, nn.UpsamplingNearest2d,
                                           nn.UpsamplingBilinear2d)},
    nn.PixelShuffle: lambda m, x: Emit("pixelshuffle", (x,), {"r": m.upscale_factor}),
    **OWN_MODULES,
}


def is_own(module: nn.Module) -> bool:
    """A module of costmodel's own that computes one op: read whole, never traced into."""
    return type(module) in OWN_MODULES


# --- functions and methods -------------------------------------------------------------------

def _f_layer_norm(x: Value, normalized_shape: Any, weight: Any = None, bias: Any = None,
                  *_: Any, **__: Any) -> Emit | Unsupported:
    y = _features(x) if isinstance(x, Value) else None
    if y is None or tuple(normalized_shape) != (x.size[-1],):
        return Unsupported(f"layer_norm over {tuple(normalized_shape)}")
    params = tuple(p.name for p in (weight, bias) if isinstance(p, Param))
    attrs = _flag({}, "affine", weight is not None)
    if weight is not None:
        _flag(attrs, "bias", bias is not None)
    return Emit("layernorm", (y,), attrs, params=params)


def _f_linear(x: Value, weight: Any, bias: Any = None) -> Emit | Unsupported:
    if not isinstance(weight, Param) or len(weight.size) != 2:
        return Unsupported("linear with a computed weight")
    y = x if is_last(x) else _last(x) if len(x.size) >= 2 else None
    if y is None or y.shape is None:
        return Unsupported("linear of this tensor")
    attrs = _flag({"c": weight.size[0]}, "bias", bias is not None)
    return Emit("linear", (y,), attrs,
                params=tuple(p.name for p in (weight, bias) if isinstance(p, Param)))


def _matmul(a: Any, b: Any, *_: Any, **__: Any) -> Emit | Unsupported:
    if isinstance(b, Param) and isinstance(a, Value):
        return _f_linear(a, Param(b.name, tuple(reversed(b.size))))  # x @ W: W is K×N
    if not (isinstance(a, Value) and isinstance(b, Value)) or len(a.size) < 2 \
            or len(b.size) < 2:
        return Unsupported("matmul of other than two computed tensors of rank 2 or more")
    left, right = _last(a), _last(b)
    if left.shape is None or right.shape is None:
        return Unsupported("matmul of tensors whose batch axis is not per sample")
    return Emit("matmul", (left, right))


def _einsum(equation: str, *operands: Any) -> Emit | Unsupported:
    """A two-operand einsum as a matmul: its letters grouped as batch (in both operands and
    the output), K (both operands, summed), M (the first and the output) and N (the second
    and the output)."""
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = tuple(operands[0])
    if len(operands) != 2 or not all(isinstance(t, Value) for t in operands) \
            or "->" not in equation or "." in equation:
        return Unsupported("einsum of other than two tensors with an explicit output")
    inputs, out = equation.replace(" ", "").split("->")
    a_letters, b_letters = inputs.split(",")
    a, b = operands
    sizes = {**dict(zip(a_letters, a.size)), **dict(zip(b_letters, b.size))}

    def total(letters) -> int:
        result = 1
        for letter in letters:
            result *= int(sizes[letter])
        return result

    both = set(a_letters) & set(b_letters)
    batch = [c for c in out if c in both]
    k = [c for c in a_letters if c in both and c not in out]
    m = [c for c in a_letters if c not in both and c in out]
    n = [c for c in b_letters if c not in both and c in out]
    if len(batch) + len(k) + len(m) + len(n) != len(set(a_letters) | set(b_letters)):
        return Unsupported(f"einsum {equation}: an index summed within one operand")
    group = total(batch)
    if group % BATCH.get():
        return Unsupported(f"einsum {equation}: its batch axes are not per sample")
    per = group // BATCH.get()
    lead = (per,) if per != 1 else ()
    left = Value(as_last((BATCH.get(), *lead, total(m), total(k)), a.shape.producer), a.size)
    right = Value(as_last((BATCH.get(), *lead, total(k), total(n)), b.shape.producer), b.size)
    return Emit("matmul", (left, right))


def _sdpa(q: Any, k: Any, v: Any, *_: Any, **__: Any) -> Emit | Unsupported:
    if not all(isinstance(t, Value) and len(t.size) >= 3 for t in (q, k, v)):
        return Unsupported("attention of other than three computed tensors")
    values = tuple(_last(t) for t in (q, k, v))
    if any(t.shape is None for t in values):
        return Unsupported("attention over tensors whose batch axis is not per sample")
    return Emit("sdpa", values)


def _mul(a: Any, b: Any) -> Emit | Unsupported:
    x, p = (a, b) if isinstance(b, Param) else (b, a)
    if isinstance(p, Param) and isinstance(x, Value) and x.shape is not None:
        numel = 1
        for side in p.size:
            numel *= side
        if numel == x.shape.c and p.size[-1 if is_last(x) else 0] == numel:
            return Emit("layerscale", (x,), params=(p.name,))
        return Unsupported("multiplies by a parameter that is not one scale per channel")
    x, number = (a, b) if isinstance(a, Value) else (b, a)
    if isinstance(number, (int, float)) and not isinstance(number, bool) \
            and isinstance(x, Value) and x.shape is not None:  # MaxViT's k * d**-0.5
        return Emit("mul", (x,))
    return base.FUNCTION_RULES[operator.mul](a, b)


def _add(a: Any, b: Any) -> Emit | Unsupported:
    x, p = (a, b) if isinstance(b, Param) else (b, a)
    if isinstance(p, Param) and isinstance(x, Value) and x.shape is not None:
        if p.size and p.size[0] == 1 and _numel(p.size) == x.shape.numel == p.elements:
            return Emit("pos_embed", (x,), params=(p.name,))
        if _broadcasts(p.size, x.size):
            # a bias gathered from a table (MaxViT's relative position bias): an add no
            # counter sees; the table is held by a parameter layer, named in a warning
            return Alias(x)
        return Unsupported("adds a parameter of another shape (a broadcast bias)")
    return base.FUNCTION_RULES[operator.add](a, b)


def _broadcasts(small, size) -> bool:
    """Whether a tensor of ``small`` size broadcasts to ``size`` without growing it."""
    if len(small) > len(size):
        return False
    return all(int(s) in (1, int(t)) for s, t in zip(reversed(small), reversed(size)))


def _numel(size) -> int:
    total = 1
    for side in size:
        total *= int(side)
    return total


def _cat(tensors: Any, dim: int = 0, **_: Any):
    tensors = list(tensors)
    params = [t for t in tensors if isinstance(t, Param)]
    values = [t for t in tensors if isinstance(t, Value)]
    if params and len(params) == 1 and len(values) == 1 and tensors[0] is params[0] \
            and is_last(values[0]) and values[0].shape.rank == 1 and dim in (1, -2):
        return Emit("cls_token", (values[0],), {} if params[0].size[-2] == 1 else
                    {"tokens": params[0].size[-2]}, params=(params[0].name,))
    if values and len(values) == len(tensors) and all(map(is_last, values)) \
            and dim in (-1, len(values[0].size) - 1):
        return Emit("concat", tuple(values))  # along the features (Swin's patch merging)
    return base.FUNCTION_RULES[torch.cat](tensors, dim)


def _getitem(x: Any, index: Any) -> Any:
    if isinstance(x, Returned):
        item = x.items[index] if isinstance(index, int) and index < len(x.items) else None
        return Alias(item) if isinstance(item, Value) else Unsupported("a module's other output")
    if is_last(x) and isinstance(index, tuple) and len(index) == 2 \
            and index[0] == slice(None):
        if index[1] == 0:
            return Emit("select", (x,))
        if isinstance(index[1], slice) and index[1].start in (None, 0) \
                and index[1].step in (None, 1) and index[1].stop:
            return Emit("select", (x,), {"tokens": index[1].stop})
    return base.FUNCTION_RULES[operator.getitem](x, index)


def _chunk(x: Any, chunks: int, dim: int = 0, **_: Any) -> Pieces | Unsupported:
    """Chunks of a token tensor's features (MaxViT's q, k, v out of one qkv Linear)."""
    if is_last(x) and isinstance(chunks, int) and chunks > 0 \
            and dim in (-1, len(x.size) - 1):
        return Pieces(x, base.chunk_widths(int(x.size[-1]), chunks))
    return base.FUNCTION_RULES[torch.chunk](x, chunks, dim)


def _same_size(x: Any, *_: Any, **__: Any) -> Alias | Unsupported:
    """torch.roll (Swin's cyclic shift), contiguous, a no-op pad: the same values moved."""
    return Alias(x) if isinstance(x, Value) else Unsupported("of a non-tensor")


def _pad(x: Any, pad: Any, *_: Any, **__: Any) -> Alias | Unsupported:
    if isinstance(x, Value) and not any(pad):
        return Alias(x)
    return Unsupported(f"padding by {tuple(pad)}")


FUNCTION_RULES = {
    F.layer_norm: _f_layer_norm,
    F.linear: _f_linear,
    F.softmax: softmax, torch.softmax: softmax,
    torch.matmul: _matmul, operator.matmul: _matmul, torch.bmm: _matmul,
    torch.einsum: _einsum,
    F.scaled_dot_product_attention: _sdpa,
    F.interpolate: _interpolate,
    F.pixel_shuffle: lambda x, r: Emit("pixelshuffle", (x,), {"r": r}),
    operator.mul: _mul, operator.imul: _mul, torch.mul: _mul,
    operator.add: _add, operator.iadd: _add, torch.add: _add,
    torch.cat: _cat, torch.concat: _cat,
    operator.getitem: _getitem,
    torch.roll: _same_size,
    F.pad: _pad,
    torch.chunk: _chunk,
}

METHOD_RULES = {
    "softmax": softmax,
    "matmul": _matmul, "bmm": _matmul,
    "mul": _mul, "mul_": _mul, "add": _add, "add_": _add,
    "roll": _same_size,
    "chunk": _chunk,
}

#: Methods and functions that view or move a tensor's values, never compute: on a Param
#: they give the Param, on a last-layout Value a Value read again from the output's size.
MOVES = ("view", "reshape", "permute", "transpose", "expand", "contiguous", "unsqueeze",
         "squeeze", "flatten", "clone", "to", "getitem", "expand_as", "roll", "swapaxes",
         "swapdims")


def reshape(x: Value, out_size: tuple[int, ...], how: str, args: tuple):
    """``view``/``reshape``/``transpose``/``permute``/``flatten`` of a feature map: a move
    between layouts that is a layer of its own (channels_last, channels_first,
    merge_positions), a free view of a last-layout tensor, else :func:`torch_rules.reshape`
    (a flatten for a Linear, a channel shuffle's steps)."""
    rank = len(x.size)
    dims = tuple(a % rank for a in args) if args and all(isinstance(a, int) for a in args) \
        else ()
    if how == "transpose" and len(dims) == 2:
        order = list(range(rank))
        order[dims[0]], order[dims[1]] = order[dims[1]], order[dims[0]]
        dims = tuple(order)
    permute = how in ("permute", "transpose") and len(dims) == rank
    step = partition_step(x, out_size, how, dims)
    if step is not None:  # a window partition written as views (torch_rules_partition)
        return step
    if is_last(x):
        if permute and rank >= 3 and dims == (0, rank - 1, *range(1, rank - 1)) \
                and x.shape.rank == rank - 2:
            return Emit("channels_first", (x,))
        return Alias(_last(x, out_size))
    if permute and rank >= 3 and dims == (0, *range(2, rank), 1):
        return Emit("channels_last", (x,))
    if how in ("view", "reshape", "flatten") and rank >= 4 and len(out_size) == 3 \
            and tuple(out_size[:2]) == tuple(x.size[:2]) and not x.layout:
        return Emit("merge_positions", (x,))
    return base.reshape(x, out_size, how, args)
