"""The dims of tensors ONNX shape inference leaves unknown, for the data-movement ops the
newer networks' exports are full of.

``torch.onnx.export`` writes ``nn.MultiheadAttention``'s split of q, k and v as Reshape,
Unsqueeze, Transpose, Squeeze and Gather of a target computed in the graph, and ViT's class
token as an Expand to a computed shape: shape inference (even with data propagation) gives
up there, and every tensor after it would be of unknown size. Once the input size is fixed
these are plain numbers: each output's dims follow from its inputs' dims and the small
constants :mod:`.onnx_consts` evaluates. Only ops that move data (or broadcast
element-wise) are followed; anything else stays unknown (None).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import onnx_consts

Dims = list[int]

#: Ops whose output has the dims of their first input.
SAME = frozenset({"Identity", "Cast", "Erf", "Gelu", "Softmax", "LayerNormalization", "Relu",
                  "Sigmoid", "Tanh", "Sqrt", "Neg", "Exp", "Dropout", "HardSwish", "Clip",
                  "Not"})
#: Element-wise ops whose inputs broadcast (numpy's rule).
BROADCAST = frozenset({"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Where", "Max", "Min"})


def broadcast(shapes: list[Dims]) -> Dims | None:
    """numpy's broadcast of several dims (aligned on the right; 1 stretches)."""
    rank = max(map(len, shapes))
    out = []
    for axis in range(rank):
        sizes = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0}
        sizes.discard(1)
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return out


def infer(node, dims: Callable[[str], Dims | None], value: Callable[[str], Any],
          attr: Callable[[str, Any], Any]) -> Dims | None:
    """The dims of ``node``'s first output from its inputs' ``dims`` and constant
    ``value`` s, or None."""
    op, names = node.op_type, list(node.input)
    given = [dims(n) if n else None for n in names]
    first = given[0] if given else None
    if op in SAME:
        return first
    if op in BROADCAST:
        return None if None in given else broadcast(given)
    if first is None:
        return None
    if op == "Reshape" and len(names) > 1:
        target = value(names[1])
        return None if target is None else onnx_consts.reshape_dims(
            first, target, bool(attr("allowzero", 0)))
    if op in ("Unsqueeze", "Squeeze"):
        axes = value(names[1]) if len(names) > 1 and names[1] else attr("axes", None)
        return _squeezed(first, axes, op == "Unsqueeze")
    if op == "Transpose":
        perm = list(attr("perm", None) or range(len(first) - 1, -1, -1))
        return [first[p] for p in perm] if sorted(perm) == list(range(len(first))) else None
    if op == "Gather" and len(names) > 1 and given[1] is not None:
        axis = int(attr("axis", 0)) % len(first)
        return first[:axis] + given[1] + first[axis + 1:]
    if op == "Expand" and len(names) > 1:
        target = value(names[1])
        return None if target is None else broadcast([first, [int(t) for t in target]])
    if op == "Concat" and None not in given:
        axis = int(attr("axis", 0)) % len(first)
        if any(len(g) != len(first) for g in given):
            return None
        return first[:axis] + [sum(g[axis] for g in given)] + first[axis + 1:]
    if op == "Flatten":
        axis = int(attr("axis", 1)) % (len(first) + 1)
        return [math.prod(first[:axis]), math.prod(first[axis:])]
    if op == "Pad" and len(names) > 1 and names[1]:
        pads = value(names[1])
        if pads is None or len(pads) != 2 * len(first) or (len(names) > 3 and names[3]):
            return None  # (pads along chosen axes: not read)
        out = [d + int(pads[i]) + int(pads[i + len(first)]) for i, d in enumerate(first)]
        return out if min(out) >= 0 else None
    if op == "Slice" and len(names) >= 3:
        parts = [value(n) if n else None for n in (names[1:] + [""] * 4)[:4]]
        if any(p is None and n for p, n in zip(parts, names[1:5])):
            return None
        return onnx_consts.slice_dims(first, *parts)
    if op == "ConstantOfShape":
        target = value(names[0])
        return None if target is None else [int(t) for t in target]
    if op == "Range" and len(names) == 3:
        bounds = [value(n) for n in names]
        if None in bounds or any(len(b) != 1 for b in bounds) or not bounds[2][0]:
            return None
        (start,), (limit,), (delta,) = bounds
        return [max(math.ceil((limit - start) / delta), 0)]
    if op == "ScatterND":
        return first
    if op == "MatMul" and given[1] is not None and min(len(first), len(given[1])) >= 2:
        batch = broadcast([first[:-2], given[1][:-2]])
        return None if batch is None else [*batch, first[-2], given[1][-1]]
    return None


def _squeezed(dims: Dims, axes, insert: bool) -> Dims | None:
    if axes is None:
        return None if insert else [d for d in dims if d != 1]
    out = list(dims)
    rank = len(dims) + (len(axes) if insert else 0)
    for axis in sorted(int(a) % rank for a in axes):
        if insert:
            out.insert(axis, 1)
        elif out[axis] != 1:
            return None
    if not insert:
        drop = {int(a) % rank for a in axes}
        out = [d for i, d in enumerate(out) if i not in drop]
    return out
