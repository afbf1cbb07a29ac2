"""The values of the small integer tensors exporters compute shapes with.

An export with dynamic axes computes a Reshape's target or a Slice's bounds in the graph:
``Shape(x) → Gather → Div → Unsqueeze → Concat``. Once the input size is fixed those are
numbers; ONNX's data propagation follows only some of these ops, so the few that shape code
uses are evaluated here, on flat lists of Python numbers. Anything else stays unknown (None),
and the node that needed it is listed as not counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Value = list | None


def _binary(op: Callable[[Any, Any], Any]):
    def run(a: list, b: list) -> Value:
        if len(a) != len(b) and 1 not in (len(a), len(b)):
            return None
        n = max(len(a), len(b))
        return [op(a[i if len(a) > 1 else 0], b[i if len(b) > 1 else 0]) for i in range(n)]
    return run


def _div(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return int(a / b) if b else None  # ONNX integer Div truncates toward zero
    return a / b if b else None


_ARITHMETIC = {"Add": _binary(lambda a, b: a + b), "Sub": _binary(lambda a, b: a - b),
               "Mul": _binary(lambda a, b: a * b), "Div": _binary(_div)}


def evaluate(node, inputs: list[Value], attr: Callable[[str, Any], Any],
             feature_dims: list | None) -> Value:
    """The value of ``node``'s first output from its inputs' values (None where unknown).
    ``feature_dims`` are the dims of its first input when that is a feature map (for Shape)."""
    op = node.op_type
    if op == "Shape":
        if feature_dims is None or not all(isinstance(d, int) for d in feature_dims):
            return None
        start, end = attr("start", 0), attr("end", None)
        return list(feature_dims[start:end])
    if op in ("Identity", "Cast", "CastLike", "Unsqueeze", "Squeeze", "Flatten"):
        return inputs[0]
    if any(value is None for value in inputs[:1]):
        return None
    if op in _ARITHMETIC and len(inputs) == 2 and inputs[1] is not None:
        result = _ARITHMETIC[op](inputs[0], inputs[1])
        return None if result is None or None in result else result
    if op == "Gather" and inputs[1] is not None and attr("axis", 0) == 0:
        data = inputs[0]
        try:
            return [data[int(i)] for i in inputs[1]]
        except (IndexError, TypeError):
            return None
    if op == "Concat" and all(value is not None for value in inputs):
        return [v for value in inputs for v in value]
    if op == "Floor" or op == "Ceil":
        rounding = math.floor if op == "Floor" else math.ceil
        return [rounding(v) for v in inputs[0]]
    return None


def slice_dims(dims: list[int], starts: list, ends: list, axes: list | None,
               steps: list | None) -> list[int] | None:
    """The output dims of ONNX Slice on a tensor of ``dims`` (positive steps only)."""
    out = list(dims)
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps if steps is not None else [1] * len(starts)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = int(axis) % len(dims)
        size = dims[axis]
        if step <= 0:
            return None
        start = max(0, min(size, start + size if start < 0 else start))
        end = max(0, min(size, end + size if end < 0 else end))
        out[axis] = max(0, -(-(end - start) // step))
    return out


def reshape_dims(dims: list[int], target: list, allow_zero: bool) -> list[int] | None:
    """The output dims of ONNX Reshape of a tensor of ``dims`` to ``target`` (0 copies the
    input's dim unless ``allow_zero``; one -1 takes the rest)."""
    out = [dims[i] if t == 0 and not allow_zero and i < len(dims) else int(t)
           for i, t in enumerate(target)]
    total = math.prod(dims)
    if out.count(-1) == 1:
        known = math.prod(d for d in out if d != -1)
        if not known or total % known:
            return None
        out[out.index(-1)] = total // known
    return out if math.prod(out) == total and min(out) >= 0 else None
