"""Dotted layer names for the nodes of an ONNX graph.

Exporters record where a node came from in two ways, and both give the PyTorch module path
(``features.3.conv.0``), which is what a user recognises:

* torch.onnx's dynamo exporter stores ``pkg.torch.onnx.name_scopes`` in each node's
  metadata: ``['', 'features', 'features.3', 'features.3.conv', 'conv2d_4']``, module paths
  then the op;
* the TorchScript exporter names nodes ``/features/features.3/conv/conv.0/Conv``: one
  segment per module, a ``Sequential``'s child repeating its parent's name.

Other files keep their node names, made into plain dotted names. A module that gives one layer
is named by its path; a module that gives several (a block's ``forward`` with an add and a
ReLU) names each ``path.op``.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

from ..limits import MAX_ONNX_METADATA_CHARS

_SCOPES = "pkg.torch.onnx.name_scopes"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


#: Longest layer name made from a file's name: a longer one keeps its start and a digest of
#: the whole (so it stays unique), short enough for a table and for a spec file's names.
LONGEST = 120


def clean(text: str) -> str:
    """A plain dotted name: other characters become ``_``; no empty segments; at most
    :data:`LONGEST` characters."""
    parts = [part.strip("_") for part in _UNSAFE.sub("_", text).split(".")]
    name = ".".join(part for part in parts if part)
    if len(name) > LONGEST:
        import hashlib

        digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]
        name = f"{name[:LONGEST - 11].rstrip('._')}_{digest}"
    return name


#: Ops whose second input is a module's weight, stored as "<module path>.weight" by torch.
_WEIGHTED = ("Conv", "Gemm", "MatMul", "BatchNormalization")


def scope(node, index: int) -> tuple[str, str]:
    """(module path, op leaf) of a node; the path is empty where the file does not say.

    A weighted node whose weight is named ``<path>.weight`` is at that path: the surest
    source, as an exporter that folds a batch norm into a conv records the norm's scope on the
    fused node but keeps the conv's weight name."""
    if node.op_type in _WEIGHTED and len(node.input) > 1 and node.input[1].endswith(".weight"):
        path = clean(node.input[1][:-len(".weight")])
        if path and path == node.input[1][:-len(".weight")]:
            return path, node.op_type.lower()
    for prop in node.metadata_props:
        if prop.key == _SCOPES:
            # the file's text, parsed as literals only, and only when it is short: a 10 MB
            # list would take gigabytes of syntax tree
            if not isinstance(prop.value, str) or len(prop.value) > MAX_ONNX_METADATA_CHARS:
                break
            try:
                scopes = ast.literal_eval(prop.value)  # a list of strings; literals only
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                break
            if isinstance(scopes, list) and scopes and all(isinstance(s, str) for s in scopes):
                path = next((s for s in reversed(scopes[:-1]) if s), "")
                return clean(path), clean(scopes[-1]) or node.op_type.lower()
            break
    if node.name.startswith("/"):
        segments = [s for s in node.name.split("/") if s]
        path, last = "", ""
        for segment in segments[:-1]:
            if last and segment.startswith(last + "."):
                path += segment[len(last):]  # Sequential child: "features", "features.0"
            else:
                path = f"{path}.{segment}" if path else segment
            last = segment
        return clean(path), clean(segments[-1].lower()) if segments else node.op_type.lower()
    return "", clean(node.name) or f"{node.op_type.lower()}{index}"


def final_names(scopes: list[tuple[str, str]]) -> list[str]:
    """One unique dotted name per layer, from each layer's (module path, op leaf)."""
    per_path = Counter(path for path, _ in scopes)
    names = [path if path and per_path[path] == 1 else
             f"{path}.{leaf}" if path else leaf for path, leaf in scopes]
    seen: Counter = Counter()
    unique = []
    for name in names:
        seen[name] += 1
        unique.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    taken = set(unique)
    if len(taken) != len(unique):  # a generated "x_2" met a real one: number them all
        unique = [f"{name}_{i}" for i, name in enumerate(unique)]
    return unique
