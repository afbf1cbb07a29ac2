"""The walk over an ONNX graph that builds a Network: tensor states, layers through the
registry's formulas, weights counted as the file has them, names.

Every tensor of the graph is one of: a feature map costmodel tracks (N×C×H×W, or N×F after a
flatten or an FC layer, as C = F, 1×1), a tensor derived from the input that is not one
(the 5-D middle of a channel shuffle, or anything after an uncounted op that changes rank),
or a constant (initializers, Constant nodes, and the shape computations Shape/Gather/Concat
chains do on them). Nodes that only touch constants are listed as such; nodes on the input's
path that no handler (:mod:`.onnx_ops`) counts are listed by op and reason, and their outputs
are passed through (the next layer reads from the last counted layer before them).

Each layer's output shape from costmodel's formula is checked against ONNX shape inference's;
a disagreement is an error naming the node, never a silent guess.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from sympy import Integer

from ..core import ops
from ..core.network import Layer, Network
from ..core.ops import Counts, Shape
from ..errors import CostModelError
from ..safe_io import printable
from . import onnx_consts, onnx_names
from .onnx_notes import notes, warnings
from .onnx_ops import CONST, Feature, Opaque
from .onnx_ops_attention import AttentionHandlers
from .onnx_bounds import text
from .onnx_values import tensor_values

#: How many uncounted ops an error names.
SHOWN_OPS = 8


def translate(model, path: str, name: str, config, folder: Path | None = None) -> Network:
    """The shape-inferred ``model`` as a Network named ``name`` with ``config``. ``path`` is
    the file as messages quote it; ``folder`` the model's folder, the only place external
    data of a constant is read from (:mod:`.onnx_values`)."""
    return _Translator(model, path, folder if folder is not None else Path(".")).run(name,
                                                                                     config)


class _Translator(AttentionHandlers):
    def __init__(self, model, path: str, folder: Path):
        self.model, self.graph, self.path, self.folder = model, model.graph, path, folder
        self.constants: dict[str, Any] = {}  # Constant nodes' tensors, read when needed
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
        self.folded_bn: list[int] = []  # conv layers that look like a conv and a BN fused
        self.has_bn = any(node.op_type == "BatchNormalization" for node in self.graph.node)
        # the newer ops' readers (onnx_ops_modern)
        self.consumers: dict[str, list[int]] = {}
        for i, node in enumerate(self.graph.node):
            for name in {n for n in node.input if n}:
                self.consumers.setdefault(name, []).append(i)
        self.origin: dict[str, str] = {}  # a constant made from one initializer -> it
        self.absorbed: set[int] = set()  # nodes read as part of an earlier node's layer
        self.moved: Counter = Counter()
        self.scaled = self.erf_gelus = 0

    # --- the walk -------------------------------------------------------------------------

    def run(self, name: str, config) -> Network:
        from .onnx_graph import input_dims, topological_order

        _, channels, *sizes = input_dims(self.model, self.path)
        image = next(v.name for v in self.graph.input if v.name not in self.initializers)
        source = Shape(Integer(channels), tuple(map(Integer, sizes)), producer="input")
        self.state[image] = Feature(source)
        for index in topological_order(self.graph):
            self.node(self.graph.node[index], index)
        if not self.layers:
            ops = list(self.uncounted)
            listed = ", ".join(ops[:SHOWN_OPS]) + (f" and {len(ops) - SHOWN_OPS} more"
                                                  if len(ops) > SHOWN_OPS else "")
            raise CostModelError(f"{self.path}: no node of the graph is one costmodel counts "
                                 f"(not counted: {listed or 'only constants'})")
        layers = self._named()
        doc = printable(text(self.model.doc_string).strip(), 300)
        return Network(name, tuple(config), source,
                       tuple(layers), doc or f"Read from the ONNX file {self.path}.",
                       notes(self, layers) + self.modern_notes(),
                       warnings=warnings(self, layers))

    def node(self, node, index: int) -> None:
        self.index = index
        if index in self.absorbed:
            return
        self.fill_dims(node)
        kinds = [self.state.get(n) for n in node.input if n]
        if all(kind == CONST for kind in kinds) or node.op_type in ("Shape", "Size"):
            self.structural[node.op_type] += 1
            self._remember_value(node)
            self.note_origin(node)
            if node.op_type == "Identity":  # exporters alias one stored tensor this way
                self.alias_of[node.output[0]] = self.alias_of.get(node.input[0], node.input[0])
            for output in node.output:
                self.state[output] = CONST
            return
        handler = getattr(self, f"op_{node.op_type}", None)
        reason = self.refuses(node) or (
            handler(node) if handler is not None and node.domain in ("", "ai.onnx") else None)
        if reason is not True:
            self.skip(node, reason)

    def skip(self, node, reason: str | None) -> None:
        """An op costmodel does not count: listed, and its outputs passed through."""
        op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        op = printable(op)  # op types and domains are the file's text
        self.uncounted[f"{op} ({reason})" if reason else op] += 1
        producer = next((self.producer(n) for n in node.input if self.producer(n)), "input")
        for output in node.output:
            dims = self.dims.get(output)
            if dims and all(isinstance(d, int) and d > 0 for d in dims) and 2 <= len(dims) <= 5:
                self.state[output] = Feature(_feature_shape(dims, producer))
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
                if isinstance(value, bytes):
                    try:
                        return value.decode("utf-8")
                    except UnicodeDecodeError:
                        shown = printable(text(value))
                        raise CostModelError(f"{self.path}: node {self.label(node)}: its "
                                             f"attribute {printable(key)} is not UTF-8 text "
                                             f"({shown})") from None
                return value
        return default

    def value(self, tensor: str) -> Any:
        """The numbers of a small constant tensor (a list), or None when not known."""
        if tensor in self.values:
            return self.values[tensor]
        stored = self.initializers.get(tensor, self.constants.get(tensor))
        if stored is not None:  # read only now that it is needed (small ones only)
            self.values[tensor] = onnx_consts.bounded(tensor_values(stored, self.folder,
                                                                    self.path))
            return self.values[tensor]
        return None

    def _remember_value(self, node) -> None:
        if node.op_type == "Constant" and node.output:
            import onnx

            for attribute in node.attribute:
                value = onnx.helper.get_attribute_value(attribute)
                if isinstance(value, onnx.TensorProto):
                    # its values (inline or external) are read by value() if a node needs them
                    self.constants[node.output[0]] = value
                    self.dims.setdefault(node.output[0], list(value.dims))
                elif isinstance(value, (int, float)):
                    self.values[node.output[0]] = onnx_consts.bounded([value])
                elif isinstance(value, list) and attribute.name in ("value_ints",
                                                                     "value_floats"):
                    self.values[node.output[0]] = onnx_consts.bounded(value)
        elif node.output and node.output[0] not in self.values:
            inputs = [self.value(n) if n else None for n in node.input]
            known = onnx_consts.evaluate(node, inputs, lambda k, d: self.attr(node, k, d),
                                         self.tensor_dims(node.input[0]) if node.input else None,
                                         [self.known_dims(n) for n in node.input])
            if known is not None:
                self.values[node.output[0]] = known

    def tensor_dims(self, tensor: str) -> list | None:
        """Known dims of a tensor: from shape inference, else from the feature map costmodel
        tracks for it (N = 1)."""
        dims = self.dims.get(tensor)
        if dims and all(isinstance(d, int) for d in dims):
            return dims
        shape = self.feature(tensor)
        if shape is not None and dims is not None and 2 <= len(dims) <= 5:
            return [1, int(shape.c), *map(int, shape.sizes)] if len(dims) > 2 else \
                [1, int(shape.numel)]
        return None

    def known_dims(self, tensor: str) -> list | None:
        """A tensor's dims where every one is known ([] for a scalar), else None."""
        dims = self.dims.get(tensor) if tensor else None
        return dims if dims is not None and all(isinstance(d, int) for d in dims) else None

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
        attrs = {k: Integer(v) if isinstance(v, int)
                 else tuple(Integer(x) if isinstance(x, int) else x for x in v)
                 if isinstance(v, tuple) else v
                 for k, v in attrs.items()}
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
        name = "'" + printable(node.name) + "'" if node.name else f"#{self.index}"
        return f"{name} ({printable(node.op_type)})"

    def _check(self, node, output: str, shape: Shape) -> None:
        dims = self.dims.get(output)
        if not dims or not all(isinstance(d, int) for d in dims):
            return
        if shape.layout == "last":  # tokens: the features last, the sizes in any grouping
            matches = dims[-1] == shape.c and math.prod(dims) == shape.numel
        elif len(dims) == 2:  # N×F after a fully connected layer: costmodel's F×1×1
            matches = dims[1] == shape.c and all(side == 1 for side in shape.sizes)
        else:
            matches = dims[1:] == [shape.c, *shape.sizes]
        if not matches:
            raise CostModelError(f"{self.path}: node {self.label(node)}: costmodel's formula "
                                 f"gives {'×'.join(map(str, (shape.c, *shape.sizes)))} (C×"
                                 f"spatial) but ONNX shape inference gives "
                                 f"{'×'.join(map(str, dims))}")

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

    def looks_folded(self, node) -> bool:
        """Whether a Conv node looks like a Conv with the BatchNormalization after it fused
        in by the exporter: the dynamo exporter's rewriter says so in the node's metadata
        (its scope is then the BN's); the TorchScript exporter leaves a weight and a bias it
        computed (``onnx::Conv_12``) where the module's own are named ``<path>.weight``."""
        if self.has_bn:
            return False
        for prop in node.metadata_props:
            if prop.key == "pkg.onnxscript.rewriter.rule_name" and \
                    "FuseBatchNorm" in text(prop.value)[:1000]:
                return True
        computed = [name.startswith("onnx::Conv_") for name in node.input[1:3]]
        return len(computed) == 2 and all(computed) and \
            text(self.model.producer_name) == "pytorch"

    def alias(self, node, output: str, state) -> bool:
        self.state[output] = state
        return True


def _feature_shape(dims: list[int], producer: str) -> Shape:
    """An N×C×... tensor's feature map: N×F (a fully connected layer's output) as F×1×1."""
    if len(dims) == 2:
        return Shape.image(Integer(dims[1]), Integer(1), Integer(1), producer=producer)
    return Shape(Integer(dims[1]), tuple(map(Integer, dims[2:])), producer=producer)
