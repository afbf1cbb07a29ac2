"""The sizes of an ONNX file, checked before any work on its graph.

A parsed ``ModelProto`` is data from anywhere: a million nodes, a name of a megabyte, an
attribute of a million ints, graphs nested inside If bodies inside Loop bodies. Each is
bounded here (limits in :mod:`costmodel.limits`, named in the error) before the graph is
checked, shape-inferred or translated, so that every later step's work is bounded too. Every
string the later steps print or compare (names, op types, domains, string attributes) must
also be UTF-8 text: protobuf hands over the raw bytes of one that is not, and such a name is
refused here, naming where it is, rather than failing later.
"""

from __future__ import annotations

from .. import limits
from ..errors import CostModelError
from ..safe_io import printable


def text(value) -> str:
    """A string field as printable-safe text: protobuf gives ``bytes`` for a string that is
    not UTF-8; those bytes are shown escaped, never decoded as something else."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _where(node, index: int, graph_path: str) -> str:
    name = node.name if isinstance(node.name, str) else ""
    shown = printable(name) if name else f"#{index}"
    return f"node {shown} ({printable(text(node.op_type))}){graph_path}"


def _name(value, what: str, path: str) -> None:
    if isinstance(value, bytes):
        raise CostModelError(f"{path}: {what} is not UTF-8 text ({printable(text(value))}); "
                             "the file is damaged or not from an ONNX exporter")
    if len(value) > limits.MAX_ONNX_NAME_CHARS:
        raise CostModelError(f"{path}: {what} has {len(value):,} characters, more than the "
                             f"{limits.MAX_ONNX_NAME_CHARS:,} allowed (limit MAX_ONNX_NAME_CHARS): "
                             f"{printable(value)}")


def _attribute(attribute, where: str, path: str, pending: list, depth: int) -> None:
    import onnx

    _name(attribute.name, f"an attribute name of {where}", path)
    what = f"attribute {printable(attribute.name)} of {where}"
    count = len(attribute.ints) + len(attribute.floats) + len(attribute.strings) + \
        len(attribute.tensors) + len(attribute.graphs)
    if count > limits.MAX_ONNX_ATTRIBUTE_VALUES:
        raise CostModelError(f"{path}: {what} holds {count:,} values, more than the "
                             f"{limits.MAX_ONNX_ATTRIBUTE_VALUES:,} allowed (limit "
                             "MAX_ONNX_ATTRIBUTE_VALUES)")
    for value in (attribute.s, *attribute.strings):
        if len(value) > limits.MAX_ONNX_ATTRIBUTE_BYTES:
            raise CostModelError(f"{path}: {what} holds a string of {len(value):,} bytes, more "
                                 f"than the {limits.MAX_ONNX_ATTRIBUTE_BYTES:,} allowed (limit "
                                 "MAX_ONNX_ATTRIBUTE_BYTES)")
    if attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
        if depth + 1 > limits.MAX_ONNX_GRAPH_DEPTH:
            raise CostModelError(f"{path}: {what} nests graphs {depth + 1} deep, more than the "
                                 f"{limits.MAX_ONNX_GRAPH_DEPTH} allowed (limit "
                                 "MAX_ONNX_GRAPH_DEPTH)")
        pending.extend((graph, depth + 1, where) for graph in
                       ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs))


def check_bounds(model, path: str) -> int:
    """Refuse a model beyond the limits (see the module docstring); returns its node count,
    subgraphs included."""
    pending = [(model.graph, 1, "")]
    nodes = 0
    while pending:
        graph, depth, inside = pending.pop()
        graph_path = f" in a subgraph of {inside}" if inside else ""
        nodes += len(graph.node)
        if nodes > limits.MAX_ONNX_NODES:
            raise CostModelError(f"{path}: the graph has more than {limits.MAX_ONNX_NODES:,} "
                                 f"nodes (limit MAX_ONNX_NODES; the layer-spec language stops "
                                 f"at {limits.MAX_LAYERS:,} layers)")
        for kind, values in (("graph input", graph.input), ("graph output", graph.output),
                             ("value_info", graph.value_info)):
            for value in values:
                _name(value.name, f"a {kind} name{graph_path}", path)
        for tensor in graph.initializer:
            _name(tensor.name, f"an initializer name{graph_path}", path)
        for index, node in enumerate(graph.node):
            _name(node.name, f"the name of node #{index}{graph_path}", path)
            _name(node.op_type, f"the op type of node #{index}{graph_path}", path)
            _name(node.domain, f"the domain of node #{index}{graph_path}", path)
            where = _where(node, index, graph_path)
            for tensor in (*node.input, *node.output):
                _name(tensor, f"a tensor name of {where}", path)
            for attribute in node.attribute:
                _attribute(attribute, where, path, pending, depth)
    return nodes
