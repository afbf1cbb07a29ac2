"""The bounded evaluator of small constant tensors of several axes (costmodel/frontends/
onnx_tensors.py), on single ONNX nodes: each op against numpy's reading of ONNX's rule, and
the bounds that keep a file's numbers from making a large array or a huge integer. (No
onnx needed: the evaluator reads a node's op type and its attributes through a function.)"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from costmodel import limits
from costmodel.frontends import onnx_consts, onnx_tensors


def run(op, inputs, dims, **attrs):
    node = SimpleNamespace(op_type=op)  # the evaluator reads the op type; attributes by attr
    return onnx_consts.evaluate(node, inputs, lambda key, default: attrs.get(key, default),
                                None, dims)


TABLE = np.arange(8).reshape(4, 2)


def test_a_backwards_slice_and_a_transpose_of_a_table():
    # Swin's pads: the 4×2 table of (begin, end) pairs reversed along its first axis, then
    # transposed (torch's F.pad order to ONNX's)
    flat, dims = TABLE.reshape(-1).tolist(), [4, 2]
    backwards = run("Slice", [flat, [-1], [-(2 ** 63) + 1], [0], [-1]], [dims] + [[1]] * 4)
    assert backwards == TABLE[::-1].reshape(-1).tolist()
    assert run("Transpose", [flat], [dims], perm=[1, 0]) == TABLE.T.reshape(-1).tolist()
    assert run("Slice", [flat, [5], [-9], [0], [-2]], [dims, [1], [1], [1], [1]]) == \
        TABLE[3::-2].reshape(-1).tolist()


def test_gather_concat_expand_where_and_scatter_follow_their_axes():
    flat, dims = TABLE.reshape(-1).tolist(), [4, 2]
    assert run("Gather", [flat, [1, 0, 1]], [dims, [3]], axis=1) == \
        TABLE[:, [1, 0, 1]].reshape(-1).tolist()
    assert run("Concat", [flat, flat], [dims, dims], axis=1) == \
        np.concatenate([TABLE, TABLE], 1).reshape(-1).tolist()
    assert run("Expand", [[1, 2], [3, 1]], [[2], [2]]) == [1, 2] * 3
    assert run("Where", [[1, 0], [5], [7, 8]], [[2], [1], [2]]) == [5, 8]
    assert run("Equal", [[1, 2, 3], [2]], [[3], []]) == [0, 1, 0]
    assert run("ScatterND", [[0] * 6, [1, 0], [7, 9]], [[2, 3], [2, 1], [2]]) is None
    assert run("ScatterND", [[0] * 6, [1], [7, 8, 9]], [[2, 3], [1, 1], [1, 3]]) == \
        [0, 0, 0, 7, 8, 9]
    assert run("Range", [[2], [9], [3]], [[1]] * 3) == [2, 5, 8]
    assert run("Cast", [[2.7, -2.7]], [[2]], to=7)  # INT64 == [2, -2]


def test_no_result_beyond_the_bounds_is_made():
    most = limits.MAX_ONNX_CONSTANT_VALUES
    assert run("Expand", [[1], [most + 1]], [[1], [1]]) is None  # before broadcast_to
    assert run("Range", [[0], [10 ** 20], [1]], [[1]] * 3) is None
    assert run("Pow", [[10], [10 ** 6]], [[1], [1]]) is None  # before the power
    assert run("Pow", [[3], [2]], [[1], [1]]) == [9]
    assert run("Div", [[1], [0]], [[1], [1]]) is None
    assert run("Slice", [[1, 2], [0], [2], [0], [0]], [[2], [1], [1], [1], [1]]) is None
    # a value whose dims do not match its numbers is not read along axes
    assert run("Transpose", [[1, 2, 3]], [[2, 2]], perm=[1, 0]) is None
    assert onnx_tensors.broadcast([[2, 3], [4, 3]]) is None


@pytest.mark.parametrize("start,end,step", [(0, 8, 1), (-1, -9, -1), (6, 1, -2), (9, -20, -3),
                                            (1, 1, -1), (-100, 100, 2), (-100, -200, -1)])
def test_slice_dims_match_numpy_both_ways(start, end, step):
    values = list(range(8))
    expected = len(np.arange(8)[slice(*_numpy_bounds(start, end, step, 8))])
    assert onnx_consts.slice_dims([8], [start], [end], None, [step]) == [expected]
    assert run("Slice", [values, [start], [end], [0], [step]], [[8], [1], [1], [1], [1]]) == \
        np.arange(8)[slice(*_numpy_bounds(start, end, step, 8))].tolist()


def _numpy_bounds(start, end, step, size):
    """ONNX's clamping of Slice bounds as a Python slice's (None: before the first element)."""
    start, end = (b + size if b < 0 else b for b in (start, end))
    if step > 0:
        return max(0, min(size, start)), max(0, min(size, end)), step
    end = max(-1, min(size - 1, end))
    return max(0, min(size - 1, start)), (end if end >= 0 else None), step
