"""ONNX nodes to costmodel layers: one handler per ONNX op (``op_Conv``...), each using the
formulas of :mod:`costmodel.core.ops` through ``emit`` (never formulas of its own). A handler
returns True when it counted the node, else the reason it did not (listed in the notes).

The walk that calls them, and the helpers they use (``feature``, ``attr``, ``value``,
``emit``, ``alias``), are in :mod:`.onnx_translate`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sympy import Integer, Rational

from ..core import ops
from ..core.ops import OPS, Shape
from ..errors import CostModelError
from ..safe_io import printable
from . import onnx_consts


def _number(value) -> str:
    """A bound as a note shows it: a short number (never the file's bytes as text)."""
    if value is None:
        return "none"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.6g}" if isinstance(value, float) else printable(value, 24)
    return "(not a number)"


@dataclass(frozen=True)
class Feature:
    shape: Shape


@dataclass(frozen=True)
class Opaque:
    producer: str
    shuffle: tuple | None = None  # ("split" | "transposed", g, the shuffled Shape)


CONST = "const"


class OpHandlers:
    """The per-op handlers, mixed into the translator. An ONNX op type an op's definition
    lists in ``onnx.reads`` (core/ops.py: Relu, Sigmoid, Dropout...) needs no handler here:
    it is read as that op with no attributes (:meth:`__getattr__`)."""

    def __getattr__(self, name: str):
        # The translator looks handlers up as getattr(self, "op_<Type>", None); a type that
        # has no method here is read through the registry, so defining an op is enough.
        if name.startswith("op_"):
            op_type = name[3:]
            for op, definition in OPS.items():
                if op_type in definition.onnx.reads:
                    return lambda node, op=op: self._activation(node, op)
        raise AttributeError(name)

    def _per_axis(self, node, key: str, default: int, rank: int, given=None) -> Any:
        """An ONNX per-axis attribute (kernel_shape, strides, dilations) as costmodel writes
        it: one int where every axis has the same, a tuple per axis otherwise (``k=1x7``),
        or the reason it cannot be read (a str)."""
        values = self.attr(node, key) or ([default] * rank if given is None else given)
        if len(values) != rank:
            return f"{key} of {len(values)} axes on a map of {rank}"
        if len(set(values)) == 1:
            return int(values[0])
        return tuple(int(v) for v in values)

    def _padding(self, node, x: Shape, k: Any, s: Any, d: Any):
        """costmodel's symmetric ``p`` per axis (a half-integer where begin and end pads
        differ: the output size only depends on their sum), or a reason why there is none."""
        rank = x.rank
        ks, ss, ds = (ops.per_axis(v, rank, name) for v, name in ((k, "k"), (s, "s"), (d, "d")))
        auto = self.attr(node, "auto_pad", "NOTSET")
        if auto not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
            return f"auto_pad '{printable(auto, 24)}' is not one of ONNX's values"
        if auto == "VALID":
            return Integer(0)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            totals = [max((-(-int(side) // si) - 1) * si + di * (ki - 1) + 1 - int(side), 0)
                      for side, ki, si, di in zip(x.sizes, ks, ss, ds)]
            if any(si > 1 for si in ss):
                self.same_padding_varies = True
        else:
            pads = self.attr(node, "pads") or [0] * (2 * rank)
            if len(pads) != 2 * rank:
                return f"{len(pads) // 2}-D padding on a map of {rank} axes"
            totals = [pads[axis] + pads[axis + rank] for axis in range(rank)]
        if len(set(totals)) == 1:
            return Rational(totals[0], 2)
        return tuple(Rational(total, 2) for total in totals)

    # --- handlers: return True when counted, else the reason (None: no reason) ------------------

    def op_Conv(self, node):
        x, weight = self.feature(node.input[0]), node.input[1]
        wdims = self.dims.get(weight)
        if x is None or self.state.get(weight) != CONST or not wdims \
                or len(wdims) != 2 + x.rank:
            return "not a convolution with constant weights over the map's axes"
        given = self.attr(node, "kernel_shape")
        if given is not None and list(given) != list(wdims[2:]):
            # shape inference trusts the attribute; the weight is what the file holds
            raise CostModelError(f"{self.path}: node {self.label(node)}: its kernel_shape "
                                 f"{'×'.join(map(str, given))} disagrees with its weight "
                                 f"{printable(weight)} of {'×'.join(map(str, wdims))} "
                                 f"(kernel {'×'.join(map(str, wdims[2:]))}); fix the export")
        k = self._per_axis(node, "kernel_shape", 0, x.rank, wdims[2:])
        s, d = (self._per_axis(node, key, 1, x.rank) for key in ("strides", "dilations"))
        for value in (k, s, d):
            if isinstance(value, str):
                return value
        g = int(self.attr(node, "group", 1))
        if wdims[1] * g != x.c:
            raise CostModelError(f"{self.path}: node {self.label(node)}: its weight "
                                 f"{'×'.join(map(str, wdims))} does not fit {x.c} input "
                                 f"channels in {g} groups")
        p = self._padding(node, x, k, s, d)
        if isinstance(p, str):
            return p
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else ""
        self.emit(node, "conv", [x], dict(c=wdims[0], k=k, s=s, p=p, d=d, g=g,
                                          bias=1 if bias else 0), node.output[0],
                  weights=(weight, bias))
        if bias and self.looks_folded(node):
            self.folded_bn.append(len(self.layers) - 1)
        return True

    def op_Gemm(self, node):
        x, weight = self.feature(node.input[0]), node.input[1]
        wdims = self.dims.get(weight)
        if x is None or self.state.get(weight) != CONST or not wdims or len(wdims) != 2 \
                or self.attr(node, "transA", 0):
            return "not an FC layer with constant weights"
        out, features = (wdims if self.attr(node, "transB", 0) else wdims[::-1])
        if features != x.numel:
            return f"weight {wdims} does not fit {x.numel} input features"
        bias = node.input[2] if len(node.input) > 2 and node.input[2] else ""
        self.emit(node, "fc", [x], dict(c=out, bias=1 if bias else 0), node.output[0],
                  weights=(weight, bias))
        return True

    def op_MatMul(self, node):
        x, weight = self.feature(node.input[0]), node.input[1]
        wdims, xdims = self.dims.get(weight), self.dims.get(node.input[0])
        if x is None or self.state.get(weight) != CONST or not wdims or len(wdims) != 2 \
                or not xdims or len(xdims) != 2 or wdims[0] != x.numel:
            return "not an FC layer: a 2-D input times a constant matrix"
        self.emit(node, "fc", [x], dict(c=wdims[1], bias=0), node.output[0], weights=(weight,))
        self.fc_from_matmul[node.output[0]] = len(self.layers) - 1
        return True

    def op_Add(self, node):
        a, b = (self.feature(n) for n in node.input)
        if a is not None and b is not None:
            if a != b:
                return f"broadcast of {a} and {b}"
            self.emit(node, "add", [a, b], {}, node.output[0])
            return True
        fc_input, other = (node.input if node.input[0] in self.fc_from_matmul
                           else node.input[::-1])
        index = self.fc_from_matmul.get(fc_input)
        if index is None or self.state.get(other) != CONST or self.readers[fc_input] != 1:
            return "adds a constant"
        layer = self.layers[index]
        if self.numel(other) != layer.output.c:
            return "adds a constant"
        with_bias = replace(layer.counts, weights=layer.counts.weights + layer.output.c)
        self.layers[index] = replace(layer, attrs=(("c", layer.output.c), ("bias", Integer(1))),
                                     counts=self._account(with_bias, index, (other,), ()))
        self.folded_bias.append(index)
        return self.alias(node, node.output[0], self.state[fc_input])

    def op_Sum(self, node):
        shapes = [self.feature(n) for n in node.input]
        if len(shapes) < 2 or None in shapes or any(s != shapes[0] for s in shapes):
            return "not a sum of equal feature maps"
        self.emit(node, "add", shapes, {}, node.output[0])
        return True

    def op_Mul(self, node):
        a, b = (self.feature(n) for n in node.input)
        if a is None or b is None:
            return "multiplies by a constant"
        gate = a == b or (a.c == b.c and (all(side == 1 for side in a.sizes)
                                          or all(side == 1 for side in b.sizes)))
        if not gate:
            return f"broadcast of {a} and {b}"
        self.emit(node, "mul", [a, b], {}, node.output[0])
        return True

    def op_Concat(self, node):
        shapes = [self.feature(n) for n in node.input]
        rank = len(self.dims.get(node.output[0]) or [0, 0, 0, 0])
        if None in shapes or self.attr(node, "axis") not in (1, 1 - rank):
            return "not a concatenation of feature maps along channels"
        self.emit(node, "concat", shapes, {}, node.output[0])
        return True

    def op_Split(self, node):
        x = self.feature(node.input[0])
        rank = len(self.dims.get(node.input[0]) or [0, 0, 0, 0])
        if x is None or self.attr(node, "axis", 0) not in (1, 1 - rank):
            return "not a split of channels"
        channels = [(self.dims.get(out) or [None, None])[1] for out in node.output]
        if None in channels:
            return "output sizes unknown"
        for i, (output, c) in enumerate(zip(node.output, channels)):
            self.emit(node, "split", [x], dict(c=c), output, leaf=str(i))
        return True

    def op_Slice(self, node):
        x, dims = self.feature(node.input[0]), self.dims.get(node.output[0])
        if x is not None and not (dims and all(isinstance(d, int) for d in dims)):
            dims = self._slice_dims(node)
        if x is None or not dims or len(dims) != 2 + x.rank or dims[2:] != list(x.sizes):
            return "not a slice of channels"
        if dims[1] == x.c:
            return self.alias(node, node.output[0], self.state[node.input[0]])
        self.emit(node, "split", [x], dict(c=dims[1]), node.output[0])
        return True

    def _slice_dims(self, node) -> list | None:
        given = self.tensor_dims(node.input[0])
        if len(node.input) > 1:  # opset 10+: starts, ends, axes, steps are inputs
            parts = [self.value(n) if n else None for n in (list(node.input[1:]) + [""] * 4)[:4]]
            if parts[0] is None or parts[1] is None or \
                    any(p is None and n for p, n in zip(parts[2:], node.input[3:5])):
                return None
        else:
            parts = [self.attr(node, k) for k in ("starts", "ends", "axes")] + [None]
        if given is None or parts[0] is None:
            return None
        dims = onnx_consts.slice_dims(given, *parts)
        self.dims[node.output[0]] = dims
        return dims

    def op_BatchNormalization(self, node):
        x = self.feature(node.input[0])
        if x is None:
            return None
        self.emit(node, "bn", [x], {}, node.output[0], norm=tuple(node.input[1:3]))
        return True

    def _activation(self, node, op: str):
        x = self.feature(node.input[0])
        if x is None:
            return "not on a feature map"
        self.emit(node, op, [x], {}, node.output[0])
        return True

    def op_Clip(self, node):
        if len(node.input) > 1:  # opset 11+: bounds are inputs
            bounds = [self.value(n) if n else None for n in (list(node.input[1:]) + [""])[:2]]
            if any(b is None and n for b, n in zip(bounds, node.input[1:3])):
                return "bounds computed in the graph"
            low, high = (b[0] if b else None for b in bounds)
        else:
            low, high = self.attr(node, "min"), self.attr(node, "max")
        if low == 0 and high == 6:
            return self._activation(node, "relu6")
        if low == 0 and high is None:
            return self._activation(node, "relu")
        return f"bounds {_number(low)}, {_number(high)}"

    def op_LRN(self, node):
        x = self.feature(node.input[0])
        if x is None:
            return None
        self.emit(node, "lrn", [x], dict(size=int(self.attr(node, "size"))), node.output[0])
        return True

    def op_Identity(self, node):
        return self.alias(node, node.output[0], self.state[node.input[0]])

    def _pool(self, node, op: str):
        x = self.feature(node.input[0])
        if x is None:
            return None
        k = self._per_axis(node, "kernel_shape", 0, x.rank)
        s, d = (self._per_axis(node, key, 1, x.rank) for key in ("strides", "dilations"))
        for value in (k, s, d):
            if isinstance(value, str):
                return value
        if d != 1:
            return "dilated pooling"
        p = self._padding(node, x, k, s, 1)
        if isinstance(p, str):
            return p
        self.emit(node, op, [x], dict(k=k, s=s, p=p, ceil=int(self.attr(node, "ceil_mode", 0))),
                  node.output[0])
        return True

    def op_MaxPool(self, node):
        if len(node.output) > 1 and node.output[1]:
            return "with indices"
        return self._pool(node, "maxpool")

    def op_AveragePool(self, node):
        return self._pool(node, "avgpool")

    def op_ReduceMean(self, node):
        x, rank = self.feature(node.input[0]), len(self.dims.get(node.input[0]) or [])
        axes = self.attr(node, "axes") or (self.value(node.input[1]) if len(node.input) > 1
                                           and node.input[1] else None)
        if x is None or rank < 3 or not axes or {a % rank for a in axes} != set(range(2, rank)):
            return "not a mean over every spatial axis"
        return self._activation(node, "gap")

    def op_Flatten(self, node):
        x, rank = self.feature(node.input[0]), len(self.dims.get(node.input[0]) or [0] * 4)
        if x is None or self.attr(node, "axis", 1) not in (1, 1 - rank):
            return "not a flatten of a feature map"
        self.dims[node.output[0]] = [1, int(x.numel)]
        return self.alias(node, node.output[0], self.state[node.input[0]])

    def op_Reshape(self, node):
        dims, state = self.dims.get(node.output[0]), self.state.get(node.input[0])
        if not dims or not all(isinstance(d, int) for d in dims):
            given = self.tensor_dims(node.input[0])
            if isinstance(state, Opaque) and state.shuffle:  # the 5-D middle of a shuffle
                _, g, x = state.shuffle
                given = [1, g, int(x.c) // g, int(x.h), int(x.w)]
                if state.shuffle[0] == "transposed":
                    given[1:3] = given[2:0:-1]
            target = self.value(node.input[1]) if len(node.input) > 1 else None
            dims = None if given is None or target is None else onnx_consts.reshape_dims(
                given, target, bool(self.attr(node, "allowzero", 0)))
            if dims is None:
                return "output shape unknown"
            self.dims[node.output[0]] = dims
        if isinstance(state, Opaque) and state.shuffle and state.shuffle[0] == "transposed":
            _, g, x = state.shuffle
            if dims[1:] != [x.c, x.h, x.w]:
                return "not a channel shuffle"
            self.emit(node, "shuffle", [x], dict(g=g), node.output[0])
            return True
        x = self.feature(node.input[0])
        if x is None:
            return None
        if len(dims) == 2 and dims[1] == x.numel or dims[1:] == [x.c, *x.sizes]:
            return self.alias(node, node.output[0], state)  # a flatten, or no change
        if len(dims) == 5 and dims[1] * dims[2] == x.c and dims[3:] == [x.h, x.w]:
            return self.alias(node, node.output[0],
                              Opaque(x.producer, ("split", dims[1], x)))
        return "not a flatten or a channel shuffle"

    def op_Transpose(self, node):
        state = self.state.get(node.input[0])
        if isinstance(state, Opaque) and state.shuffle and state.shuffle[0] == "split" \
                and list(self.attr(node, "perm", [])) == [0, 2, 1, 3, 4]:
            return self.alias(node, node.output[0],
                              Opaque(state.producer, ("transposed", *state.shuffle[1:])))
        return "not part of a channel shuffle"
