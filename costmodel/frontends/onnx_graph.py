"""Read and check an ONNX file (the ``model.onnx`` SPEC is :mod:`.onnx_file`).

The file is read as data (``onnx`` parses the protobuf; nothing in it is executed), checked,
given its input size and shape-inferred with ``onnx.shape_inference``; :mod:`.onnx_translate`
then turns it node by node into an ordinary :class:`~costmodel.core.network.Network` whose
layers use the formulas of :mod:`costmodel.core.ops` (the translation is in :mod:`.onnx_ops`).
Nodes costmodel has no formula for are listed by name and count in the network's notes, never
silently dropped.

The checks, each ending in one :class:`~costmodel.errors.CostModelError` line: the file
is a regular file of at most :data:`MAX_BYTES` (read through ``safe_io.read_bounded``); it
parses as an ONNX ``ModelProto`` with a graph and an opset (else "not an ONNX file", or
"truncated" when it starts as one) and has nodes; its sizes are within the limits
(:mod:`.onnx_bounds`); every tensor a node
reads is provided by a graph input, an initializer or another node; the graph has no cycle;
``onnx.checker`` accepts it (for a file over :data:`CHECKER_BYTES` or with external data,
each node alone); shape inference succeeds at the chosen input size.
"""

from __future__ import annotations

import math
from typing import Any

from .. import limits
from ..errors import CostModelError
from ..safe_io import printable, read_bounded
from .onnx_bounds import check_bounds, text
from .onnx_einsum import MalformedEquation, split_equation

#: Protobuf cannot hold a message over 2 GiB; larger models keep their weights as external
#: data, which costmodel does not need (it reads shapes, not weight values).
MAX_BYTES = limits.MAX_ONNX_BYTES
#: Files up to this size are also run through ``onnx.checker`` (it walks every weight).
CHECKER_BYTES = 64 * 2**20
#: Initializers with more elements than this are kept as dims only (see read_model): no
#: larger constant is ever folded.
VALUES_KEPT = limits.MAX_ONNX_CONSTANT_VALUES
#: The largest input side: ONNX stores dims as 64-bit integers, and H×W must fit in one.
MAX_SIDE = 2**31 - 1


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
    _check_equations(graph, path)


def _check_equations(graph, path: str) -> None:
    """Every Einsum's equation is one ONNX allows (:mod:`.onnx_einsum`), checked before
    onnx's checker and shape inference read it (one of them hangs on a malformed one), in
    the subgraphs of If and Loop too (their nesting is bounded by :mod:`.onnx_bounds`)."""
    for index, node in enumerate(graph.node):
        for attribute in node.attribute:
            for subgraph in (*([attribute.g] if attribute.HasField("g") else []),
                             *attribute.graphs):
                _check_equations(subgraph, path)
        if node.op_type != "Einsum" or node.domain not in ("", "ai.onnx"):
            continue
        found = [a for a in node.attribute if a.name == "equation"]
        equation = found[0].s if found and found[0].type == found[0].STRING else None
        try:
            split_equation(equation, len(node.input), [None] * len(node.input))
        except MalformedEquation as exc:
            shown = printable(limits.excerpt(text(equation or b'')), 80)
            raise CostModelError(f"{path}: node {_label(node, index)}: {exc} ('{shown}'); "
                                 "refused") from None


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
    """The image input's dims [N, C, H, W] ([N, C, L], [N, C, T, H, W]): numbers, or the
    names of dynamic dims."""
    initializers = {tensor.name for tensor in model.graph.initializer}
    inputs = [value for value in model.graph.input if value.name not in initializers]
    if len(inputs) != 1:
        names = ", ".join(printable(v.name, 40) for v in inputs[:CYCLE_SHOWN]) + \
            (", …" if len(inputs) > CYCLE_SHOWN else "")
        raise CostModelError(f"{path}: the graph has {len(inputs)} inputs "
                             f"({names}); costmodel counts networks with one image input")
    dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in inputs[0].type.tensor_type.shape.dim]
    if not 3 <= len(dims) <= 5:
        raise CostModelError(f"{path}: the input {_quoted(inputs[0].name)} has {len(dims)} "
                             f"dimensions; costmodel counts images, N×C×H×W (sequences "
                             f"N×C×L, video N×C×T×H×W)")
    if not isinstance(dims[1], int):
        raise CostModelError(f"{path}: the input's channel count is dynamic "
                             f"('{printable(dims[1])}'); "
                             "costmodel needs it fixed in the file")
    if not 1 <= dims[1] <= MAX_SIDE:
        raise CostModelError(f"{path}: the input's channel count is {dims[1]:,}; costmodel "
                             f"counts images of 1 to {MAX_SIDE:,} channels")
    return dims


def infer_shapes(model, path: str, sizes: tuple[int, ...]):
    """A copy of ``model`` with the input set to 1×C×``sizes`` (H, W for an image) and every
    tensor's shape inferred by ``onnx.shape_inference`` (with data propagation, so that shapes
    computed by Shape/Gather/Concat chains are known)."""
    import onnx

    inferred = onnx.ModelProto()
    inferred.CopyFrom(model)
    graph = inferred.graph
    initializers = {tensor.name for tensor in graph.initializer}
    image = next(v for v in graph.input if v.name not in initializers)
    dims = image.type.tensor_type.shape.dim
    fixed = input_dims(model, path)
    wanted = [1, fixed[1], *sizes]
    if fixed != wanted:
        # a new input size: the file's recorded intermediate and output shapes no longer hold
        del graph.value_info[:]
        for output in graph.output:
            output.type.tensor_type.ClearField("shape")
    for dim, value in zip(dims, wanted):
        dim.Clear()
        dim.dim_value = value
    try:
        return onnx.shape_inference.infer_shapes(inferred, check_type=False, strict_mode=True,
                                                 data_prop=True)
    except Exception as exc:  # onnx raises InferenceError and a few others  # noqa: BLE001
        raise CostModelError(f"{path}: ONNX shape inference fails at input "
                             f"{'×'.join(map(str, wanted[1:]))}: "
                             f"{printable(_first_line(exc), 200)}") \
            from None
