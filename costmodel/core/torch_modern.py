"""The PyTorch side of the newer ops (core/ops_modern.py, ops_tokens.py, ops_attention.py):
the modules and functional forms ``to_torch`` writes for norms, token mixers, attention,
learned tensors, transposed convolutions and resampling.

Imported only by their factories, when ``to_torch`` runs (as :mod:`.torch_forms`). Each
factory takes a ``LayerInfo`` (frontends/torch_build.py). A tensor of the last layout
(core/opdef.py ``Shape``) is held as N×…×C, every size of the shape in order: a token
sequence N×L×D, a channels-last map N×H×W×C, windows N×nW×k²×C.

Modules here that compute one op as a unit (:class:`SelfAttention`, :class:`MultiQueryAttention2d`,
:class:`WindowPartition`...) carry ``costmodel_op``: ``count_torch`` reads such a module as
that op (frontends/torch_modern_rules.py) instead of tracing into it.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _shape(info: Any):
    return info.layer.inputs[0]


def _sizes(shape) -> tuple[int, ...]:
    return tuple(int(s) for s in shape.sizes)


# --- norms and activations ----------------------------------------------------------------

def layer_norm(info: Any) -> nn.Module:
    a = info.attrs
    return nn.LayerNorm(int(_shape(info).c), elementwise_affine=bool(a["affine"]),
                        bias=bool(a["bias"]))


def layer_norm_function(info: Any):
    width = int(_shape(info).c)
    return lambda x: F.layer_norm(x, (width,))


def group_norm(info: Any) -> nn.Module:
    return nn.GroupNorm(info.attrs["g"], info.cin, affine=bool(info.attrs["affine"]))


def rms_norm(info: Any) -> nn.Module:
    return nn.RMSNorm(int(_shape(info).c), elementwise_affine=bool(info.attrs["affine"]))


def _channel_dim(info: Any) -> int:
    return -1 if _shape(info).layout == "last" else 1


def softmax(info: Any) -> nn.Module:
    return nn.Softmax(dim=_channel_dim(info))


def softmax_function(info: Any):
    dim = _channel_dim(info)
    return lambda x: F.softmax(x, dim)


# --- learned tensors used directly ---------------------------------------------------------

class LayerScale(nn.Module):
    """A learned scale per channel, ``gamma * x`` (ConvNeXt's and CaiT's layer scale)."""

    def __init__(self, channels: int, last: bool):
        super().__init__()
        self.gamma = nn.Parameter(torch.full((channels,) if last else (channels, 1, 1), 1e-6))

    def forward(self, x: Tensor) -> Tensor:
        return self.gamma * x


def layer_scale(info: Any) -> nn.Module:
    shape = _shape(info)
    if shape.layout != "last" and shape.rank != 2:
        raise ValueError(f"layer {info.layer.name}: layerscale on a channels-first map of "
                         f"{shape.rank} axes")
    return LayerScale(int(shape.c), shape.layout == "last")


class ClassToken(nn.Module):
    """``n`` learned tokens put before the sequence (ViT's class token): torchvision's
    ``torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)``."""

    def __init__(self, n: int, width: int):
        super().__init__()
        self.class_token = nn.Parameter(torch.zeros(1, n, width))

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.class_token.expand(x.shape[0], -1, -1), x], dim=1)


def class_token(info: Any) -> nn.Module:
    return ClassToken(info.attrs["tokens"], int(_shape(info).c))


class PositionEmbedding(nn.Module):
    """A learned tensor of the input's shape added to it (ViT's position embedding)."""

    def __init__(self, sizes: tuple[int, ...]):
        super().__init__()
        self.pos_embedding = nn.Parameter(torch.zeros(1, *sizes))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.pos_embedding


def position_embedding(info: Any) -> nn.Module:
    shape = _shape(info)
    sizes = _sizes(shape)
    return PositionEmbedding((*sizes, int(shape.c)) if shape.layout == "last"
                             else (int(shape.c), *sizes))


class Parameters(nn.Module):
    """``n`` learned numbers held and not computed with here (a relative-position table read
    by attention elsewhere, a module that is never called): the input passes through."""

    costmodel_op = "parameter"

    def __init__(self, n: int):
        super().__init__()
        self.values = nn.Parameter(torch.zeros(n))

    def forward(self, x: Tensor) -> Tensor:
        return x


def parameters(info: Any) -> nn.Module:
    return Parameters(info.attrs["elements"])


# --- transposed convolution, resampling ----------------------------------------------------

def _rank(info: Any) -> int:
    return _shape(info).rank


def conv_transpose(info: Any) -> nn.Module:
    a = info.attrs
    kind = getattr(nn, f"ConvTranspose{_rank(info)}d")
    return kind(info.cin, a["c"], a["k"], a["s"], a["p"], a["op"], a["g"], bool(a["bias"]),
                a["d"])


def upsample_nearest(info: Any) -> nn.Module:
    return nn.Upsample(scale_factor=info.attrs["s"], mode="nearest")


def upsample_bilinear(info: Any) -> nn.Module:
    return nn.Upsample(scale_factor=info.attrs["s"], mode="bilinear",
                       align_corners=bool(info.attrs["align"]))


def interpolate_nearest(info: Any):
    factor = info.attrs["s"]
    return lambda x: F.interpolate(x, scale_factor=factor, mode="nearest")


def interpolate_bilinear(info: Any):
    factor, align = info.attrs["s"], bool(info.attrs["align"])
    return lambda x: F.interpolate(x, scale_factor=factor, mode="bilinear",
                                   align_corners=align)


# --- layouts and token mixing --------------------------------------------------------------

def token_linear(info: Any) -> nn.Module:
    return nn.Linear(int(_shape(info).c), info.attrs["c"], bias=bool(info.attrs["bias"]))


class Permute(nn.Module):
    """torchvision's ``ops.misc.Permute``: ``torch.permute(x, dims)``."""

    def __init__(self, dims: list[int]):
        super().__init__()
        self.dims = dims

    def forward(self, x: Tensor) -> Tensor:
        return torch.permute(x, self.dims)


def to_channels_last(info: Any) -> nn.Module:
    rank = _rank(info)
    return Permute([0, *range(2, rank + 2), 1])


def to_channels_first(info: Any) -> nn.Module:
    rank = _rank(info)
    return Permute([0, rank + 1, *range(1, rank + 1)])


class MergePositions(nn.Module):
    """The spatial axes as one (H×W → H·W), in either layout: ``x.flatten(2)`` for N×C×H×W,
    ``x.flatten(1, -2)`` for N×H×W×C."""

    def __init__(self, last: bool):
        super().__init__()
        self.last = last

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(1, -2) if self.last else x.flatten(2)


def merge_positions(info: Any) -> nn.Module:
    return MergePositions(_shape(info).layout == "last")


class WindowPartition(nn.Module):
    """An H×W map, N×H×W×C (or N×C×H×W), as N×nW×k²×C: non-overlapping k×k windows
    (Swin, MaxViT's block attention), or with ``grid`` N×k²×nW×C: one sequence per offset within
    the k×k cells, of the positions k apart (MobileViT's unfolding into k×k patches; MaxViT's
    grid attention of grid G is k = H/G). The sizes are the layer's (no arithmetic on
    traced sizes, which torch.jit would record as multiplications)."""

    costmodel_op = "window"

    def __init__(self, k: int, grid: bool, last: bool, h: int, w: int):
        super().__init__()
        self.k, self.grid, self.last, self.h, self.w = k, grid, last, h, w

    def forward(self, x: Tensor) -> Tensor:
        if not self.last:
            x = x.permute(0, 2, 3, 1)
        k, rows, cols = self.k, self.h // self.k, self.w // self.k
        c = x.shape[-1]
        if self.grid:
            x = x.reshape(-1, rows, k, cols, k, c).permute(0, 2, 4, 1, 3, 5)
            return x.reshape(-1, k * k, rows * cols, c)
        x = x.reshape(-1, rows, k, cols, k, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(-1, rows * cols, k * k, c)


def window(info: Any) -> nn.Module:
    shape = _shape(info)
    h, w = _sizes(shape)
    return WindowPartition(info.attrs["k"], bool(info.attrs["grid"]), shape.layout == "last",
                           h, w)


class WindowMerge(nn.Module):
    """The inverse of :class:`WindowPartition`: N×nW×k²×C (or the grid's N×k²×nW×C) back to
    N×H×W×C."""

    costmodel_op = "unwindow"

    def __init__(self, h: int, w: int, k: int, grid: bool):
        super().__init__()
        self.h, self.w, self.k, self.grid = h, w, k, grid

    def forward(self, x: Tensor) -> Tensor:
        k, rows, cols = self.k, self.h // self.k, self.w // self.k
        c = x.shape[-1]
        if self.grid:
            x = x.reshape(-1, k, k, rows, cols, c).permute(0, 3, 1, 4, 2, 5)
        else:
            x = x.reshape(-1, rows, cols, k, k, c).permute(0, 1, 3, 2, 4, 5)
        return x.reshape(-1, self.h, self.w, c)


def unwindow(info: Any) -> nn.Module:
    size = info.attrs["size"]
    h, w = size if isinstance(size, tuple) else (size, size)
    shape = _shape(info)
    windows, per_window = _sizes(shape)
    per_window = windows if info.attrs["grid"] else per_window
    return WindowMerge(h, w, math.isqrt(per_window), bool(info.attrs["grid"]))


class SelectTokens(nn.Module):
    """The first ``n`` tokens of the sequence, ``x[:, :n]`` (``x[:, 0]`` for n = 1: ViT's
    class-token readout)."""

    costmodel_op = "select"

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x: Tensor) -> Tensor:
        return x[:, 0] if self.n == 1 else x[:, :self.n]


def select(info: Any) -> nn.Module:
    return SelectTokens(info.attrs["tokens"])


# --- attention ---------------------------------------------------------------------------

class MatMul(nn.Module):
    """``a @ b`` of two inputs."""

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return torch.matmul(a, b)


def matmul_module(info: Any) -> nn.Module:
    return MatMul()


def matmul_function(info: Any):
    return torch.matmul


class Attention(nn.Module):
    """``F.scaled_dot_product_attention(q, k, v)`` of three inputs."""

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        return F.scaled_dot_product_attention(q, k, v)


def attention_module(info: Any) -> nn.Module:
    return Attention()


def attention_function(info: Any):
    return F.scaled_dot_product_attention


class SelfAttention(nn.Module):
    """``nn.MultiheadAttention`` over the sequence, as torchvision's ViT encoder calls it
    (``self_attention(x, x, x, need_weights=False)``): the last size of a token tensor,
    every position of a channels-first map."""

    costmodel_op = "mhsa"

    def __init__(self, width: int, heads: int, bias: bool, last: bool):
        super().__init__()
        self.last = last
        self.attention = nn.MultiheadAttention(width, heads, bias=bias, batch_first=True)

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape
        if self.last:
            x = x.reshape(-1, shape[-2], shape[-1])
        else:
            x = x.flatten(2).transpose(1, 2)
        x, _ = self.attention(x, x, x, need_weights=False)
        if self.last:
            return x.reshape(shape)
        return x.transpose(1, 2).reshape(shape)


def self_attention(info: Any) -> nn.Module:
    shape = _shape(info)
    return SelfAttention(int(shape.c), info.attrs["heads"], bool(info.attrs["bias"]),
                         shape.layout == "last")


class MultiQueryAttention2d(nn.Module):
    """MobileNetV4's Mobile MQA (timm ``layers/attention2d.py`` ``MultiQueryAttention2d``,
    without query strides): ``heads`` query heads of ``key_dim`` by a 1×1 conv, one shared
    key and one shared value head (1×1 convs to ``key_dim`` and ``value_dim``), with
    ``kv_stride`` > 1 each first down-sampled by a k×k stride-s depthwise conv and a BN; the
    heads concatenated and projected by a 1×1 conv to ``c`` channels."""

    costmodel_op = "mqa"

    def __init__(self, dim: int, c: int, heads: int, key_dim: int, value_dim: int,
                 kv_stride: int, k: int):
        super().__init__()
        self.heads, self.key_dim, self.value_dim = heads, key_dim, value_dim
        self.kv_stride, self.k = kv_stride, k
        self.query = nn.Sequential()
        self.query.add_module("proj", nn.Conv2d(dim, heads * key_dim, 1, bias=False))
        for name, width in (("key", key_dim), ("value", value_dim)):
            path = nn.Sequential()
            if kv_stride > 1:
                padding = ((kv_stride - 1) + (k - 1)) // 2  # timm's symmetric default
                path.add_module("down_conv", nn.Conv2d(dim, dim, k, kv_stride, padding,
                                                       groups=dim, bias=False))
                path.add_module("norm", nn.BatchNorm2d(dim))
            path.add_module("proj", nn.Conv2d(dim, width, 1, bias=False))
            setattr(self, name, path)
        self.output = nn.Sequential()
        self.output.add_module("proj", nn.Conv2d(value_dim * heads, c, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        b, _, h, w = x.shape
        q = self.query(x).reshape(b, self.heads, self.key_dim, -1).transpose(-1, -2)
        k = self.key(x).flatten(2).transpose(1, 2).unsqueeze(1)
        v = self.value(x).flatten(2).transpose(1, 2).unsqueeze(1)
        # timm's path without fused attention (TIMM_FUSED_ATTN=0): the matmuls written out
        attn = (q * self.key_dim ** -0.5) @ k.transpose(-1, -2)
        o = attn.softmax(dim=-1) @ v  # b × heads × hw × value_dim
        o = o.transpose(1, 2).reshape(b, h, w, -1).permute(0, 3, 1, 2)
        return self.output(o)


def mqa(info: Any) -> nn.Module:
    a = info.attrs
    c = a["c"] if a["c"] is not None else info.cin
    return MultiQueryAttention2d(info.cin, c, a["heads"], a["key_dim"], a["value_dim"],
                                 a["kv_stride"], a["k"])
