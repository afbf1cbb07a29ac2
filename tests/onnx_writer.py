"""Tests only: write a costmodel Network as an ONNX graph with onnx.helper, one or a few
standard ONNX nodes per layer, as an exporter would (a Flatten before an FC layer, Clip for
ReLU6, Reshape-Transpose-Reshape for a channel shuffle, Slice for a channel split).

It knows nothing of the reader: the reader's counts of these files are checked against the
spec's own counts, and ONNX's shape inference checks every shape independently. Weights are
stored as external data that is never written (``external=True``) so that even VGG-16 is a
small file: costmodel reads the dims, not the values.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from costmodel.core.ops import OPS, REQUIRED

#: The ops this writer writes as several ONNX nodes of its own making (the others it writes
#: as their one ONNX op type).
_COMPOSED = frozenset({"adaptivepool", "swish"})
#: Ops with no ONNX op type of their own that this writer does not compose: the newer
#: networks' (layer norm, linear over tokens, GELU, attention, layout moves...), whose ONNX
#: reading tests/test_onnx_modern.py checks on torch's own exports instead.
NOT_WRITTEN = frozenset(name for name, op in OPS.items()
                        if not op.onnx.types and name not in _COMPOSED)


def onnx_readable(network) -> bool:
    """Whether this writer can write every layer of ``network`` as ONNX the reader reads
    back: the zoo models the hand-written ONNX round trips cover (ConvNeXt, MobileViT and ViT
    go through torch's exporter in tests/test_onnx_modern.py)."""
    return not any(layer.op in NOT_WRITTEN for layer in network.layers)


def _tensor(name: str, dims: list[int], external: bool) -> TensorProto:
    if not external:
        return numpy_helper.from_array(np.zeros(dims, dtype=np.float32), name)
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims,
                         data_location=TensorProto.EXTERNAL)
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "weights.bin"
    return tensor


def _ints(name: str, values: list[int]) -> TensorProto:
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def _pair(value) -> list[int]:
    """A 2-D attribute per axis: 3 -> [3, 3], (1, 7) -> [1, 7]."""
    return list(value) if isinstance(value, tuple) else [value, value]


def network_to_onnx(network, dynamic: bool = False, external: bool = True,
                    opset: int = 17) -> onnx.ModelProto:
    """``network`` (numeric) as an ONNX model with input "input" of 1×C×H×W (H and W named
    dims with ``dynamic``)."""
    nodes, inits = [], []
    rank = {"input": 4}
    c, h, w = (int(v) for v in (network.input.c, network.input.h, network.input.w))

    def const(tensor: TensorProto) -> str:
        inits.append(tensor)
        return tensor.name

    for layer in network.layers:
        a = {name: default for name, default in OPS[layer.op].attrs if default is not REQUIRED}
        a.update({key: value for key, value in layer.attrs})
        a = {key: tuple(map(int, value)) if isinstance(value, tuple)  # per axis: k=1x7
             else int(value) if value is not None and getattr(value, "is_Integer", True)
             else value for key, value in a.items()}
        x = [s for s in layer.sources]
        xin, out, name = layer.inputs[0], layer.name, layer.name
        cin = int(xin.c)
        rank[out] = 4
        if layer.op in ("conv", "dw", "pw"):
            if layer.op == "dw":
                a.update(c=a["m"] * cin, g=cin)
            if layer.op == "pw":
                a.update(k=1, s=1, p=0, d=1)
            k, s, d, g = _pair(a["k"]), _pair(a["s"]), _pair(a["d"]), a["g"]
            p = [di * (ki - 1) // 2 for di, ki in zip(d, k)] if a["p"] is None else _pair(a["p"])
            inputs = [x[0], const(_tensor(f"{name}.weight", [a["c"], cin // g, *k], external))]
            if a["bias"]:
                inputs.append(const(_tensor(f"{name}.bias", [a["c"]], external)))
            nodes.append(helper.make_node("Conv", inputs, [out], name=name, kernel_shape=k,
                                          strides=s, pads=p * 2, dilations=d, group=g))
        elif layer.op == "fc":
            source = x[0]
            if rank[source] == 4:
                nodes.append(helper.make_node("Flatten", [source], [f"{name}.flat"], axis=1))
                source = f"{name}.flat"
            features = int(xin.numel)
            inputs = [source, const(_tensor(f"{name}.weight", [a["c"], features], external))]
            if a["bias"]:
                inputs.append(const(_tensor(f"{name}.bias", [a["c"]], external)))
            nodes.append(helper.make_node("Gemm", inputs, [out], name=name, transB=1))
            rank[out] = 2
        elif layer.op == "bn":
            params = [const(_tensor(f"{name}.{p}", [cin], external))
                      for p in ("weight", "bias", "running_mean", "running_var")]
            nodes.append(helper.make_node("BatchNormalization", [x[0], *params], [out],
                                          name=name))
            rank[out] = rank[x[0]]
        elif layer.op in ("maxpool", "avgpool"):
            s = a["k"] if a["s"] is None else a["s"]
            nodes.append(helper.make_node("MaxPool" if layer.op == "maxpool" else "AveragePool",
                                          [x[0]], [out], name=name, kernel_shape=[a["k"]] * 2,
                                          strides=[s] * 2, pads=[a["p"]] * 4,
                                          ceil_mode=a["ceil"]))
        elif layer.op == "adaptivepool":
            k = int(xin.h) // a["size"]
            nodes.append(helper.make_node("AveragePool", [x[0]], [out], name=name,
                                          kernel_shape=[k, k], strides=[k, k]))
        elif layer.op == "shuffle":
            g = a["g"]
            split = const(_ints(f"{name}.split_shape", [1, g, cin // g, int(xin.h), int(xin.w)]))
            back = const(_ints(f"{name}.shape", [1, cin, int(xin.h), int(xin.w)]))
            nodes += [helper.make_node("Reshape", [x[0], split], [f"{name}.5d"]),
                      helper.make_node("Transpose", [f"{name}.5d"], [f"{name}.t"],
                                       perm=[0, 2, 1, 3, 4]),
                      helper.make_node("Reshape", [f"{name}.t", back], [out], name=name)]
        elif layer.op == "split":
            bounds = [const(_ints(f"{name}.{key}", [v])) for key, v in
                      (("starts", 0), ("ends", a["c"]), ("axes", 1))]
            nodes.append(helper.make_node("Slice", [x[0], *bounds], [out], name=name))
        elif layer.op == "relu6":
            low, high = (const(numpy_helper.from_array(np.array(v, dtype=np.float32),
                                                       f"{name}.{key}"))
                         for key, v in (("min", 0.0), ("max", 6.0)))
            nodes.append(helper.make_node("Clip", [x[0], low, high], [out], name=name))
            rank[out] = rank[x[0]]
        elif layer.op == "swish":
            nodes += [helper.make_node("Sigmoid", [x[0]], [f"{name}.sigmoid"]),
                      helper.make_node("Mul", [x[0], f"{name}.sigmoid"], [out], name=name)]
        else:
            onnx_op, extra = {
                "relu": ("Relu", {}), "sigmoid": ("Sigmoid", {}), "hswish": ("HardSwish", {}),
                "hsigmoid": ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
                "gap": ("GlobalAveragePool", {}), "dropout": ("Dropout", {}),
                "lrn": ("LRN", {"size": a.get("size", 5)}), "add": ("Sum", {}),
                "concat": ("Concat", {"axis": 1}), "mul": ("Mul", {}),
            }.get(layer.op) or (OPS[layer.op].onnx.reads[0], {})  # an op read as it is
            if layer.op == "add" and len(x) == 2:
                onnx_op = "Add"
            nodes.append(helper.make_node(onnx_op, x, [out], name=name, **extra))
            rank[out] = rank[x[0]]
    last = network.layers[-1].name
    dims = [1, c, "H", "W"] if dynamic else [1, c, h, w]
    graph = helper.make_graph(
        nodes, network.name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, [None] * rank[last])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                             producer_name="costmodel tests")
