"""ONNX nodes to costmodel layers: one handler per ONNX op, each using the formulas of
:mod:`costmodel.core.ops` (never formulas of its own).

Every tensor of the graph is one of: a feature map costmodel tracks (N×C×H×W, or N×F after a
flatten or an FC layer, as C = F, 1×1), a tensor derived from the input that is not one
(the 5-D middle of a channel shuffle, or anything after an uncounted op that changes rank),
or a constant (initializers, Constant nodes, and the shape computations Shape/Gather/Concat
chains do on them). Nodes that only touch constants are listed as such; nodes on the input's
path that no handler counts are listed by op and reason, and their outputs are passed through
(the next layer reads from the last counted layer before them).

Each layer's output shape from costmodel's formula is checked against ONNX shape inference's;
a disagreement is an error naming the node, never a silent guess.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from sympy import Integer, Rational

from ..core import ops
from ..core.network import Layer, Network
from ..core.ops import Counts, Shape
from ..errors import CostModelError
from . import onnx_consts, onnx_names
from .onnx_notes import notes


@dataclass(frozen=True)
class Feature:
    shape: Shape


@dataclass(frozen=True)
class Opaque:
    producer: str
    shuffle: tuple | None = None  # ("split" | "transposed", g, the shuffled Shape)


CONST = "const"
ACTIVATIONS = {"Relu": "relu", "Sigmoid": "sigmoid", "HardSigmoid": "hsigmoid",
               "HardSwish": "hswish"}


def translate(model, path: str, name: str, config) -> Network:
    """The shape-inferred ``model`` as a Network named ``name`` with ``config``."""
    return _Translator(model, path).run(name, config)


class _Translator:
    def __init__(self, model, path: str):
        self.model, self.graph, self.path = model, model.graph, path
        self.dims: dict[str, list | None] = {}
        for value in (*self.graph.input, *self.graph.value_info, *self.graph.output):
            if value.type.tensor_type.HasField("shape"):
                self.dims[value.name] = [d.dim_value if d.HasField("dim_value") else None
                                         for d in value.type.tensor_type.shape.dim]
        self.initializers = {t.name: t for t in self.graph.initializer}
        for tensor in self.graph.initializer:
            self.dims[tensor.name] = list(tensor.dims)
        self.values: dict[str, Any] = {}  # small constants whose values are known
        self.state: dict[str, Any] = {name: CONST for name in self.initializers}
        self.layers: list[Layer] = []
        self.scopes: list[tuple[str, str]] = []
        self.uncounted: Counter = Counter()
        self.structural: Counter = Counter()
        self.first_use: dict[str, int] = {}  # weight tensor -> the layer counting it
        self.shared: dict[str, list[int]] = {}
        self.computed: list[int] = []  # layers whose weights the graph computes
        self.readers = Counter(n for node in self.graph.node for n in node.input if n)
        self.fc_from_matmul: dict[str, int] = {}
        self.alias_of: dict[str, str] = {}  # Identity of a constant -> the tensor it repeats
        self.same_padding_varies = False
        self.folded_bias: list[int] = []

    # --- the walk -------------------------------------------------------------------------

    def run(self, name: str, config) -> Network:
        from .onnx_graph import input_dims, topological_order

        _, channels, height, width = input_dims(self.model, self.path)
        image = next(v.name for v in self.graph.input if v.name not in self.initializers)
        self.state[image] = Feature(Shape(Integer(channels), Integer(height), Integer(width),
                                          producer="input"))
        for index in topological_order(self.graph):
            self.node(self.graph.node[index], index)
        if not self.layers:
            raise CostModelError(f"{self.path}: no node of the graph is one costmodel counts "
                                 f"(not counted: {', '.join(self.uncounted)})")
        layers = self._named()
        return Network(name, tuple(config), Shape(Integer(channels), Integer(height),
                                                  Integer(width), producer="input"),
                       tuple(layers), self.model.doc_string.strip() or
                       f"Read from the ONNX file {self.path}.", notes(self, layers))

    def node(self, node, index: int) -> None:
        kinds = [self.state.get(n) for n in node.input if n]
        if all(kind == CONST for kind in kinds) or node.op_type in ("Shape", "Size"):
            self.structural[node.op_type] += 1
            self._remember_value(node)
            if node.op_type == "Identity":  # exporters alias one stored tensor this way
                self.alias_of[node.output[0]] = self.alias_of.get(node.input[0], node.input[0])
            for output in node.output:
                self.state[output] = CONST
            return
        self.index = index
        handler = getattr(self, f"op_{node.op_type}", None)
        reason = handler(node) if handler is not None and node.domain in ("", "ai.onnx") \
            else None
        if reason is not True:
            self.skip(node, reason)

    def skip(self, node, reason: str | None) -> None:
        """An op costmodel does not count: listed, and its outputs passed through."""
        self.uncounted[f"{node.op_type} ({reason})" if reason else node.op_type] += 1
        producer = next((self.producer(n) for n in node.input if self.producer(n)), "input")
        for output in node.output:
            dims = self.dims.get(output)
            if dims and all(isinstance(d, int) and d > 0 for d in dims) and len(dims) in (2, 4):
                c, h, w = (dims[1:] if len(dims) == 4 else [dims[1], 1, 1])
                self.state[output] = Feature(Shape(Integer(c), Integer(h), Integer(w),
                                                   producer=producer))
            else:
                self.state[output] = Opaque(producer)

    def producer(self, tensor: str) -> str | None:
        state = self.state.get(tensor)
        return state.shape.producer if isinstance(state, Feature) else \
            state.producer if isinstance(state, Opaque) else None

    # --- helpers ----------------------------------------------------------------------------

    def feature(self, tensor: str) -> Shape | None:
        state = self.state.get(tensor)
        return state.shape if isinstance(state, Feature) else None

    def attr(self, node, key: str, default: Any = None) -> Any:
        import onnx

        for attribute in node.attribute:
            if attribute.name == key:
                value = onnx.helper.get_attribute_value(attribute)
                return value.decode() if isinstance(value, bytes) else value
        return default

    def value(self, tensor: str) -> Any:
        """The numbers of a small constant tensor (a list), or None when not known."""
        if tensor in self.values:
            return self.values[tensor]
        init = self.initializers.get(tensor)
        if init is not None and init.data_location != 1 and len(init.dims) <= 1:  # 1 = external
            from onnx import numpy_helper

            self.values[tensor] = numpy_helper.to_array(init).reshape(-1).tolist()
            return self.values[tensor]
        return None

    def _remember_value(self, node) -> None:
        if node.op_type == "Constant" and node.output:
            import onnx
            from onnx import numpy_helper

            for attribute in node.attribute:
                value = onnx.helper.get_attribute_value(attribute)
                if isinstance(value, onnx.TensorProto) and len(value.dims) <= 1:
                    self.values[node.output[0]] = numpy_helper.to_array(value).reshape(-1).tolist()
                    self.dims.setdefault(node.output[0], list(value.dims))
                elif isinstance(value, (int, float)):
                    self.values[node.output[0]] = [value]
                elif isinstance(value, list):
                    self.values[node.output[0]] = list(value)
        elif node.output and node.output[0] not in self.values:
            inputs = [self.value(n) if n else None for n in node.input]
            known = onnx_consts.evaluate(node, inputs, lambda k, d: self.attr(node, k, d),
                                         self.tensor_dims(node.input[0]) if node.input else None)
            if known is not None:
                self.values[node.output[0]] = known

    def tensor_dims(self, tensor: str) -> list | None:
        """Known dims of a tensor: from shape inference, else from the feature map costmodel
        tracks for it (N = 1)."""
        dims = self.dims.get(tensor)
        if dims and all(isinstance(d, int) for d in dims):
            return dims
        shape = self.feature(tensor)
        if shape is not None and dims is not None and len(dims) in (2, 4):
            return [1, int(shape.c), int(shape.h), int(shape.w)] if len(dims) == 4 else \
                [1, int(shape.numel)]
        return None

    def numel(self, tensor: str) -> int | None:
        dims = self.dims.get(tensor)
        if dims is None or not all(isinstance(d, int) for d in dims):
            return None
        total = 1
        for d in dims:
            total *= d
        return total

    def emit(self, node, op: str, inputs: list[Shape], attrs: dict[str, Any], output: str,
             leaf: str | None = None, weights: tuple[str, ...] = (),
             norm: tuple[str, ...] = ()) -> Shape:
        """Add a layer computed by the registry's formula for ``op``."""
        attrs = {k: Integer(v) if isinstance(v, int) else v for k, v in attrs.items()}
        try:
            result = ops.apply(op, inputs, attrs)
        except CostModelError as exc:
            raise CostModelError(f"{self.path}: node {self.label(node)}: {exc}") from None
        self._check(node, output, result.shape)
        uid = f"#{len(self.layers)}"
        counts = self._account(result.counts, len(self.layers), weights, norm)
        shape = replace(result.shape, producer=uid)
        self.layers.append(Layer(uid, op, result.kind, tuple(attrs.items()), tuple(inputs),
                                 shape, counts))
        path, node_leaf = onnx_names.scope(node, self.index)
        self.scopes.append((path, f"{node_leaf}.{leaf}" if leaf else node_leaf))
        self.state[output] = Feature(shape)
        return shape

    def label(self, node) -> str:
        return f"{node.name or '#' + str(self.index)!r} ({node.op_type})"

    def _check(self, node, output: str, shape: Shape) -> None:
        dims = self.dims.get(output)
        if not dims or not all(isinstance(d, int) for d in dims):
            return
        expected = dims[1:] if len(dims) == 4 else [dims[1], 1, 1] if len(dims) == 2 else None
        if expected != [shape.c, shape.h, shape.w]:
            raise CostModelError(f"{self.path}: node {self.label(node)}: costmodel's formula "
                                 f"gives {shape.c}×{shape.h}×{shape.w} (C×H×W) but ONNX shape "
                                 f"inference gives {'×'.join(map(str, dims))}")

    def _account(self, counts: Counts, index: int, weights, norm) -> Counts:
        """Weights counted as the file has them: a tensor several layers read is counted once,
        at the first; a weight the graph computes (not an initializer) is recorded."""
        for field, names in (("weights", weights), ("norm_params", norm)):
            for tensor in (self.alias_of.get(name, name) for name in names if name):
                if tensor not in self.initializers and index not in self.computed:
                    self.computed.append(index)
                if tensor in self.first_use:
                    self.shared.setdefault(tensor, [self.first_use[tensor]]).append(index)
                    size = self.numel(tensor)
                    if size is not None:
                        counts = replace(counts, **{field: getattr(counts, field) - size})
                else:
                    self.first_use[tensor] = index
        return counts

    def _named(self) -> list[Layer]:
        names = onnx_names.final_names(self.scopes)
        rename = {f"#{i}": name for i, name in enumerate(names)}

        def renamed(shape: Shape) -> Shape:
            return replace(shape, producer=rename.get(shape.producer, shape.producer))

        return [replace(layer, name=rename[layer.name], inputs=tuple(map(renamed, layer.inputs)),
                        output=renamed(layer.output)) for layer in self.layers]

    def alias(self, node, output: str, state) -> bool:
        self.state[output] = state
        return True

    def _square(self, node, key: str, default: int, rank_dims=None) -> int | str:
        values = self.attr(node, key) or ([default] * 2 if rank_dims is None else rank_dims)
        if len(values) != 2:
            return f"{len(values)}-D"
        if values[0] != values[1]:
            return f"{key} {values[0]}x{values[1]}"
        return int(values[0])

    def _padding(self, node, x: Shape, k: int, s: int, d: int):
        """costmodel's symmetric ``p`` (a half-integer where begin and end pads differ: the
        output size only depends on their sum), or a reason why there is none."""
        auto = self.attr(node, "auto_pad", "NOTSET")
        if auto == "VALID":
            return Integer(0)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            totals = [max((-(-int(side) // s) - 1) * s + d * (k - 1) + 1 - int(side), 0)
                      for side in (x.h, x.w)]
            if s > 1:
                self.same_padding_varies = True
        else:
            pads = self.attr(node, "pads") or [0, 0, 0, 0]
            if len(pads) != 4:
                return f"{len(pads) // 2}-D padding"
            totals = [pads[0] + pads[2], pads[1] + pads[3]]
        if totals[0] != totals[1]:
            return f"padding {totals[0]} in height, {totals[1]} in width"
        return Rational(totals[0], 2)

    # --- handlers: return True when counted, else the reason (None: no reason) ------------------

    def op_Conv(self, node):
        x, weight = self.feature(node.input[0]), node.input[1]
        wdims = self.dims.get(weight)
        if x is None or self.state.get(weight) != CONST or not wdims or len(wdims) != 4:
            return "not a 2-D convolution with constant weights"
        k = self._square(node, "kernel_shape", 0, wdims[2:])
        s, d = self._square(node, "strides", 1), self._square(node, "dilations", 1)
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
        gate = a == b or (a.c == b.c and ((a.h, a.w) == (1, 1) or (b.h, b.w) == (1, 1)))
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
        if x is None or not dims or len(dims) != 4 or dims[2:] != [x.h, x.w]:
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

    def op_Relu(self, node):
        return self._activation(node, "relu")

    def op_Sigmoid(self, node):
        return self._activation(node, "sigmoid")

    def op_HardSigmoid(self, node):
        return self._activation(node, "hsigmoid")

    def op_HardSwish(self, node):
        return self._activation(node, "hswish")

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
        return f"bounds {low}, {high}"

    def op_LRN(self, node):
        x = self.feature(node.input[0])
        if x is None:
            return None
        self.emit(node, "lrn", [x], dict(size=int(self.attr(node, "size"))), node.output[0])
        return True

    def op_Dropout(self, node):
        return self._activation(node, "dropout")

    def op_Identity(self, node):
        return self.alias(node, node.output[0], self.state[node.input[0]])

    def _pool(self, node, op: str):
        x = self.feature(node.input[0])
        if x is None:
            return None
        k = self._square(node, "kernel_shape", 0)
        s, d = self._square(node, "strides", 1), self._square(node, "dilations", 1)
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

    def op_GlobalAveragePool(self, node):
        return self._activation(node, "gap")

    def op_ReduceMean(self, node):
        x, rank = self.feature(node.input[0]), len(self.dims.get(node.input[0]) or [])
        axes = self.attr(node, "axes") or (self.value(node.input[1]) if len(node.input) > 1
                                           and node.input[1] else None)
        if x is None or rank != 4 or not axes or {a % 4 for a in axes} != {2, 3}:
            return "not a mean over height and width"
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
        if len(dims) == 2 and dims[1] == x.numel or dims[1:] == [x.c, x.h, x.w]:
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
