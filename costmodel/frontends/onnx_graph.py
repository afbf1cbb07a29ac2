"""Count an ONNX file: a SPEC may be ``model.onnx`` (or ``model.onnx:resolution=160``).

The file is read as data (``onnx`` parses the protobuf; nothing in it is executed), checked,
given its input size, shape-inferred with ``onnx.shape_inference`` and translated node by
node into an ordinary :class:`~costmodel.core.network.Network` whose layers use the formulas
of :mod:`costmodel.core.ops` (the translation is in :mod:`.onnx_ops`). Nodes costmodel has no
formula for are listed by name and count in the network's notes, never silently dropped.

The checks, each ending in one :class:`~costmodel.errors.CostModelError` line: the file
exists and is at most :data:`MAX_BYTES`; it parses as an ONNX ``ModelProto`` with a graph and
an opset (else "not an ONNX file", or "truncated" when it starts as one); every tensor a node
reads is provided by a graph input, an initializer or another node; the graph has no cycle;
``onnx.checker`` accepts it (for a file over :data:`CHECKER_BYTES` or with external weights,
each node alone); shape inference succeeds at the chosen input size.

Closed forms in the resolution go through a written spec file (``costmodel import
model.onnx > net.cm``, then ``costmodel derive net.cm``): an ONNX file is counted at a
numeric input size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.network import Network
from ..errors import CostModelError
from ..limits import excerpt

#: Protobuf cannot hold a message over 2 GiB; larger models keep their weights as external
#: data, which costmodel does not need (it reads shapes, not weight values).
MAX_BYTES = 2**31 - 1
#: Files up to this size are also run through ``onnx.checker`` (it walks every weight).
CHECKER_BYTES = 64 * 2**20
#: Initializers with more elements than this are kept as dims only (see read_model).
VALUES_KEPT = 4096
#: The knobs a SPEC may set for an ONNX file: the input side(s) in pixels.
KNOBS = ("resolution", "height", "width")
#: The largest input side: ONNX stores dims as 64-bit integers, and H×W must fit in one.
MAX_SIDE = 2**31 - 1


def load_spec(path: str, rest: str = "") -> OnnxModelRef:
    """The front-end hook of :data:`costmodel.zoo.FRONT_ENDS`: ``path`` and the text after
    ``path:`` (``resolution=160``, or ``height=..,width=..``)."""
    from ..zoo import parse_values

    values = parse_values(rest, f"{path}:{rest}")
    for key, _ in values:
        if key not in KNOBS:
            raise CostModelError(f"{path}: an ONNX file has no knob {key!r}; set the input "
                                 f"size with resolution= (or height= and width=)")
    model = read_model(path)
    return OnnxModelRef(path, Path(path).stem, values, model)


@dataclass(frozen=True)
class OnnxModelRef:
    """A resolved ``model.onnx[:resolution=R]`` SPEC, as :class:`costmodel.zoo.ModelRef`:
    ``name``, ``build(**overrides)`` and ``config()``."""

    path: str
    name: str
    values: tuple[tuple[str, str], ...]
    model: Any  # onnx.ModelProto, checked by read_model

    def config(self) -> dict[str, Any]:
        """The input size the file will be counted at: ``resolution`` for a square input,
        else ``height`` and ``width``."""
        height, width = self._input_size(dict(self.values))
        return {"resolution": height} if height == width else {"height": height,
                                                               "width": width}

    def build(self, input_shape: tuple[int, ...] | None = None, **overrides: Any) -> Network:
        """The network at the SPEC's input size, ``overrides`` (resolution, height, width),
        or ``input_shape`` N,C,H,W (the ``--input`` option; a size the SPEC sets wins, and
        counts are per sample whatever N is)."""
        from .onnx_translate import translate

        settings = {**dict(self.values), **overrides}
        if input_shape is not None:
            _, channels, height, width = input_shape
            takes = input_dims(self.model, self.path)[1]
            if channels != takes:
                raise CostModelError(f"{self.path} takes {takes}-channel input; --input gives "
                                     f"C={channels}")
            if not set(KNOBS) & set(settings):
                settings.update(height=height, width=width)
        for key in settings:
            if key not in KNOBS:
                raise CostModelError(f"{self.name}: an ONNX file has no knob {key!r}; its "
                                     f"knobs are: {', '.join(KNOBS)}")
        height, width = self._input_size(settings)
        inferred = infer_shapes(self.model, self.path, height, width)
        return translate(inferred, self.path, self.name, self.config_for(height, width))

    @staticmethod
    def config_for(height: int, width: int) -> tuple[tuple[str, Any], ...]:
        from sympy import Integer

        if height == width:
            return (("resolution", Integer(height)),)
        return (("height", Integer(height)), ("width", Integer(width)))

    def _input_size(self, settings: dict[str, Any]) -> tuple[int, int]:
        """Height and width: from the SPEC's values, else the file's fixed input dims."""
        fixed = input_dims(self.model)[2:]
        sides = []
        for axis, key in enumerate(("height", "width")):
            given = settings.get(key, settings.get("resolution"))
            if given is None:
                if not isinstance(fixed[axis], int):
                    raise CostModelError(
                        f"{self.path}: the input's {key} is dynamic ({fixed[axis]!r} in the "
                        f"file); give the input size, e.g. {self.path}:resolution=224")
                given = fixed[axis]
            sides.append(_side(given, key if key in settings else "resolution", self.path))
        return sides[0], sides[1]


def _side(value: Any, key: str, path: str) -> int:
    """An input side in pixels: a whole number >= 1 (text from the command line, or a
    number). A sympy symbol asks for a closed form, which goes through a spec file."""
    if getattr(value, "free_symbols", None):
        raise CostModelError(f"{path}: an ONNX file is counted at a numeric input size; for "
                             f"a closed form in the resolution write it as a spec file "
                             f"(costmodel import {path} > net.cm) and derive that")
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text[:20]) < 1:
        raise CostModelError(f"{path}: {key} must be a whole number >= 1; received "
                             f"{key}={excerpt(text)}")
    if len(text.lstrip("0")) > len(str(MAX_SIDE)) or int(text) > MAX_SIDE:
        raise CostModelError(f"{path}: {key} must be at most {MAX_SIDE:,} (ONNX's 64-bit "
                             f"dims must hold H×W); received {key}={excerpt(text)}")
    return int(text)


# --- reading and checking the file --------------------------------------------------------------

def read_model(path: str):
    """The file at ``path`` as an ``onnx.ModelProto``, checked as the module docstring says."""
    import onnx
    from google.protobuf.message import DecodeError

    file = Path(path)
    if not file.is_file():
        raise CostModelError(f"{path}: no such file (an ONNX model file was expected)")
    size = file.stat().st_size
    if size > MAX_BYTES:
        raise CostModelError(f"{path}: {size:,} bytes is larger than an ONNX file can be "
                             f"({MAX_BYTES:,} bytes, protobuf's limit)")
    with file.open("rb") as stream:
        head = stream.read(2)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(file.read_bytes())
        parsed = True
    except (DecodeError, RuntimeError, ValueError):
        parsed = False
    complete = parsed and model.ir_version > 0 and model.HasField("graph") and \
        len(model.graph.node) > 0 and len(model.opset_import) > 0
    if not complete:
        if _starts_like_onnx(head):
            raise CostModelError(f"{path}: the ONNX model is incomplete (the file is truncated "
                                 f"or damaged: {size:,} bytes); export it again")
        raise CostModelError(f"{path}: not an ONNX file (it does not parse as an ONNX "
                             f"ModelProto with a graph and an opset)")
    check_graph(model.graph, path)
    # the checker reads external weight files (beside the model, relative to the working
    # directory) and walks every weight; costmodel needs only their dims, so large or
    # external-data models skip it and have their nodes checked one by one instead (strict
    # shape inference does not check attribute types: a STRING group reached int())
    external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    try:
        if not external and size <= CHECKER_BYTES:
            onnx.checker.check_model(model)
        else:
            _check_nodes(model)
    except onnx.checker.ValidationError as exc:
        raise CostModelError(f"{path}: not a valid ONNX model: {_first_line(exc)}") from None
    input_dims(model, path)  # one image input, NCHW
    return _without_weight_values(model)


def _check_nodes(model) -> None:
    """The checker's check of each node against its op's schema (attribute types, input and
    output counts), which reads no weight. Nodes holding subgraphs (If, Loop...) are left to
    shape inference: checked alone, their subgraphs' reads of outer tensors look undefined."""
    import onnx

    context = onnx.checker.C.CheckerContext()
    context.ir_version = model.ir_version
    context.opset_imports = {entry.domain: entry.version for entry in model.opset_import}
    scope = onnx.checker.C.LexicalScopeContext()
    for node in model.graph.node:
        if not any(attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                   for attribute in node.attribute):
            onnx.checker.check_node(node, context, scope)


def _without_weight_values(model):
    """The model with the values of large initializers dropped (their dims stay): counting
    needs the dims, and small constants (shapes, bounds) only, and every later step (shape
    inference copies the model twice) is then cheap even for a VGG-16 of 528 MB."""
    import onnx

    for tensor in model.graph.initializer:
        if tensor.data_location != onnx.TensorProto.EXTERNAL and \
                math.prod(tensor.dims) > VALUES_KEPT:
            for name in ("raw_data", "float_data", "int32_data", "int64_data", "double_data",
                         "uint64_data", "string_data"):
                tensor.ClearField(name)
            tensor.data_location = onnx.TensorProto.EXTERNAL
            entry = tensor.external_data.add()
            entry.key, entry.value = "location", "(values not read by costmodel)"
    return model


def _starts_like_onnx(data: bytes) -> bool:
    """A ModelProto begins with field 1, ``ir_version`` (tag byte 0x08), a small number."""
    return len(data) >= 2 and data[0] == 0x08 and 1 <= data[1] <= 64


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _label(node, index: int) -> str:
    return f"{node.name or f'#{index}'!r} ({node.op_type})"


def check_graph(graph, path: str) -> None:
    """Every tensor read is provided by something, once; the nodes form no cycle."""
    provided = {value.name for value in graph.input} | \
               {tensor.name for tensor in graph.initializer}
    writer: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for name in filter(None, node.output):
            if name in writer or name in provided:
                raise CostModelError(f"{path}: tensor {name!r} is written twice (by node "
                                     f"{_label(node, index)} and before it)")
            writer[name] = index
    for index, node in enumerate(graph.node):
        for name in filter(None, node.input):
            if name not in provided and name not in writer:
                raise CostModelError(f"{path}: node {_label(node, index)} reads {name!r}, "
                                     f"which no node, initializer or graph input provides")
    for output in graph.output:
        if output.name not in provided and output.name not in writer:
            raise CostModelError(f"{path}: the graph output {output.name!r} is not computed "
                                 "by any node")
    order = topological_order(graph)
    if len(order) < len(graph.node):
        raise CostModelError(f"{path}: the graph has a cycle: {_cycle(graph, set(order))}")


def _reads(node) -> list[str]:
    return [name for name in node.input if name]


def topological_order(graph) -> list[int]:
    """Node indices in an order where each node follows the nodes it reads from (Kahn's
    algorithm, stable: the file's order where it is already valid). Nodes on or after a
    cycle are left out."""
    writer = {name: i for i, node in enumerate(graph.node) for name in node.output if name}
    waiting = [len({writer[n] for n in _reads(node) if n in writer}) for node in graph.node]
    readers: dict[int, set[int]] = {}
    for i, node in enumerate(graph.node):
        for source in {writer[n] for n in _reads(node) if n in writer}:
            readers.setdefault(source, set()).add(i)
    import heapq

    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for reader in readers.get(i, ()):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, reader)
    return order


def _cycle(graph, done: set[int]) -> str:
    """One cycle among the nodes left over by the topological sort, as node names."""
    writer = {name: i for i, node in enumerate(graph.node) for name in node.output if name}
    stuck = [i for i in range(len(graph.node)) if i not in done]
    path, seen, i = [], {}, stuck[0]
    while i not in seen:  # follow a stuck producer; a stuck node always has one
        seen[i] = len(path)
        path.append(i)
        i = next(writer[n] for n in _reads(graph.node[i])
                 if n in writer and writer[n] not in done)
    loop = path[seen[i]:] + [i]
    return " → ".join(graph.node[j].name or f"#{j} {graph.node[j].op_type}"
                      for j in reversed(loop))


def input_dims(model, path: str = "") -> list[Any]:
    """The image input's dims [N, C, H, W]: numbers, or the names of dynamic dims."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    if len(inputs) != 1:
        raise CostModelError(f"{path}: the graph has {len(inputs)} inputs "
                             f"({', '.join(v.name for v in inputs)}); costmodel counts "
                             "networks with one image input")
    dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4:
        raise CostModelError(f"{path}: the input {inputs[0].name!r} has {len(dims)} "
                             f"dimensions; costmodel counts images, N×C×H×W")
    if not isinstance(dims[1], int):
        raise CostModelError(f"{path}: the input's channel count is dynamic ({dims[1]!r}); "
                             "costmodel needs it fixed in the file")
    return dims


def infer_shapes(model, path: str, height: int, width: int):
    """A copy of ``model`` with the input set to 1×C×height×width and every tensor's shape
    inferred by ``onnx.shape_inference`` (with data propagation, so that shapes computed by
    Shape/Gather/Concat chains are known)."""
    import onnx

    inferred = onnx.ModelProto()
    inferred.CopyFrom(model)
    graph = inferred.graph
    initializers = {tensor.name for tensor in graph.initializer}
    image = next(v for v in graph.input if v.name not in initializers)
    dims = image.type.tensor_type.shape.dim
    fixed = input_dims(model, path)
    if fixed != [1, fixed[1], height, width]:
        # a new input size: the file's recorded intermediate and output shapes no longer hold
        del graph.value_info[:]
        for output in graph.output:
            output.type.tensor_type.ClearField("shape")
    for dim, value in zip(dims, (1, fixed[1], height, width)):
        dim.Clear()
        dim.dim_value = value
    try:
        return onnx.shape_inference.infer_shapes(inferred, check_type=False, strict_mode=True,
                                                 data_prop=True)
    except Exception as exc:  # onnx raises InferenceError and a few others  # noqa: BLE001
        raise CostModelError(f"{path}: ONNX shape inference fails at input "
                             f"{fixed[1]}×{height}×{width}: {_first_line(exc)}") from None
