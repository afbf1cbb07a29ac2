"""The notes an ONNX network carries: what was read, what was not counted and why, and how
the file's weights were counted. `costmodel summary` prints them under the table."""

from __future__ import annotations

from collections import Counter

from ..core.network import Layer
from ..core.warnings import CostWarning


#: How many shared tensors a note names before "and N more".
SHOWN = 4


def _listed(counter: Counter) -> str:
    return ", ".join(f"{name} ×{count}" for name, count in
                     sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def warnings(reader) -> tuple[CostWarning, ...]:
    """One warning per op type with no costmodel formula, most frequent first."""
    from ..safe_io import printable

    return tuple(CostWarning("uncounted", printable(op), count,
                             "no costmodel formula; the next layer reads past them")
                 for op, count in sorted(reader.uncounted.items(),
                                         key=lambda item: (-item[1], item[0])))


def notes(reader, layers: list[Layer]) -> tuple[str, ...]:
    """``reader`` is the translator (its counters); ``layers`` the named layers."""
    model, graph = reader.model, reader.graph
    image = layers[0].inputs[0] if layers else None
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), "?")
    made_by = f", made by {model.producer_name} {model.producer_version}".rstrip() \
        if model.producer_name else ""
    out = [f"Read from the ONNX file {reader.path} (opset {opset}{made_by}) and counted at a "
           f"batch of 1 image of {image.c}×{image.h}×{image.w} (C×H×W): counts are per image."
           if image is not None else f"Read from the ONNX file {reader.path}."]
    if reader.structural:
        out.append(f"Constants and shape computations (no arithmetic on feature maps, not "
                   f"counted): {_listed(reader.structural)}.")
    bn = sum(layer.op == "bn" for layer in layers)
    if bn:
        out.append(f"{bn} BatchNormalization nodes: their scale and shift are norm params "
                   "(2·C each, in the torch convention's params, not the paper's); running "
                   "mean and variance are buffers, not parameters.")
    if any(layer.op == "conv" and dict(layer.attrs).get("bias") for layer in layers):
        out.append("Conv biases are counted as the file has them (C params each, in both "
                   "conventions): where the exporter folded a batch norm into the preceding "
                   "Conv, its shift is that bias, not BN scale and shift (2·C, torch "
                   "convention only).")
    if reader.shared:
        items = list(reader.shared.items())
        shared = "; ".join(f"{tensor} ({', '.join(layers[i].name for i in users)})"
                           for tensor, users in items[:SHOWN])
        more = f"; and {len(items) - SHOWN} more" if len(items) > SHOWN else ""
        saved = sum((reader.numel(tensor) or 0) * (len(users) - 1) for tensor, users in items)
        out.append(f"Tensors read by several nodes are counted once, at the first ({saved:,} "
                   f"params fewer than counting every use): {shared}{more}.")
    if reader.computed:
        out.append("Weights computed in the graph from constants (not stored as initializers) "
                   "are counted at their full size, as the layers use them: "
                   f"{', '.join(layers[i].name for i in reader.computed)}.")
    if reader.folded_bias:
        out.append("MatMul followed by an Add of a constant vector is one FC layer with bias: "
                   f"{', '.join(layers[i].name for i in reader.folded_bias)}.")
    if reader.same_padding_varies:
        out.append("Some strided layers pad with auto_pad SAME: their padding depends on the "
                   "input size and was computed for this one.")
    return tuple(out)
