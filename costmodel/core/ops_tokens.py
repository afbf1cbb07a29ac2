"""Token tensors: the linear layer over the last axis and the free data movements between a
channels-first map and tokens, each one definition (as core/ops.py).

A token tensor is a :class:`~costmodel.core.opdef.Shape` of the last layout (its docstring
says how each is written): ``channels_last`` and ``channels_first`` permute a map between
N×C×H×W and N×H×W×C, ``merge_positions`` flattens the spatial axes into one sequence,
``window`` cuts a map into k×k windows (Swin, MaxViT's block attention) or a k×k grid
(MaxViT's grid attention), ``unwindow`` puts them back, ``select`` keeps the first tokens
(ViT's class-token readout). None of them computes anything: no tool counts a permute, view,
reshape or index (fvcore lists aten::permute, view, reshape among its ignored ops; the hook
tools see no module).
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import CostModelError
from .op_parts import onnx_read, known, modern_form, on_features, product
from .opdef import Counts, Memory, Onnx, Result, Shape, Torch, attr, op, per_axis

_VIEW = Memory(alias="fused")  # a view, or a copy a fused kernel never makes


@op("linear", attr("c", "channels"), attr("bias", "flag", 1),
    category="multiply-accumulate", display="linear",
    torch=Torch("nn.Linear", modern_form("token_linear"), ("F.linear",)),
    onnx=onnx_read("MatMul (or Gemm) of tokens by an initializer, and Add"),
    memory=Memory(stream="reducing"))
def linear(x: Shape, c, bias) -> Result:
    """A linear layer over the last axis of any tensor (``nn.Linear(C, c)`` on N×L×C or
    N×H×W×C): each of the positions' C features to ``c`` outputs. MACs = positions·C·c.
    Params = C·c (+ c with bias); bias adds are not counted."""
    on_features(x, "linear")
    out = Shape(c, x.sizes, layout=x.layout)
    return Result(out, Counts(macs=x.numel * c, weights=x.c * c + (c if bias else 0),
                              activations=out.numel), "linear")


def _permute_torch(factory: str) -> Torch:
    return Torch("Tensor.permute", modern_form(factory),
                 ("torch.permute", "Tensor.transpose", "Tensor.movedim"))


@op("channels_last", category="data movement", display="permute",
    torch=_permute_torch("to_channels_last"), onnx=onnx_read("Transpose"), memory=_VIEW)
def channels_last(x: Shape) -> Result:
    """N×C×H×W → N×H×W×C (``x.permute(0, 2, 3, 1)``): the same values, channels last, for
    the linear layers and norms that read the last axis. No arithmetic."""
    if x.layout != "first":
        raise CostModelError(f"channels_last: this input {x} is channels last already")
    return Result(replace(x, producer="", layout="last"), Counts(activations=x.numel))


@op("channels_first", category="data movement", display="permute",
    torch=_permute_torch("to_channels_first"), onnx=onnx_read("Transpose"), memory=_VIEW)
def channels_first(x: Shape) -> Result:
    """N×H×W×C → N×C×H×W (``x.permute(0, 3, 1, 2)``), for the convolutions that read
    channels first. No arithmetic."""
    if x.layout != "last":
        raise CostModelError(f"channels_first: this input {x} is channels first already")
    return Result(replace(x, producer="", layout="first"), Counts(activations=x.numel))


@op("merge_positions", category="data movement", display="reshape",
    torch=Torch("Tensor.flatten", modern_form("merge_positions"),
                ("torch.flatten", "Tensor.reshape", "Tensor.view")),
    onnx=onnx_read("Reshape or Flatten"), memory=_VIEW)
def merge_positions(x: Shape) -> Result:
    """The spatial axes as one sequence of H·W positions, in either layout (``x.flatten(2)``
    of N×C×H×W, ViT's patches before their transpose to tokens). No arithmetic."""
    out = Shape(x.c, (x.positions,), layout=x.layout)
    return Result(out, Counts(activations=x.numel))


def _window_torch() -> Torch:
    return Torch("WindowPartition", modern_form("window"),
                 ("Tensor.view", "Tensor.permute", "Tensor.reshape"))


@op("window", attr("k", "positive int"), attr("grid", "flag", 0),
    category="data movement", display="window", torch=_window_torch(),
    onnx=Onnx((), note="exporters write Reshape and Transpose (free data movement)"),
    memory=Memory())
def window(x: Shape, k, grid) -> Result:
    """An H×W map (either layout) as (H/k)·(W/k) windows of k×k tokens, channels last:
    ``Shape(C, (nW, k²), "last")`` (Swin's ``window_partition``, MaxViT's block attention).
    With ``grid=1`` one sequence per offset within the k×k cells instead, of the positions
    k apart: k² sequences of (H/k)·(W/k) tokens, ``Shape(C, (k², nW), "last")`` (MobileViT's
    unfolding into k×k patches; MaxViT's grid attention of grid G is k = H/G). Attention
    then runs within each sequence. No arithmetic."""
    if x.rank != 2:
        raise CostModelError(f"window cuts an image (H×W) into windows; this input {x} has "
                             f"{x.rank} spatial axes")
    for side in x.sizes:
        if known(side) and known(k) and (side / k).is_integer is False:
            raise CostModelError(f"window k={k} does not divide the map's side {side} (pad the "
                                 "map first, as Swin does)")
    count = x.positions / (k * k)
    sizes = (k * k, count) if grid else (count, k * k)
    return Result(Shape(x.c, sizes, layout="last"), Counts(activations=x.numel))


@op("unwindow", attr("size", "positive int", per_axis=True), attr("grid", "flag", 0),
    category="data movement", display="window",
    torch=Torch("WindowMerge", modern_form("unwindow"),
                ("Tensor.view", "Tensor.permute", "Tensor.reshape")),
    onnx=Onnx((), note="exporters write Reshape and Transpose (free data movement)"),
    memory=Memory())
def unwindow(x: Shape, size, grid) -> Result:
    """Windows (or a grid, ``grid=1``) back to the H×W map they came from, ``size=HxW``
    (``Shape(C, (H, W), "last")``; Swin's ``window_reverse``). No arithmetic."""
    h, w = per_axis(size, 2, "size")
    if x.layout != "last" or x.rank != 2:
        raise CostModelError(f"unwindow reads windows (N×nW×k²×C); got {x}")
    if known(x.positions) and known(h * w) and x.positions != h * w:
        raise CostModelError(f"unwindow size={h}x{w} holds {h * w} positions, the windows "
                             f"{x} hold {x.positions}")
    return Result(Shape(x.c, (h, w), layout="last"), Counts(activations=x.numel))


@op("select", attr("tokens", "positive int", 1), category="data movement", display="select",
    torch=Torch("SelectTokens", modern_form("select"), ("[]",)),
    onnx=onnx_read("Gather or Slice", "them as free data movement"), memory=_VIEW)
def select(x: Shape, tokens) -> Result:
    """The first ``tokens`` tokens of each sequence (``x[:, 0]``: ViT's class token read out
    for the head). No arithmetic."""
    if x.layout != "last":
        raise CostModelError(f"select keeps tokens of a token sequence; this input {x} is "
                             "channels first")
    if known(tokens) and known(x.sizes[-1]) and tokens > x.sizes[-1]:
        raise CostModelError(f"select tokens={tokens} of {x.sizes[-1]}")
    out = Shape(x.c, (*x.sizes[:-1], tokens), layout="last")
    return Result(out, Counts(activations=out.numel))


def tokens_of(x: Shape) -> tuple:
    """(batch, sequence) of a tensor attention runs over: in the last layout the last size
    is the sequence and the sizes before it independent batches of it (windows, heads); a
    channels-first map attends over all its positions."""
    if x.layout == "last":
        return product(x.sizes[:-1]), (x.sizes[-1] if x.sizes else 1)
    return 1, x.positions
