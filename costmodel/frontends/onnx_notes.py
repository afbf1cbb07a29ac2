"""The notes an ONNX network carries: what was read, what was not counted and why, and how
the file's weights were counted. `costmodel summary` prints them under the table."""

from __future__ import annotations

from collections import Counter

from ..core.network import Layer
from ..core.warnings import CostWarning
from ..safe_io import printable
from .onnx_bounds import text


#: How many shared tensors a note names before "and N more".
SHOWN = 4


def _listed(counter: Counter) -> str:
    return ", ".join(f"{name} ×{count}" for name, count in
                     sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def warnings(reader, layers: list[Layer]) -> tuple[CostWarning, ...]:
    """One warning per op type with no costmodel formula, most frequent first; and one for
    batch norms the exporter folded into convolutions (the params then differ from the
    module's torch-convention params)."""
    found = [CostWarning("uncounted", printable(op), count,
                         "no costmodel formula; the next layer reads past them")
             for op, count in sorted(reader.uncounted.items(),
                                     key=lambda item: (-item[1], item[0]))]
    if reader.folded_bn:
        names = tuple(layers[i].name for i in reader.folded_bn)
        found.append(CostWarning(
            "params_differ", "BatchNormalization", len(names),
            f"{len(names)} BatchNormalization layers look folded by the exporter into the Conv before them "
            "(torch.onnx.export's default), so the params here (both conventions) are the "
            "module's paper-convention params plus C per folded BN (the fused bias), not its "
            "torch-convention params (2·C per BN); export with dynamo=False, "
            "training=torch.onnx.TrainingMode.PRESERVE to keep the BN nodes; folded into: "
            + ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more"
                                          if len(names) > SHOWN else ""), names))
    return tuple(found)


def notes(reader, layers: list[Layer]) -> tuple[str, ...]:
    """``reader`` is the translator (its counters); ``layers`` the named layers."""
    model, graph = reader.model, reader.graph
    image = layers[0].inputs[0] if layers else None
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), "?")
    made_by = f", made by {printable(text(model.producer_name), 40)} " \
        f"{printable(text(model.producer_version), 20)}".rstrip() if model.producer_name else ""
    out = [f"Read from the ONNX file {reader.path} (opset {opset}{made_by}) and counted at a "
           f"batch of 1 {_SAMPLE[image.rank]} of {'×'.join(map(str, (image.c, *image.sizes)))} "
           f"({'×'.join(('C', *_AXES[image.rank]))}): counts are per {_SAMPLE[image.rank]}."
           if image is not None else f"Read from the ONNX file {reader.path}."]
    if layers:
        out.append("Params are the tensors the file holds: an export keeps only what its "
                   "forward pass reads, so the parameters of modules that pass never calls (an "
                   "auxiliary classifier in eval mode, as Inception v3's AuxLogits) are not in "
                   "it; count_torch counts them, as parameters() holds them.")
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


#: The spatial axes' names by rank, as messages write an input's layout.
_AXES = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}
_SAMPLE = {1: "sequence", 2: "image", 3: "clip"}
