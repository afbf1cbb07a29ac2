"""The values of the small integer tensors exporters compute shapes with.

An export with dynamic axes computes a Reshape's target or a Slice's bounds in the graph:
``Shape(x) → Gather → Div → Unsqueeze → Concat``. Once the input size is fixed those are
numbers; ONNX's data propagation follows only some of these ops, so the few that shape code
uses are evaluated here, on flat lists of Python numbers. Anything else stays unknown (None),
and the node that needed it is listed as not counted.

The values come from the file, so every step is bounded: a list holds at most
:data:`~costmodel.limits.MAX_ONNX_CONSTANT_VALUES` numbers and an integer at most
:data:`~costmodel.limits.MAX_ONNX_CONSTANT_DIGITS` digits (a chain of Muls would otherwise
square a number into millions of digits); a result beyond them, an infinity or a NaN is
unknown, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import limits
from . import onnx_tensors

Value = list | None
_LARGEST = 10 ** limits.MAX_ONNX_CONSTANT_DIGITS


def bounded(values) -> Value:
    """``values`` if it is a list of at most MAX_ONNX_CONSTANT_VALUES finite numbers, each
    integer below 10**MAX_ONNX_CONSTANT_DIGITS in magnitude (bools as 0 and 1); else None."""
    if not isinstance(values, (list, tuple)) or len(values) > limits.MAX_ONNX_CONSTANT_VALUES:
        return None
    out = []
    for value in values:
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, int):
            if abs(value) >= _LARGEST:
                return None
        elif isinstance(value, float):
            if not math.isfinite(value) or abs(value) >= _LARGEST:
                return None
        else:
            return None
        out.append(value)
    return out


def _binary(op: Callable[[Any, Any], Any]):
    def run(a: list, b: list) -> Value:
        if len(a) != len(b) and 1 not in (len(a), len(b)):
            return None
        n = max(len(a), len(b))
        return [op(a[i if len(a) > 1 else 0], b[i if len(b) > 1 else 0]) for i in range(n)]
    return run


def _div(a, b):
    if isinstance(a, int) and isinstance(b, int):  # ONNX integer Div truncates toward zero
        return (abs(a) // abs(b)) * (1 if (a < 0) == (b < 0) else -1) if b else None
    return a / b if b else None


_ARITHMETIC = {"Add": _binary(lambda a, b: a + b), "Sub": _binary(lambda a, b: a - b),
               "Mul": _binary(lambda a, b: a * b), "Div": _binary(_div)}


def evaluate(node, inputs: list[Value], attr: Callable[[str, Any], Any],
             feature_dims: list | None, input_dims: list | None = None) -> Value:
    """The value of ``node``'s first output from its inputs' values (None where unknown).
    ``feature_dims`` are the dims of its first input when that is a feature map (for Shape);
    ``input_dims`` the dims of each input, where known: when every known value's are, the ops
    :mod:`.onnx_tensors` follows are evaluated on their axes, not as flat lists.
    Inputs and result are checked by :func:`bounded`."""
    inputs = [None if value is None else bounded(value) for value in inputs]
    try:
        if node.op_type in onnx_tensors.FOLLOWED and input_dims is not None and all(
                value is None or dims is not None for value, dims in zip(inputs, input_dims)):
            return bounded(onnx_tensors.evaluate(node, inputs, input_dims, attr))
        return bounded(_evaluate(node, inputs, attr, feature_dims))
    except (ArithmeticError, ValueError, TypeError, IndexError):
        return None  # an infinity, a NaN, a bound exceeded: unknown


def _evaluate(node, inputs: list[Value], attr: Callable[[str, Any], Any],
              feature_dims: list | None) -> Value:
    op = node.op_type
    if op == "Shape":
        if feature_dims is None or not all(isinstance(d, int) for d in feature_dims):
            return None
        start, end = attr("start", 0), attr("end", None)
        return list(feature_dims[start:end])
    if op in ("Identity", "Cast", "CastLike", "Unsqueeze", "Squeeze", "Flatten", "Reshape"):
        return inputs[0] if inputs else None  # flat lists: a reshape keeps the values
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
        if sum(len(value) for value in inputs) > limits.MAX_ONNX_CONSTANT_VALUES:
            return None
        return [v for value in inputs for v in value]
    if op == "Mod" and len(inputs) == 2 and inputs[1] is not None and not attr("fmod", 0):
        result = _binary(lambda a, b: a % b if b else None)(inputs[0], inputs[1])
        return None if result is None or None in result else result
    if op == "Equal" and len(inputs) == 2 and inputs[1] is not None:
        return _binary(lambda a, b: int(a == b))(inputs[0], inputs[1])
    if op == "Where" and len(inputs) == 3 and None not in inputs:
        n = max(map(len, inputs))
        if any(len(value) not in (1, n) for value in inputs):
            return None
        pick = [value if len(value) == n else value * n for value in inputs]
        return [a if flag else b for flag, a, b in zip(*pick)]
    if op == "ConstantOfShape":  # the value attribute is a one-element tensor (default 0)
        count = math.prod(int(v) for v in inputs[0])
        if not 0 <= count <= limits.MAX_ONNX_CONSTANT_VALUES:
            return None
        fill = attr("value", None)
        fill = 0 if fill is None else _one_number(fill)
        return None if fill is None else [fill] * count
    if op == "Slice" and len(inputs) >= 3 and inputs[1] is not None and inputs[2] is not None:
        steps = inputs[4] if len(inputs) > 4 else None
        axes = inputs[3] if len(inputs) > 3 else None
        if axes is not None and [int(a) for a in axes] not in ([0], [-1]):
            return None  # a flat list is one axis
        dims = slice_dims([len(inputs[0])], inputs[1][:1], inputs[2][:1], None,
                          steps[:1] if steps else None)
        if dims is None or (steps and steps[0] < 0):  # backwards: onnx_tensors reads it
            return None
        start, step = int(inputs[1][0]), int(steps[0]) if steps else 1
        start = max(0, min(len(inputs[0]), start + len(inputs[0]) if start < 0 else start))
        return inputs[0][start:start + dims[0] * step:step]
    if op == "Floor" or op == "Ceil":
        rounding = math.floor if op == "Floor" else math.ceil
        return [rounding(v) for v in inputs[0]]
    return None


def _one_number(tensor) -> Any:
    """The number a one-element ONNX tensor holds (ConstantOfShape's value), or None."""
    from onnx import numpy_helper

    try:
        flat = numpy_helper.to_array(tensor).reshape(-1).tolist()
    except (ValueError, TypeError, AttributeError):
        return None
    return flat[0] if len(flat) == 1 else None


def slice_dims(dims: list[int], starts: list, ends: list, axes: list | None,
               steps: list | None) -> list[int] | None:
    """The output dims of ONNX Slice on a tensor of ``dims``; None where a bound is not a
    whole number or a step is 0."""
    parts = [bounded(p) if p is not None else None for p in (starts, ends, axes, steps)]
    if parts[0] is None or parts[1] is None or any(
            p is not None and not all(float(v).is_integer() for v in p) for p in parts):
        return None
    starts, ends, axes, steps = ([int(v) for v in p] if p is not None else None for p in parts)
    out = list(dims)
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps if steps is not None else [1] * len(starts)
    for start, end, axis, step in zip(starts, ends, axes, steps):
        axis = int(axis) % len(dims)
        size = dims[axis]
        if step == 0:
            return None
        start, end = (b + size if b < 0 else b for b in (start, end))
        if step > 0:
            start, end = max(0, min(size, start)), max(0, min(size, end))
            out[axis] = max(0, -(-(end - start) // step))
        else:  # backwards: ONNX clamps the start to [0, size - 1], the end to [-1, size - 1]
            start, end = max(0, min(size - 1, start)), max(-1, min(size - 1, end))
            out[axis] = max(0, -(-(start - end) // -step))
    return out


def reshape_dims(dims: list[int], target: list, allow_zero: bool) -> list[int] | None:
    """The output dims of ONNX Reshape of a tensor of ``dims`` to ``target`` (0 copies the
    input's dim unless ``allow_zero``; one -1 takes the rest)."""
    target = bounded(target)
    if not target or len(target) > 8 or not all(float(t).is_integer() for t in target):
        return None  # a feature map has at most 5 dims (the middle of a shuffle)
    out = [dims[i] if t == 0 and not allow_zero and i < len(dims) else int(t)
           for i, t in enumerate(target)]
    total = math.prod(dims)
    if out.count(-1) == 1:
        known = math.prod(d for d in out if d != -1)
        if not known or total % known:
            return None
        out[out.index(-1)] = total // known
    return out if math.prod(out) == total and min(out) >= 0 else None
