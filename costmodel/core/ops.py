"""The primitives, each one definition: formula, attributes, category, PyTorch and ONNX
spellings, memory behaviour and display kind (the registry is :mod:`.opdef`).

Each formula is a pure function of its input shapes and attributes. The counting rule is
written down here and nowhere else:

* ``macs``: multiply-accumulates of convolutions and fully connected layers; one fused
  multiply-add is 1 MAC = 2 FLOPs. This is what the papers call "FLOPs" or "Mult-Adds".
* ``elementwise``: the other arithmetic (batch norm, activations, pooling, adds), one per
  output element and window position. The papers do not count it; a convention may.
* ``weights``: conv/FC weights and biases. ``norm_params``: batch-norm scale and shift, which
  PyTorch lists among ``parameters()`` but the papers fold away.
* ``activations``: elements of the output feature map.

Which of these a reported number includes is decided by a :mod:`~costmodel.core.conventions`
entry (a rule per category of op), not here. Adding an op is one ``@op(...)`` definition
here (or anywhere, for an experiment: :func:`~costmodel.core.opdef.registered`); the README's
"Adding an op" shows one.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Expr, Integer

from ..errors import CostModelError, InputTooSmall
from .opdef import (  # noqa: F401  (the registry's names, as every module imports them)
    DOMAINS, OPS, REQUIRED, ZERO, Attr, Counts, Memory, Onnx, OpDef, Result, Shape, Torch,
    activations, apply, attr, category_of, definition_of, in_domain, op, ops_in, per_axis,
    registered, unregister, with_defaults, written_value)


from .op_parts import (  # noqa: F401  (shared with the newer op modules; old names kept)
    activation, check_divides as _check_divides, check_spatial as _check_spatial,
    form as _form, function_form as _function, known as _known, module_form as _module,
    out_size, product as _product, same_padding, unary_torch, window_kind as _window_kind,
    windowed as _windowed)


# --- convolutions ---------------------------------------------------------------------------

_CONV_TORCH = Torch("nn.Conv2d", _form("conv"))  # count_torch: torch_rules.conv_layer


@op("conv", attr("c", "channels"), attr("k", "positive int", per_axis=True),
    attr("s", "positive int", 1, per_axis=True), attr("p", "padding", None, per_axis=True),
    attr("d", "positive int", 1, per_axis=True),
    attr("g", "positive int", 1), attr("bias", "flag", 0),
    category="multiply-accumulate", display="conv", torch=_CONV_TORCH, onnx=Onnx(("Conv",)),
    memory=Memory(stream="reducing"))
def conv(x: Shape, c, k, s, p, d, g, bias) -> Result:
    """Convolution over any number of spatial axes (Conv1d/2d/3d), ``c`` output channels,
    kernel ``k`` (one size, or one per axis: ``k=1x7``), stride ``s``, padding ``p`` (default
    ``d(k-1)/2``, "same" for odd k), dilation ``d``, ``g`` groups, bias 0/1.

    MACs = H'·W'·c·(C/g)·kh·kw (over T'·H'·W' and kt·kh·kw for a 3-D one). Params =
    c·(C/g)·kh·kw (+ c with bias). Bias adds are not counted.
    """
    _check_divides(g, x.c, "input")
    _check_divides(g, c, "output")
    p = same_padding(k, d, x.rank) if p is None else p
    out = _check_spatial(_windowed(x, c, k, s, p, d),
                         f"conv k={written_value(k)} s={written_value(s)}")
    per_output = (x.c / g) * _product(per_axis(k, x.rank, "k"))
    depthwise = g != 1 and g == x.c  # also when both are the same symbolic width
    kind = _window_kind("conv dw" if depthwise else "conv" if g == 1 else "gconv", k, x.rank)
    return Result(out, Counts(macs=out.numel * per_output,
                              weights=c * per_output + (c if bias else 0),
                              activations=out.numel), kind)


@op("dw", attr("k", "positive int", 3, per_axis=True), attr("s", "positive int", 1, per_axis=True),
    attr("p", "padding", None, per_axis=True), attr("d", "positive int", 1, per_axis=True),
    attr("m", "positive int", 1), attr("bias", "flag", 0),
    category="multiply-accumulate", display="conv dw", torch=_CONV_TORCH,
    onnx=Onnx(("Conv",)), memory=Memory(stream="per-channel"))
def depthwise(x: Shape, k, s, p, d, m, bias) -> Result:
    """Depthwise convolution: one ``k``×``k`` filter per channel (``m`` per channel with a
    depth multiplier), i.e. ``conv`` with g = C and c = m·C. MACs = H'·W'·m·C·k²."""
    return conv(x, c=m * x.c, k=k, s=s, p=p, d=d, g=x.c, bias=bias)


@op("pw", attr("c", "channels"), attr("g", "positive int", 1), attr("bias", "flag", 0),
    category="multiply-accumulate", display="conv 1x1", torch=_CONV_TORCH,
    onnx=Onnx(("Conv",)), memory=Memory(stream="reducing"))
def pointwise(x: Shape, c, g, bias) -> Result:
    """Pointwise (1x1) convolution, optionally grouped: ``conv`` with k = 1.
    MACs = H·W·c·C/g."""
    return conv(x, c=c, k=1, s=1, p=0, d=1, g=g, bias=bias)


@op("fc", attr("c", "channels"), attr("bias", "flag", 1),
    category="multiply-accumulate", display="fc",
    torch=Torch("nn.Linear", _form("linear")), onnx=Onnx(("Gemm", "MatMul")),
    memory=Memory(stream="reducing"))
def fully_connected(x: Shape, c, bias) -> Result:
    """Fully connected layer on the flattened input (C·H·W features) to ``c`` outputs
    (a c×1×1 map, as many axes as its input). MACs = C·H·W·c. Params = C·H·W·c (+ c with
    bias)."""
    features = x.numel
    out = Shape(c, (Integer(1),) * x.rank)
    return Result(out, Counts(macs=features * c, weights=features * c + (c if bias else 0),
                              activations=c), "fc")


# --- pooling --------------------------------------------------------------------------------

def _pool(x: Shape, k, s, p, ceil, kind: str) -> Result:
    s = k if s is None else s
    out = _check_spatial(_windowed(x, x.c, k, s, p, 1, bool(ceil)),
                         f"{kind} k={written_value(k)} s={written_value(s)}")
    window = _product(per_axis(k, x.rank, "k"))
    return Result(out, Counts(elementwise=out.numel * window, activations=out.numel),
                  _window_kind(kind, k, x.rank))


_WINDOW = (attr("k", "positive int", per_axis=True), attr("s", "positive int", None, per_axis=True),
           attr("p", "padding", 0, per_axis=True), attr("ceil", "flag", 0))
_PER_CHANNEL = Memory(stream="per-channel")


@op("maxpool", *_WINDOW, category="pooling", display="maxpool",
    torch=Torch("nn.MaxPool2d", _form("max_pool"), ("F.max_pool2d",),
                {"F.max_pool2d": _form("max_pool_function")}),
    onnx=Onnx(("MaxPool",)), memory=_PER_CHANNEL)
def max_pool(x: Shape, k, s, p, ceil) -> Result:
    """Max pooling over ``k``×``k`` windows, stride ``s`` (default ``k``), ``ceil`` = 1 for
    Caffe-style ceil rounding of the output size. No MACs: K² comparisons per output."""
    return _pool(x, k, s, p, ceil, "maxpool")


@op("avgpool", *_WINDOW, category="pooling", display="avgpool",
    torch=Torch("nn.AvgPool2d", _form("avg_pool"), ("F.avg_pool2d",),
                {"F.avg_pool2d": _form("avg_pool_function")}),
    onnx=Onnx(("AveragePool",)), memory=_PER_CHANNEL)
def avg_pool(x: Shape, k, s, p, ceil) -> Result:
    """Average pooling, as ``maxpool``. Not counted as MACs (K² adds per output)."""
    return _pool(x, k, s, p, ceil, "avgpool")


@op("gap", category="pooling", display="gap",
    torch=Torch("nn.AdaptiveAvgPool2d", _form("global_pool"),
                ("F.adaptive_avg_pool2d", "Tensor.mean"),
                {"F.adaptive_avg_pool2d": _form("global_pool_function"),
                 "Tensor.mean": _form("mean_function")}),  # count_torch: torch_rules.adaptive
    onnx=Onnx(("GlobalAveragePool", "ReduceMean"), reads=("GlobalAveragePool",)),
    memory=_PER_CHANNEL)
def global_avg_pool(x: Shape) -> Result:
    """Global average pooling to 1×1. Not counted as MACs (H·W adds per channel)."""
    return Result(Shape(x.c, (Integer(1),) * x.rank),
                  Counts(elementwise=x.numel, activations=x.c), "gap")


@op("adaptivepool", attr("size", "positive int", per_axis=True), category="pooling", display="adaptivepool",
    torch=Torch("nn.AdaptiveAvgPool2d", _form("adaptive_pool"),
                ("F.adaptive_avg_pool2d",),
                {"F.adaptive_avg_pool2d": _form("adaptive_pool_function")}),
    onnx=Onnx((), note="exporters write an AveragePool (read as avgpool) or a "
                       "GlobalAveragePool for size 1"),
    memory=_PER_CHANNEL)
def adaptive_avg_pool(x: Shape, size) -> Result:
    """Adaptive average pooling to ``size``×``size`` (torchvision's VGG keeps its classifier
    input at 7×7 for any resolution this way). Not counted as MACs."""
    out = Shape(x.c, per_axis(size, x.rank, "size"))
    return Result(out, Counts(elementwise=x.numel, activations=out.numel), "adaptivepool")


# --- per-element ops ------------------------------------------------------------------------

@op("bn", category="normalization", display="bn",
    torch=Torch("nn.BatchNorm2d", _form("batch_norm"), ("nn.BatchNorm1d",)),
    onnx=Onnx(("BatchNormalization",)), memory=Memory(alias="always"))
def batch_norm(x: Shape) -> Result:
    """Batch norm. At inference it folds into the preceding conv, so the papers count neither
    its 2 ops per element nor its 2·C parameters (scale, shift); PyTorch lists the parameters."""
    return Result(x, Counts(elementwise=2 * x.numel, norm_params=2 * x.c,
                            activations=x.numel), "bn")


activation("relu", 1, unary_torch("nn.ReLU", "F.relu", "torch.relu", "Tensor.relu",
                                  "Tensor.relu_", inplace=True),
           Onnx(("Relu", "Clip"), reads=("Relu",)))
activation("relu6", 1, Torch("nn.ReLU6", _module("nn.ReLU6", inplace=True),
                             ("F.relu6", "nn.Hardtanh", "F.hardtanh"),
                             {"F.relu6": _function("F.relu6")},
                             reads=("nn.ReLU6", "F.relu6")),  # Hardtanh(0, 6): torch_rules
           Onnx(("Clip",)))
activation("sigmoid", 1, unary_torch("nn.Sigmoid", "torch.sigmoid", "F.sigmoid",
                                     "Tensor.sigmoid"),
           Onnx(("Sigmoid",), reads=("Sigmoid",)))
activation("hsigmoid", 1, unary_torch("nn.Hardsigmoid", "F.hardsigmoid"),
           Onnx(("HardSigmoid",), reads=("HardSigmoid",)))
activation("hswish", 2, unary_torch("nn.Hardswish", "F.hardswish"),
           Onnx(("HardSwish",), reads=("HardSwish",)))
activation("swish", 2, unary_torch("nn.SiLU", "F.silu"),
           Onnx((), note="exporters write a Sigmoid and a Mul"))


def _padded(inputs, attrs: dict[str, Any]) -> dict[str, Expr]:
    """The (C + n − 1)·H·W elements of the channel-padded map F.local_response_norm pools."""
    x = inputs[0]
    return {"padded": (x.c + attrs["size"] - 1) * x.positions}


@op("lrn", attr("size", "positive int", 5), category="normalization", display="lrn",
    torch=Torch("nn.LocalResponseNorm", _module("nn.LocalResponseNorm", "size")),
    onnx=Onnx(("LRN",)), quantities=_padded, memory=Memory())
def local_response_norm(x: Shape, size) -> Result:
    """Local response normalization (AlexNet, GoogLeNet). Not counted as MACs."""
    return Result(x, Counts(elementwise=size * x.numel, activations=x.numel), "lrn")


@op("dropout", category="free view", display="dropout",
    torch=Torch("nn.Dropout", _module("nn.Dropout"), ("nn.Dropout2d", "F.dropout", "F.dropout2d"),
                {"F.dropout": _form("dropout_function")},
                reads=("nn.Dropout", "nn.Dropout2d", "F.dropout", "F.dropout2d")),
    onnx=Onnx(("Dropout",), reads=("Dropout",)), memory=Memory(alias="always"))
def dropout(x: Shape) -> Result:
    """Dropout: the identity at inference."""
    return Result(x, Counts(activations=x.numel), "dropout")


@op("shuffle", attr("g", "positive int"), category="data movement", display="shuffle",
    torch=Torch("channel_shuffle", _module("nn.ChannelShuffle", "g"),
                ("nn.ChannelShuffle", "torch.channel_shuffle"),
                {"channel_shuffle": _form("shuffle_function")}),
    onnx=Onnx(("Reshape", "Transpose")), memory=_PER_CHANNEL)
def channel_shuffle(x: Shape, g) -> Result:
    """Channel shuffle (ShuffleNet): a permutation of channels, no arithmetic."""
    _check_divides(g, x.c, "shuffled")
    return Result(x, Counts(activations=x.numel), "shuffle")


@op("split", attr("c", "channels"), category="data movement", display="split",
    torch=Torch("Tensor.chunk", _form("channel_slice"),
                ("Tensor.split", "Tensor.narrow", "torch.chunk", "torch.split", "torch.narrow"),
                {"Tensor.chunk": _form("slice_function")}),
    onnx=Onnx(("Split", "Slice")), memory=Memory(alias="fused"))
def channel_split(x: Shape, c) -> Result:
    """Channel split (ShuffleNet v2): this branch takes ``c`` of the input channels (of
    tokens, ``c`` of the features: MaxViT's q, k and v chunks)."""
    if _known(c) and _known(x.c) and not 0 < c <= x.c:
        raise CostModelError(f"split takes {c} channels of a {x.c}-channel input")
    out = Shape(c, x.sizes, layout=x.layout)
    return Result(out, Counts(activations=out.numel), "split")


# --- merges of several inputs ---------------------------------------------------------------

def _same_spatial(xs: list[Shape], what: str) -> None:
    for other in xs[1:]:
        if other.sizes != xs[0].sizes:
            raise CostModelError(f"{what} needs equal spatial sizes, got "
                                 + " and ".join(str(x) for x in xs))


@op("add", inputs="many", category="element-wise", display="add",
    torch=Torch("+", _form("add_module"), ("+=", "torch.add", "Tensor.add", "Tensor.add_"),
                {"+": _form("add_function"), "+=": _form("iadd_function")}),
    onnx=Onnx(("Add", "Sum")), memory=Memory())
def add(xs: list[Shape]) -> Result:
    """Element-wise sum of branches of the same shape (residual connections)."""
    _same_spatial(xs, "add")
    if any(x.c != xs[0].c for x in xs[1:]):
        raise CostModelError("add needs equal channels, got " + " and ".join(map(str, xs)))
    return Result(xs[0], Counts(elementwise=(len(xs) - 1) * xs[0].numel,
                                activations=xs[0].numel), "add")


@op("concat", inputs="many", category="data movement", display="concat",
    torch=Torch("torch.cat", _form("concat_module"), ("torch.concat",),
                {"torch.cat": _form("concat_function")}),
    onnx=Onnx(("Concat",)), memory=Memory())
def concat(xs: list[Shape]) -> Result:
    """Concatenation of branches along channels (the features, the last axis, of tokens)."""
    _same_spatial(xs, "concat")
    out = Shape(sum((x.c for x in xs), ZERO), xs[0].sizes, layout=xs[0].layout)
    return Result(out, Counts(activations=out.numel), "concat")


@op("mul", inputs="many", category="element-wise", display="mul",
    torch=Torch("*", _form("mul_module"), ("torch.mul", "Tensor.mul", "Tensor.mul_"),
                {"*": _form("mul_function")}),
    onnx=Onnx(("Mul",)), memory=Memory())
def multiply(xs: list[Shape]) -> Result:
    """Element-wise product of a feature map and a per-channel gate (squeeze-excite),
    broadcast over 1×1 gates. Not counted as MACs."""
    full = max(xs, key=lambda x: 0 if all(side == 1 for side in x.sizes) else 1)
    if any(x.c != full.c for x in xs):
        raise CostModelError("mul needs equal channels, got " + " and ".join(map(str, xs)))
    return Result(full, Counts(elementwise=full.numel, activations=full.numel), "mul")


# --- the newer networks' ops, defined in their own modules (imported for their registration) --

from . import ops_attention, ops_modern, ops_tokens  # noqa: E402, F401
