"""Count an ONNX file: a SPEC may be ``model.onnx`` (or ``model.onnx:resolution=160``).

The file is read as data (``onnx`` parses the protobuf; nothing in it is executed), checked,
given its input size, shape-inferred with ``onnx.shape_inference`` and translated node by
node into an ordinary :class:`~costmodel.core.network.Network` whose layers use the formulas
of :mod:`costmodel.core.ops` (the translation is in :mod:`.onnx_ops`). Nodes costmodel has no
formula for are listed by name and count in the network's notes, never silently dropped.

The checks, each ending in one :class:`~costmodel.errors.CostModelError` line: the file
is a regular file of at most :data:`MAX_BYTES` (read through ``safe_io.read_bounded``); it
parses as an ONNX ``ModelProto`` with a graph and an opset (else "not an ONNX file", or
"truncated" when it starts as one) and has nodes; its sizes are within the limits
(:mod:`.onnx_bounds`); every tensor a node
reads is provided by a graph input, an initializer or another node; the graph has no cycle;
``onnx.checker`` accepts it (for a file over :data:`CHECKER_BYTES` or with external data,
each node alone); shape inference succeeds at the chosen input size.

Closed forms in the resolution go through a written spec file (``costmodel import
model.onnx -o net.cm``, then ``costmodel derive net.cm``): an ONNX file is counted at a
numeric input size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import limits
from ..core.network import Network
from ..errors import CostModelError
from ..limits import excerpt
from ..safe_io import printable, read_bounded
from .onnx_bounds import check_bounds

#: Protobuf cannot hold a message over 2 GiB; larger models keep their weights as external
#: data, which costmodel does not need (it reads shapes, not weight values).
MAX_BYTES = limits.MAX_ONNX_BYTES
#: Files up to this size are also run through ``onnx.checker`` (it walks every weight).
CHECKER_BYTES = 64 * 2**20
#: Initializers with more elements than this are kept as dims only (see read_model): no
#: larger constant is ever folded.
VALUES_KEPT = limits.MAX_ONNX_CONSTANT_VALUES
#: The knobs a SPEC may set for an ONNX file: the input side(s) in pixels.
KNOBS = ("resolution", "height", "width")
#: The largest input side: ONNX stores dims as 64-bit integers, and H×W must fit in one.
MAX_SIDE = 2**31 - 1


#: The input side an import uses for a file whose input height and width are dynamic, when
#: the SPEC gives none (the written file keeps the side as its knob ``resolution``).
IMPORT_RESOLUTION = 224


def load_spec(path: str, rest: str = "") -> OnnxModelRef:
    """The front-end hook of :data:`costmodel.zoo.FRONT_ENDS`: ``path`` and the text after
    ``path:`` (``resolution=160``, or ``height=..,width=..``)."""
    from ..zoo import parse_values

    shown = shown_path(path)
    values = parse_values(rest, f"{path}:{rest}")
    for key, _ in values:
        if key not in KNOBS:
            raise CostModelError(f"{shown}: an ONNX file has no knob '{printable(key)}'; set "
                                 f"the input size with resolution= (or height= and width=)")
    model = read_model(path)
    # the file name is the model's name in tables: one printable line
    return OnnxModelRef(path, printable(Path(path).stem), values, model, shown)


@dataclass(frozen=True)
class OnnxModelRef:
    """A resolved ``model.onnx[:resolution=R]`` SPEC, as :class:`costmodel.zoo.ModelRef`:
    ``name``, ``build(**overrides)`` and ``config()``."""

    path: str
    name: str
    values: tuple[tuple[str, str], ...]
    model: Any  # onnx.ModelProto, checked by read_model
    shown: str = ""  # the path as messages quote it

    @property
    def quoted(self) -> str:
        return self.shown or shown_path(self.path)

    def config(self) -> dict[str, Any]:
        """The input size the file will be counted at: ``resolution`` for a square input,
        else ``height`` and ``width``."""
        height, width = self._input_size(dict(self.values))
        return {"resolution": height} if height == width else {"height": height,
                                                               "width": width}

    def dynamic_axes(self) -> list[str]:
        """The input's sides ("height", "width") that the file leaves dynamic and the SPEC
        does not set."""
        fixed, settings = input_dims(self.model, self.quoted)[2:], dict(self.values)
        return [key for key, dim in zip(("height", "width"), fixed)
                if not isinstance(dim, int) and key not in settings
                and "resolution" not in settings]

    def build_for_import(self) -> tuple[Network, str]:
        """The network ``costmodel import`` writes, and what its file says it came from: a
        dynamic input side the SPEC leaves open is taken as :data:`IMPORT_RESOLUTION`, and
        the origin says so (the written file keeps the side as its knob)."""
        dynamic = self.dynamic_axes()
        if not dynamic:
            return self.build(), ""
        size = {key: IMPORT_RESOLUTION for key in dynamic}
        origin = (f"its dynamic input {' and '.join(dynamic)} taken as {IMPORT_RESOLUTION}, "
                  f"costmodel's default; give :resolution=R to check the file at another size")
        return self.build(**size), origin

    def build(self, input_shape: tuple[int, ...] | None = None, **overrides: Any) -> Network:
        """The network at the SPEC's input size, ``overrides`` (resolution, height, width),
        or ``input_shape`` N,C,H,W (the ``--input`` option; a size the SPEC sets wins, and
        counts are per sample whatever N is)."""
        from .onnx_translate import translate

        settings = {**dict(self.values), **overrides}
        if input_shape is not None:
            _, channels, height, width = input_shape
            takes = input_dims(self.model, self.quoted)[1]
            if channels != takes:
                raise CostModelError(f"{self.quoted} takes {takes}-channel input; --input "
                                     f"gives C={channels}")
            if not set(KNOBS) & set(settings):
                settings.update(height=height, width=width)
        for key in settings:
            if key not in KNOBS:
                raise CostModelError(f"{self.name}: an ONNX file has no knob "
                                     f"'{printable(key)}'; its knobs are: {', '.join(KNOBS)}")
        height, width = self._input_size(settings)
        inferred = infer_shapes(self.model, self.quoted, height, width)
        return translate(inferred, self.quoted, self.name, self.config_for(height, width),
                         Path(self.path).parent)

    @staticmethod
    def config_for(height: int, width: int) -> tuple[tuple[str, Any], ...]:
        from sympy import Integer

        if height == width:
            return (("resolution", Integer(height)),)
        return (("height", Integer(height)), ("width", Integer(width)))

    def _input_size(self, settings: dict[str, Any]) -> tuple[int, int]:
        """Height and width: from the SPEC's values, else the file's fixed input dims."""
        fixed = input_dims(self.model, self.quoted)[2:]
        sides = []
        for axis, key in enumerate(("height", "width")):
            given = settings.get(key, settings.get("resolution"))
            if given is None:
                if not isinstance(fixed[axis], int):
                    raise CostModelError(
                        f"{self.quoted}: the input's {key} is dynamic "
                        f"('{printable(fixed[axis])}' in the file); give the input size, e.g. "
                        f"{self.quoted}:resolution=224 or --input 1,C,224,224")
                given = fixed[axis]
            sides.append(_side(given, key if key in settings else "resolution", self.quoted))
        return sides[0], sides[1]


def _side(value: Any, key: str, path: str) -> int:
    """An input side in pixels: a whole number >= 1 (text from the command line, or a
    number). A sympy symbol asks for a closed form, which goes through a spec file."""
    if getattr(value, "free_symbols", None):
        raise CostModelError(f"{path}: an ONNX file is counted at a numeric input size; for "
                             f"a closed form in the resolution write it as a spec file "
                             f"(costmodel import {path} -o net.cm) and derive that")
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text[:20]) < 1:
        raise CostModelError(f"{path}: {key} must be a whole number >= 1; received "
                             f"{key}={excerpt(text)}")
    if len(text.lstrip("0")) > len(str(MAX_SIDE)) or int(text) > MAX_SIDE:
        raise CostModelError(f"{path}: {key} must be at most {MAX_SIDE:,} (ONNX's 64-bit "
                             f"dims must hold H×W); received {key}={excerpt(text)}")
    return int(text)


# --- reading and checking the file --------------------------------------------------------------

def shown_path(path: str) -> str:
    """``path`` as messages quote it (escaped, excerpted)."""
    return printable(path, limits.MAX_QUOTED_PATH_CHARS)


def read_model(path: str):
    """The file at ``path`` as an ``onnx.ModelProto``, checked as the module docstring says."""
    import onnx
    from google.protobuf.message import DecodeError

    shown = shown_path(path)
    data = read_bounded(path, MAX_BYTES, "ONNX model file", "MAX_ONNX_BYTES")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
        parsed = True
    except (DecodeError, RuntimeError, ValueError, TypeError):
        parsed = False
    framed = parsed and model.ir_version > 0 and model.HasField("graph") and \
        len(model.opset_import) > 0
    if framed and not model.graph.node:
        raise CostModelError(f"{shown}: the ONNX graph has no nodes, so there is nothing to "
                             "count (an intact file, but an empty model)")
    if not framed:
        if _starts_like_onnx(data[:2]):
            raise CostModelError(f"{shown}: the ONNX model is incomplete (the file is truncated "
                                 f"or damaged: {len(data):,} bytes); export it again")
        raise CostModelError(f"{shown}: not an ONNX file (it does not parse as an ONNX "
                             f"ModelProto with a graph and an opset)")
    size = len(data)
    del data
    check_bounds(model, shown)
    check_graph(model.graph, shown)
    # the checker walks every weight; costmodel needs only their dims, so large or
    # external-data models skip it and have their nodes checked one by one instead (strict
    # shape inference does not check attribute types: a STRING group reached int()). Neither
    # reads external data: only onnx_values does, for the constants counting needs.
    external = any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer) \
        or any(_holds_external(node) for node in model.graph.node)
    try:
        if not external and size <= CHECKER_BYTES:
            onnx.checker.check_model(model)
        else:
            _check_nodes(model)
    except Exception as exc:  # ValidationError, and what a damaged schema raises  # noqa: BLE001
        raise CostModelError(f"{shown}: not a valid ONNX model: "
                             f"{printable(_first_line(exc), 200)}") from None
    input_dims(model, shown)  # one image input, NCHW
    return _without_weight_values(model)


def _holds_external(node) -> bool:
    """Whether a node's attributes hold a tensor stored as external data: the checker would
    look for its file relative to the working folder (onnx_values reads it, when needed,
    from the model's folder only)."""
    import onnx

    return any(t.data_location == onnx.TensorProto.EXTERNAL for attribute in node.attribute
               for t in ([attribute.t] if attribute.HasField("t") else [])
               + list(attribute.tensors))


def _check_nodes(model) -> None:
    """The checker's check of each node against its op's schema (attribute types, input and
    output counts), which reads no weight. Nodes holding subgraphs (If, Loop...) are left to
    shape inference: checked alone, their subgraphs' reads of outer tensors look undefined."""
    import onnx

    context = onnx.checker.C.CheckerContext()
    context.ir_version = model.ir_version
    context.opset_imports = {entry.domain: entry.version for entry in model.opset_import}
    scope = onnx.checker.C.LexicalScopeContext()
    for index, node in enumerate(model.graph.node):
        if not any(attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                   for attribute in node.attribute) and not _holds_external(node):
            try:
                onnx.checker.check_node(node, context, scope)
            except Exception as exc:  # noqa: BLE001  (ValidationError and its kin)
                raise onnx.checker.ValidationError(
                    f"node {_label(node, index)}: {_first_line(exc)}") from None


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
    name = "'" + printable(node.name) + "'" if node.name else f"#{index}"
    return f"{name} ({printable(node.op_type)})"


def _quoted(name: str) -> str:
    return "'" + printable(name) + "'"


def check_graph(graph, path: str) -> None:
    """Every tensor read is provided by something, once; the nodes form no cycle."""
    provided = {value.name for value in graph.input} | \
               {tensor.name for tensor in graph.initializer}
    writer: dict[str, int] = {}
    for index, node in enumerate(graph.node):
        for name in filter(None, node.output):
            if name in writer or name in provided:
                raise CostModelError(f"{path}: tensor {_quoted(name)} is written twice (by node "
                                     f"{_label(node, index)} and before it)")
            writer[name] = index
    for index, node in enumerate(graph.node):
        for name in filter(None, node.input):
            if name not in provided and name not in writer:
                raise CostModelError(f"{path}: node {_label(node, index)} reads {_quoted(name)}, "
                                     f"which no node, initializer or graph input provides")
    for output in graph.output:
        if output.name not in provided and output.name not in writer:
            raise CostModelError(f"{path}: the graph output {_quoted(output.name)} is not computed "
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


#: Nodes of a cycle an error names before "… and N more".
CYCLE_SHOWN = 6


def _cycle(graph, done: set[int]) -> str:
    """One cycle among the nodes left over by the topological sort, as a few node names."""
    writer = {name: i for i, node in enumerate(graph.node) for name in node.output if name}
    stuck = [i for i in range(len(graph.node)) if i not in done]
    path, seen, i = [], {}, stuck[0]
    while i not in seen:  # follow a stuck producer; a stuck node always has one
        seen[i] = len(path)
        path.append(i)
        i = next(writer[n] for n in _reads(graph.node[i])
                 if n in writer and writer[n] not in done)
    loop = list(reversed(path[seen[i]:] + [i]))
    names = [printable(graph.node[j].name, 40) if graph.node[j].name
             else f"#{j} {printable(graph.node[j].op_type, 40)}" for j in loop[:CYCLE_SHOWN]]
    more = len(loop) - 1 - CYCLE_SHOWN
    return " → ".join(names) + (f" → … and {more:,} more nodes" if more > 0 else "")


def input_dims(model, path: str = "") -> list[Any]:
    """The image input's dims [N, C, H, W]: numbers, or the names of dynamic dims."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(printable(v.name, 40) for v in inputs[:CYCLE_SHOWN]) + \
            (", …" if len(inputs) > CYCLE_SHOWN else "")
        raise CostModelError(f"{path}: the graph has {len(inputs)} inputs "
                             f"({names}); costmodel counts networks with one image input")
    dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) != 4:
        raise CostModelError(f"{path}: the input {_quoted(inputs[0].name)} has {len(dims)} "
                             f"dimensions; costmodel counts images, N×C×H×W")
    if not isinstance(dims[1], int):
        raise CostModelError(f"{path}: the input's channel count is dynamic "
                             f"('{printable(dims[1])}'); "
                             "costmodel needs it fixed in the file")
    if not 1 <= dims[1] <= MAX_SIDE:
        raise CostModelError(f"{path}: the input's channel count is {dims[1]:,}; costmodel "
                             f"counts images of 1 to {MAX_SIDE:,} channels")
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
                             f"{fixed[1]}×{height}×{width}: {printable(_first_line(exc), 200)}") \
            from None
