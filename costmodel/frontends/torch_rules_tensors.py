"""PyTorch functions and methods → the newer ops: ``F.layer_norm``, ``F.linear``, matmul,
bmm and einsum contractions, scaled-dot-product attention, multiplies and adds by
parameters (layer scale, position embeddings), a class token concatenated, token slices,
chunks, and the views, permutes and reshapes that move a tensor between layouts (free, or a
layer of their own where ``to_torch`` writes one). The module rules are
:mod:`.torch_rules_modern`'s; the values both read are :mod:`.torch_tokens`'.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn.functional as F

from . import torch_rules as base
from .torch_rules import Alias, Emit, Pieces, Unsupported, Value
from .torch_rules_modern import flag, softmax, upsample
from .torch_rules_partition import partition_step
from .torch_tokens import (BATCH, Param, Returned, as_last, broadcasts, features, is_last,
                           last_view, numel)


def _f_layer_norm(x: Value, normalized_shape: Any, weight: Any = None, bias: Any = None,
                  *_: Any, **__: Any) -> Emit | Unsupported:
    y = features(x) if isinstance(x, Value) else None
    if y is None or tuple(normalized_shape) != (x.size[-1],):
        return Unsupported(f"layer_norm over {tuple(normalized_shape)}")
    params = tuple(p.name for p in (weight, bias) if isinstance(p, Param))
    attrs = flag({}, "affine", weight is not None)
    if weight is not None:
        flag(attrs, "bias", bias is not None)
    return Emit("layernorm", (y,), attrs, params=params)


def _f_linear(x: Value, weight: Any, bias: Any = None) -> Emit | Unsupported:
    if not isinstance(weight, Param) or len(weight.size) != 2:
        return Unsupported("linear with a computed weight")
    y = x if is_last(x) else last_view(x) if len(x.size) >= 2 else None
    if y is None or y.shape is None:
        return Unsupported("linear of this tensor")
    attrs = flag({"c": weight.size[0]}, "bias", bias is not None)
    return Emit("linear", (y,), attrs,
                params=tuple(p.name for p in (weight, bias) if isinstance(p, Param)))


def _matmul(a: Any, b: Any, *_: Any, **__: Any) -> Emit | Unsupported:
    if isinstance(b, Param) and isinstance(a, Value):
        return _f_linear(a, Param(b.name, tuple(reversed(b.size))))  # x @ W: W is K×N
    if not (isinstance(a, Value) and isinstance(b, Value)) or len(a.size) < 2 \
            or len(b.size) < 2:
        return Unsupported("matmul of other than two computed tensors of rank 2 or more")
    left, right = last_view(a), last_view(b)
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
    values = tuple(last_view(t) for t in (q, k, v))
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
        if p.size and p.size[0] == 1 and numel(p.size) == x.shape.numel == p.elements:
            return Emit("pos_embed", (x,), params=(p.name,))
        if broadcasts(p.size, x.size):
            # a bias gathered from a table (MaxViT's relative position bias): an add no
            # counter sees; the table is held by a parameter layer, named in a warning
            return Alias(x)
        return Unsupported("adds a parameter of another shape (a broadcast bias)")
    return base.FUNCTION_RULES[operator.add](a, b)


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


def _interpolate(x: Value, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: Any = None, *_: Any, **__: Any):
    return upsample(x, scale_factor, size, mode, align_corners)


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
        return Alias(last_view(x, out_size))
    if permute and rank >= 3 and dims == (0, *range(2, rank), 1):
        return Emit("channels_last", (x,))
    if how in ("view", "reshape", "flatten") and rank >= 4 and len(out_size) == 3 \
            and tuple(out_size[:2]) == tuple(x.size[:2]) and not x.layout:
        return Emit("merge_positions", (x,))
    return base.reshape(x, out_size, how, args)
