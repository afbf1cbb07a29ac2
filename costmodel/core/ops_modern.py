"""The newer networks' per-element and resampling ops, each one definition (as core/ops.py):
layer, group and RMS norms, GELU and softmax, learned tensors used directly (layer scale,
class token, position embedding, a held table), transposed convolution, nearest and bilinear
upsampling and pixel shuffle.

The counting rule is core/ops.py's: ``macs`` are multiply-accumulates of convolutions and
contractions only (a transposed convolution's, as torch's FlopCounterMode counts them: one
per input position, input channel, output channel per group and kernel tap); norms,
activations, scales and resampling are ``elementwise`` work no paper counts as MACs.
Learned parameters that cannot be folded into a neighbouring layer at inference (a norm over
tokens, a layer scale, a class token or a position embedding) are ``weights``: the papers
count them (ViT-B/16's 86.6M and ConvNeXt-T's 28.6M include them), unlike batch norm's.
"""

from __future__ import annotations

from ..errors import CostModelError
from sympy import floor

from .op_parts import (onnx_not_read, onnx_read,
    activation, check_divides, check_spatial, known, modern_form, module_form, on_features,
    product, unary_torch, window_kind)
from .opdef import ZERO, Counts, Memory, Onnx, Result, Shape, Torch, attr, op, per_axis

_NEW_BUFFER = Memory()


# --- norms ---------------------------------------------------------------------------------

def _affine(inputs, attrs) -> dict:
    """The elements a norm's learned scale multiplies (0 without one): the affine work some
    tools count on top of the normalization."""
    x = inputs[0]
    return {"affine": x.numel if attrs.get("affine") else ZERO}


@op("layernorm", attr("affine", "flag", 1), attr("bias", "flag", 1),
    category="normalization", display="layernorm",
    torch=Torch("nn.LayerNorm", modern_form("layer_norm"), ("F.layer_norm",)),
    onnx=onnx_read("LayerNormalization (opset 17), or ReduceMean, Sub, Pow, Sqrt, Div",
                   "LayerNormalization over the last axis as this op (not the older chain)"),
    memory=_NEW_BUFFER, quantities=_affine)
def layer_norm(x: Shape, affine, bias) -> Result:
    """Layer norm over the features (``c``, the last axis) of each token or position:
    ``nn.LayerNorm(C)``. No MACs. Params = C (scale) + C (shift) with ``affine`` (C with
    ``bias=0``). Elementwise (4 + affine)·numel: mean, subtract, variance, divide, then the
    affine multiply-add."""
    on_features(x, "layernorm")
    return Result(x, Counts(elementwise=(4 + affine) * x.numel,
                            weights=affine * x.c * (1 + bias), activations=x.numel))


@op("groupnorm", attr("g", "positive int"), attr("affine", "flag", 1),
    category="normalization", display="groupnorm",
    torch=Torch("nn.GroupNorm", modern_form("group_norm"), ("F.group_norm",)),
    onnx=Onnx((), note="exporters write InstanceNormalization between two Reshapes, then "
                       "Mul and Add (not read as a group norm)"),
    memory=_NEW_BUFFER, quantities=_affine)
def group_norm(x: Shape, g, affine) -> Result:
    """Group norm of a channels-first map, ``g`` groups of C/g channels: ``nn.GroupNorm(g,
    C)``. No MACs. Params = 2·C with ``affine``. Elementwise (4 + affine)·numel."""
    if x.layout != "first":
        raise CostModelError(f"groupnorm reads channels first (N×C×…); this input {x} is "
                             "channels last")
    check_divides(g, x.c, "normalized")
    return Result(x, Counts(elementwise=(4 + affine) * x.numel, weights=2 * affine * x.c,
                            activations=x.numel))


@op("rmsnorm", attr("affine", "flag", 1), category="normalization", display="rmsnorm",
    torch=Torch("nn.RMSNorm", modern_form("rms_norm"), ("F.rms_norm",)),
    onnx=Onnx((), note="exporters write Pow, ReduceMean, Add, Sqrt, Reciprocal and Mul (not "
                       "read as an RMS norm)"),
    memory=_NEW_BUFFER, quantities=_affine)
def rms_norm(x: Shape, affine) -> Result:
    """RMS norm over the features (the last axis): x / sqrt(mean(x²) + eps) · scale,
    ``nn.RMSNorm(C)``. No MACs. Params = C with ``affine``. Elementwise (3 + affine)·numel."""
    on_features(x, "rmsnorm")
    return Result(x, Counts(elementwise=(3 + affine) * x.numel, weights=affine * x.c,
                            activations=x.numel))


# --- activations -----------------------------------------------------------------------------

activation("gelu", 1, unary_torch("nn.GELU", "F.gelu"),
           onnx_read("Gelu (opset 20), or Div, Erf, Add, Mul, Mul"))
activation("tanh", 1, unary_torch("nn.Tanh", "torch.tanh", "F.tanh", "Tensor.tanh"),
           Onnx(("Tanh",), reads=("Tanh",)))  # MaxViT's head: LayerNorm, Linear, Tanh, Linear


def _sums(inputs, attrs) -> dict:
    """The adds of a softmax's normalizing sums: (C − 1) per position."""
    x = inputs[0]
    return {"sums": (x.c - 1) * x.positions}


@op("softmax", category="activation", display="softmax",
    torch=Torch("nn.Softmax", modern_form("softmax"), ("F.softmax", "torch.softmax",
                                                         "Tensor.softmax"),
                {"F.softmax": modern_form("softmax_function")}),
    onnx=onnx_read("Softmax"), memory=Memory(alias="fused"), quantities=_sums)
def softmax(x: Shape) -> Result:
    """Softmax over the channels (``dim=1`` of a channels-first map, the last axis of
    tokens): an exp and a divide per element and C − 1 adds per position, no MACs.
    Elementwise = 2·numel + (C − 1)·positions."""
    return Result(x, Counts(elementwise=2 * x.numel + (x.c - 1) * x.positions,
                            activations=x.numel), "softmax")


# --- learned tensors used directly ------------------------------------------------------------

@op("layerscale", category="element-wise", display="layerscale",
    torch=Torch("*", modern_form("layer_scale")), onnx=onnx_read("Mul by an initializer"),
    memory=_NEW_BUFFER)
def layer_scale(x: Shape) -> Result:
    """A learned scale per channel, ``gamma * x`` (ConvNeXt, CaiT, MobileNetV4's hybrids):
    no MACs (one multiply per element, elementwise). Params = C."""
    return Result(x, Counts(elementwise=x.numel, weights=x.c, activations=x.numel))


@op("cls_token", attr("tokens", "positive int", 1), category="data movement", display="cls_token",
    torch=Torch("torch.cat", modern_form("class_token")), onnx=onnx_read("Expand and Concat"),
    memory=_NEW_BUFFER)
def class_token(x: Shape, tokens) -> Result:
    """``tokens`` learned tokens put before a token sequence (ViT's class token, one): L →
    L + tokens. No MACs. Params = tokens·D."""
    if x.layout != "last" or x.rank != 1:
        raise CostModelError(f"cls_token prepends tokens to a token sequence (N×L×D); this "
                             f"input {x} is channels first: write tokens before it")
    out = Shape(x.c, (x.sizes[0] + tokens,), layout="last")
    return Result(out, Counts(weights=tokens * x.c, activations=out.numel))


@op("pos_embed", category="element-wise", display="pos_embed",
    torch=Torch("+", modern_form("position_embedding")),
    onnx=onnx_read("Add of an initializer"),
    memory=_NEW_BUFFER)
def position_embedding(x: Shape) -> Result:
    """A learned tensor of the input's shape added to it (ViT's position embedding): no MACs,
    one add per element. Params = numel (L·D for L tokens of D features)."""
    return Result(x, Counts(elementwise=x.numel, weights=x.numel, activations=x.numel))


@op("parameter", attr("elements", "positive int"), category="free view", display="parameter",
    torch=Torch("nn.Parameter", modern_form("parameters")),
    onnx=Onnx((), note="an initializer no node reads, or one read by a node not counted"),
    memory=Memory(alias="always"))
def parameter(x: Shape, elements) -> Result:
    """``elements`` learned numbers held where no formula computes with them (a relative-position
    table read inside attention, a module never called in this forward pass: GoogLeNet's
    auxiliary heads). The input passes through. No MACs. Params = elements."""
    return Result(x, Counts(weights=elements), "parameter")


# --- transposed convolution -------------------------------------------------------------------

def _as_conv(inputs, attrs) -> dict:
    """What tools that read a transposed convolution another way count: ``as_conv``, a
    convolution of the same kernel over the *output* positions, out·(C/g)·c·K (thop's
    count_convNd); ``dense_taps``, out·c·Cin·K with groups ignored and c/g in place of Cin
    where c = Cin (torchprofile's aten::_convolution handler reads the weight's first two
    axes as a convolution's); ``groups_twice``, in·C·⌊(c/g)/g⌋·K (calflops divides the
    weight's c/g output channels by the groups again)."""
    x = inputs[0]
    c, g = attrs["c"], attrs["g"]
    out = _transposed(x, attrs["k"], attrs["s"], attrs["p"], attrs["op"], attrs["d"], c)
    taps = product(per_axis(attrs["k"], x.rank, "k"))
    per_group = c / g
    return {"as_conv": out.positions * (x.c / g) * c * taps,
            "dense_taps": out.numel * (per_group if c == x.c else x.c) * taps,
            "groups_twice": x.positions * x.c * floor(per_group / g) * taps}


def _transposed(x: Shape, k, s, p, output_padding, d, c) -> Shape:
    axes = [per_axis(v, x.rank, name) for v, name in
            ((k, "k"), (s, "s"), (p, "p"), (output_padding, "op"), (d, "d"))]
    sizes = tuple((size - 1) * si - 2 * pi + di * (ki - 1) + oi + 1
                  for size, ki, si, pi, oi, di in zip(x.sizes, *axes))
    return Shape(c, sizes)


_CONV_TRANSPOSE = Torch("nn.ConvTranspose2d", modern_form("conv_transpose"),
                        ("nn.ConvTranspose1d", "nn.ConvTranspose3d", "F.conv_transpose2d"))


@op("convtranspose", attr("c", "channels"), attr("k", "positive int", per_axis=True),
    attr("s", "positive int", 1, per_axis=True), attr("p", "count", 0, per_axis=True),
    attr("op", "count", 0, per_axis=True), attr("d", "positive int", 1, per_axis=True),
    attr("g", "positive int", 1), attr("bias", "flag", 0),
    category="multiply-accumulate", display="convtranspose", torch=_CONV_TRANSPOSE,
    onnx=onnx_not_read("ConvTranspose"), memory=Memory(stream="reducing"), quantities=_as_conv)
def conv_transpose(x: Shape, c, k, s, p, op, d, g, bias) -> Result:
    """Transposed convolution (``nn.ConvTranspose1d/2d/3d``): ``c`` output channels, kernel
    ``k``, stride ``s``, padding ``p``, output padding ``op``, dilation ``d``, ``g`` groups.
    Output side (n − 1)·s − 2p + d(k − 1) + op + 1. MACs = H·W·C·(c/g)·kh·kw over the
    *input* positions (each input value scattered through the kernel; torch's
    FlopCounterMode). Params = C·(c/g)·kh·kw (+ c with bias)."""
    if x.layout != "first":
        raise CostModelError(f"convtranspose reads channels first; this input {x} is "
                             "channels last")
    check_divides(g, x.c, "input")
    check_divides(g, c, "output")
    out = check_spatial(_transposed(x, k, s, p, op, d, c), "convtranspose")
    per_input = (c / g) * product(per_axis(k, x.rank, "k"))
    return Result(out, Counts(macs=x.numel * per_input, weights=x.c * per_input +
                              (c if bias else 0), activations=out.numel),
                  window_kind("convtranspose", k, x.rank))


# --- resampling -----------------------------------------------------------------------------

def _scaled(x: Shape, s, what: str) -> Shape:
    if x.layout != "first":
        raise CostModelError(f"{what} reads channels first; this input {x} is channels last")
    return Shape(x.c, tuple(size * factor for size, factor in
                            zip(x.sizes, per_axis(s, x.rank, "s"))))


@op("upsample_nearest", attr("s", "positive int", 2, per_axis=True),
    category="data movement", display="upsample",
    torch=Torch("nn.Upsample", modern_form("upsample_nearest"),
                ("F.interpolate", "nn.UpsamplingNearest2d"),
                {"F.interpolate": modern_form("interpolate_nearest")}),
    onnx=onnx_not_read("Resize"), memory=_NEW_BUFFER)
def upsample_nearest(x: Shape, s) -> Result:
    """Nearest-neighbour upsampling by a whole factor ``s`` per axis: each value copied s²
    times (s per axis), no arithmetic."""
    out = _scaled(x, s, "upsample_nearest")
    return Result(out, Counts(activations=out.numel))


@op("upsample_bilinear", attr("s", "positive int", 2, per_axis=True),
    attr("align", "flag", 0), category="pooling", display="upsample",
    torch=Torch("nn.Upsample", modern_form("upsample_bilinear"),
                ("F.interpolate", "nn.UpsamplingBilinear2d"),
                {"F.interpolate": modern_form("interpolate_bilinear")}),
    onnx=onnx_not_read("Resize"), memory=_NEW_BUFFER)
def upsample_bilinear(x: Shape, s, align) -> Result:
    """Bilinear upsampling of an image by a whole factor ``s`` (``align`` = 1 for
    ``align_corners=True``): each output a weighted sum of 4 inputs, no MACs counted (4
    elementwise operations per output element)."""
    if x.rank != 2:
        raise CostModelError(f"upsample_bilinear is for images (H×W); this input {x} has "
                             f"{x.rank} spatial axes")
    out = _scaled(x, s, "upsample_bilinear")
    return Result(out, Counts(elementwise=4 * out.numel, activations=out.numel))


@op("pixelshuffle", attr("r", "positive int"), category="data movement",
    display="pixelshuffle",
    torch=Torch("nn.PixelShuffle", module_form("nn.PixelShuffle", "r"), ("F.pixel_shuffle",)),
    onnx=onnx_not_read("DepthToSpace"), memory=_NEW_BUFFER)
def pixel_shuffle(x: Shape, r) -> Result:
    """Pixel shuffle (sub-pixel convolution's rearrangement): C×H×W → C/r²×rH×rW, no
    arithmetic."""
    if x.layout != "first" or x.rank != 2:
        raise CostModelError(f"pixelshuffle rearranges a channels-first image; got {x}")
    if known(x.c) and known(r) and (x.c / (r * r)).is_integer is False:
        raise CostModelError(f"pixelshuffle r={r} needs channels divisible by {r * r}, got "
                             f"{x.c}")
    out = Shape(x.c / (r * r), (x.sizes[0] * r, x.sizes[1] * r))
    return Result(out, Counts(activations=out.numel))

