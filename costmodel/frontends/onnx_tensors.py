"""The values of small constant tensors of several axes, for the shape code exporters write
around windows: torch.onnx's export of Swin pads a map to whole windows with pads computed as
``Concat → Reshape → Slice(step -1) → Transpose → Reshape`` of a 4×2 table, and builds the
shifted-window mask with ``Range``, ``Expand``, ``Equal``, ``Where`` and ``ScatterND``.

A value is a flat list of Python numbers (as :mod:`.onnx_consts` keeps it) read with the dims
the reader knows for it; here it is a numpy array of Python objects (exact integers, no
overflow), one op at a time. Every result's dims are worked out, and its element count checked
against :data:`~costmodel.limits.MAX_ONNX_CONSTANT_VALUES`, *before* any array is made; the
numbers are then checked by ``onnx_consts.bounded`` as every other value is. Anything not
followed here is unknown (None), never an exception: the values are the file's data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import limits

Dims = list[int]

#: ONNX element types read as integers and as floats by Cast (bool as 0 and 1).
_INTEGER_TYPES = frozenset({2, 3, 4, 5, 6, 7, 12, 13})
_FLOAT_TYPES = frozenset({1, 10, 11, 16})
_BOOL = 9


def _fits(dims: Dims | None) -> bool:
    return dims is not None and len(dims) <= 8 and all(isinstance(d, int) and d >= 0
                                                        for d in dims) \
        and math.prod(dims) <= limits.MAX_ONNX_CONSTANT_VALUES


def broadcast(shapes: list[Dims]) -> Dims | None:
    """numpy's broadcast of several dims (aligned on the right; 1 stretches), or None."""
    rank = max(map(len, shapes))
    out = []
    for axis in range(rank):
        sizes = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 0}
        if len(sizes) > 1:
            sizes.discard(1)
        if len(sizes) > 1:
            return None
        out.append(sizes.pop())
    return out


def _array(values: list, dims: Dims):
    import numpy as np

    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array.reshape(dims)


def _div(a, b):
    if isinstance(a, int) and isinstance(b, int):  # ONNX integer Div truncates toward zero
        if not b:
            raise ArithmeticError("division by zero")
        return (abs(a) // abs(b)) * (1 if (a < 0) == (b < 0) else -1)
    return a / b


def _mod(a, b):
    if not b:
        raise ArithmeticError("modulo by zero")
    return a % b


def _pow(a, b):
    # a power of a file's number is bounded before it is computed (10**30 ** 10**30 is not)
    if isinstance(b, int) and b >= 0 and a not in (0, 1, -1) and \
            b * math.log10(abs(a)) >= limits.MAX_ONNX_CONSTANT_DIGITS:
        raise ArithmeticError("power too large")
    if isinstance(b, float) and abs(b) > limits.MAX_ONNX_CONSTANT_DIGITS:
        raise ArithmeticError("power too large")
    result = a ** b
    if isinstance(result, complex):
        raise ArithmeticError("complex power")
    return result


_ELEMENTWISE: dict[str, Callable[[Any, Any], Any]] = {
    "Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
    "Div": _div, "Mod": _mod, "Pow": _pow, "Max": max, "Min": min,
    "Equal": lambda a, b: int(a == b), "Less": lambda a, b: int(a < b),
    "Greater": lambda a, b: int(a > b), "LessOrEqual": lambda a, b: int(a <= b),
    "GreaterOrEqual": lambda a, b: int(a >= b), "And": lambda a, b: int(bool(a) and bool(b)),
    "Or": lambda a, b: int(bool(a) or bool(b)),
}

#: Ops :func:`evaluate` follows.
FOLLOWED = frozenset({*_ELEMENTWISE, "Where", "Not", "Neg", "Transpose", "Slice", "Gather",
                      "Concat", "Expand", "Range", "ScatterND", "Cast"})


def evaluate(node, inputs: list, dims: list[Dims | None],
             attr: Callable[[str, Any], Any]) -> list | None:
    """The flat value of ``node``'s first output from its inputs' flat values and ``dims``, or
    None where an input is unknown, the op is not followed, or the result would be too big.
    The caller checks the result's numbers (``onnx_consts.bounded``)."""
    op = node.op_type
    if op not in FOLLOWED or not inputs or any(
            value is not None and (not _fits(d) or len(value) != math.prod(d))
            for value, d in zip(inputs, dims)):
        return None
    if op == "Range":
        return _range(inputs)
    if inputs[0] is None:
        return None
    if op in _ELEMENTWISE or op == "Where":
        return _elementwise(op, inputs, dims)
    if op in ("Not", "Neg", "Cast"):
        return _unary(op, inputs[0], attr)
    array = _array(inputs[0], dims[0])
    if op == "Transpose":
        perm = list(attr("perm", None) or range(array.ndim - 1, -1, -1))
        if sorted(int(p) for p in perm) != list(range(array.ndim)):
            return None
        return array.transpose([int(p) for p in perm]).reshape(-1).tolist()
    if op == "Slice":
        return _slice(array, inputs[1:])
    if op == "Gather":
        return _gather(array, inputs, dims, int(attr("axis", 0)))
    if op == "Concat":
        return _concat(inputs, dims, int(attr("axis", 0)))
    if op == "Expand":
        return _expand(array, inputs)
    if op == "ScatterND":
        return _scatter(array, inputs, dims, attr("reduction", "none"))
    return None


def _elementwise(op: str, inputs: list, dims: list) -> list | None:
    import numpy as np

    if None in inputs or len(inputs) != (3 if op == "Where" else 2):
        return None
    out = broadcast(dims)
    if not _fits(out):
        return None
    arrays = [np.broadcast_to(_array(v, d), out) for v, d in zip(inputs, dims)]
    if op == "Where":
        picked = [b if flag else c for flag, b, c in
                  zip(*(a.reshape(-1).tolist() for a in arrays))]
        return picked
    run = _ELEMENTWISE[op]
    return [run(a, b) for a, b in zip(arrays[0].reshape(-1).tolist(),
                                      arrays[1].reshape(-1).tolist())]


def _unary(op: str, values: list, attr) -> list | None:
    if op == "Not":
        return [int(not v) for v in values]
    if op == "Neg":
        return [-v for v in values]
    to = attr("to", None)
    if to in _INTEGER_TYPES:
        return [int(v) for v in values]  # truncation toward zero, as numpy's cast does
    if to in _FLOAT_TYPES:
        return [float(v) for v in values]
    if to == _BOOL:
        return [int(bool(v)) for v in values]
    return None


def _whole(values) -> list[int] | None:
    if values is None or not all(float(v).is_integer() for v in values):
        return None
    return [int(v) for v in values]


def _range(inputs: list) -> list | None:
    if len(inputs) != 3 or None in inputs or any(len(v) != 1 for v in inputs):
        return None
    start, limit, delta = (v[0] for v in inputs)
    if not delta:
        return None
    count = max(math.ceil((limit - start) / delta), 0)
    if count > limits.MAX_ONNX_CONSTANT_VALUES:
        return None
    return [start + i * delta for i in range(count)]


def _slice(array, parts: list) -> list | None:
    parts = (parts + [None] * 4)[:4]
    starts, ends, axes, steps = (_whole(p) for p in parts)
    if starts is None or ends is None or len(starts) != len(ends) or \
            (parts[2] is not None and axes is None) or (parts[3] is not None and steps is None):
        return None
    axes = axes if axes is not None else list(range(len(starts)))
    steps = steps if steps is not None else [1] * len(starts)
    if not len(axes) == len(steps) == len(starts):
        return None
    index = [slice(None)] * array.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if not -array.ndim <= axis < array.ndim or step == 0:
            return None
        size = array.shape[axis]
        # ONNX clamps to [0, size] (going backwards the start to [0, size - 1], the end to
        # [-1, size - 1]); Python's slice reads -1 as the last element, so it is None here
        start, end = (b + size if b < 0 else b for b in (start, end))
        if step > 0:
            start, end = max(0, min(size, start)), max(0, min(size, end))
        else:
            start, end = max(0, min(size - 1, start)), max(-1, min(size - 1, end))
        index[axis % array.ndim] = slice(start, end if end >= 0 else None, step)
    return array[tuple(index)].reshape(-1).tolist()


def _gather(array, inputs: list, dims: list, axis: int) -> list | None:
    if len(inputs) != 2 or inputs[1] is None or not -array.ndim <= axis < array.ndim:
        return None
    indices = _whole(inputs[1])
    size = array.shape[axis]
    if indices is None or any(not -size <= i < size for i in indices):
        return None
    picked = array.take([i % size for i in indices], axis=axis)
    shape = list(array.shape)
    shape[axis % array.ndim:axis % array.ndim + 1] = dims[1]
    return picked.reshape(shape).reshape(-1).tolist()


def _concat(inputs: list, dims: list, axis: int) -> list | None:
    import numpy as np

    if None in inputs or any(len(d) != len(dims[0]) for d in dims) or \
            not -len(dims[0]) <= axis < len(dims[0]) or \
            sum(map(len, inputs)) > limits.MAX_ONNX_CONSTANT_VALUES:
        return None
    axis %= len(dims[0])
    if any(d[:axis] + d[axis + 1:] != dims[0][:axis] + dims[0][axis + 1:] for d in dims):
        return None
    return np.concatenate([_array(v, d) for v, d in zip(inputs, dims)], axis=axis) \
        .reshape(-1).tolist()


def _expand(array, inputs: list) -> list | None:
    import numpy as np

    target = _whole(inputs[1]) if len(inputs) == 2 else None
    if target is None or len(target) > 8 or min(target, default=0) < 0:
        return None
    out = broadcast([list(array.shape), target])
    if not _fits(out):
        return None
    return np.broadcast_to(array, out).reshape(-1).tolist()


def _scatter(array, inputs: list, dims: list, reduction) -> list | None:
    if reduction not in ("none", None) or len(inputs) != 3 or None in inputs:
        return None
    indices, updates = _whole(inputs[1]), inputs[2]
    depth = dims[1][-1] if dims[1] else 0
    if indices is None or not 1 <= depth <= array.ndim or \
            dims[2] != dims[1][:-1] + list(array.shape[depth:]):
        return None
    out = array.copy()
    block = math.prod(array.shape[depth:])
    for row in range(len(indices) // depth):
        where = indices[row * depth:(row + 1) * depth]
        if any(not -s <= i < s for i, s in zip(where, array.shape)):
            return None
        out[tuple(i % s for i, s in zip(where, array.shape))] = \
            _array(updates[row * block:(row + 1) * block], list(array.shape[depth:]))
    return out.reshape(-1).tolist()
