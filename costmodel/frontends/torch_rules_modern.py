"""PyTorch modules → the newer ops (core/ops_modern.py, ops_tokens.py, ops_attention.py): the
rules ``count_torch`` reads norms, linear layers over tokens, attention, transposed
convolutions, resampling and costmodel's own modules (core/torch_modern.py) with, as
:mod:`.torch_rules` does for the classic ones (and in its terms: :class:`Value`,
:class:`Emit`, :class:`Alias`, :class:`Unsupported`), on the values of :mod:`.torch_tokens`.
The same ops called as functions and methods are read by :mod:`.torch_rules_tensors`.

Views and permutes of a last-layout tensor are free and need no layer: they alias a Value
read again from the output's size. The moves between layouts that ``to_torch`` writes as a
layer (``channels_last``, ``channels_first``, ``merge_positions``, ``select``, ``cls_token``)
are layers, so a spec's network reads back as itself.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from torch import nn

from ..core import torch_modern
from . import torch_rules as base
from .torch_rules import Emit, Unsupported, Value
from .torch_tokens import BATCH, channel_dim, features, is_last, last_view

# --- modules ----------------------------------------------------------------------------------

def linear(m: nn.Linear, x: Value) -> Emit | Unsupported:
    if len(x.size) == 2 and x.size[0] == BATCH.get():
        return base.MODULE_RULES[nn.Linear](m, x)
    if len(x.size) == 2:  # M rows of a batch N: M/N tokens per sample (RoIs of a box head)
        x = last_view(x)
    if not is_last(x):
        return Unsupported(f"Linear on a {len(x.size)}-d channels-first tensor (along its "
                           "last dimension, the map's width)")
    return Emit("linear", (x,), flag({"c": m.out_features}, "bias", m.bias is not None))


def flag(attrs: dict, key: str, on: bool, default: bool = True) -> dict:
    if on != default:
        attrs[key] = int(on)
    return attrs


def layer_norm(m: nn.LayerNorm, x: Value) -> Emit | Unsupported:
    y = features(x)
    if y is None or tuple(m.normalized_shape) != (x.size[-1],):
        return Unsupported(f"LayerNorm over {tuple(m.normalized_shape)} of a "
                           f"{'×'.join(map(str, x.size))} tensor (costmodel's layernorm "
                           "normalizes the features, the last axis, only)")
    attrs = flag({}, "affine", m.elementwise_affine)
    if m.elementwise_affine:
        flag(attrs, "bias", m.bias is not None)
    return Emit("layernorm", (y,), attrs)


def group_norm(m: nn.GroupNorm, x: Value) -> Emit | Unsupported:
    if is_last(x):
        return Unsupported("GroupNorm of a channels-last tensor")
    return Emit("groupnorm", (x,), flag({"g": m.num_groups}, "affine", m.affine))


def rms_norm(m: nn.RMSNorm, x: Value) -> Emit | Unsupported:
    y = features(x)
    if y is None or tuple(m.normalized_shape) != (x.size[-1],):
        return Unsupported(f"RMSNorm over {tuple(m.normalized_shape)}")
    return Emit("rmsnorm", (y,), flag({}, "affine", m.weight is not None))


def softmax(x: Value, dim: Any = None, *_: Any, **__: Any) -> Emit | Unsupported:
    if not isinstance(x, Value) or x.shape is None:
        return Unsupported("softmax of a non-tensor")
    if dim is None or not channel_dim(x, dim):
        if dim in (-1, len(x.size) - 1):  # the last axis of a tensor read channels first
            return Emit("softmax", (last_view(x),))
        return Unsupported(f"softmax over dimension {dim}")
    return Emit("softmax", (x,))


def self_attention(m: nn.MultiheadAttention, x: Value) -> Emit | Unsupported:
    if not m.batch_first or not m._qkv_same_embed_dim:
        return Unsupported("MultiheadAttention with batch_first=False or kdim/vdim of its "
                           "own (costmodel reads self-attention of N×L×D tokens)")
    if not is_last(x):
        x = last_view(x)
    return Emit("mhsa", (x,), flag({"heads": m.num_heads}, "bias", m.in_proj_bias is not None))


def conv_transpose(m: nn.modules.conv._ConvTransposeNd, x: Value) -> Emit | Unsupported:
    rank = x.shape.rank
    if len(m.kernel_size) != rank or isinstance(m.padding, str):
        return Unsupported("a transposed convolution of another rank or string padding")
    try:
        values = {key: base._axes(getattr(m, name), rank, name) for key, name in
                  (("k", "kernel_size"), ("s", "stride"), ("p", "padding"),
                   ("op", "output_padding"), ("d", "dilation"))}
    except base._NotPerAxis as exc:
        return Unsupported(str(exc))
    defaults = {"s": 1, "p": 0, "op": 0, "d": 1}
    attrs = {"c": m.out_channels, **{k: v for k, v in values.items() if defaults.get(k) != v}}
    if m.groups != 1:
        attrs["g"] = m.groups
    if m.bias is not None:
        attrs["bias"] = 1
    return Emit("convtranspose", (x,), attrs)


def upsample(x: Value, scale: Any, size: Any, mode: str, align: Any) -> Emit | Unsupported:
    if x.shape is None or is_last(x):
        return Unsupported("upsampling of a channels-last tensor")
    if scale is None and size is not None:
        sizes = size if isinstance(size, (tuple, list)) else [size] * x.shape.rank
        factors = [int(o) // int(i) if int(o) % int(i) == 0 else None
                   for o, i in zip(sizes, x.shape.sizes)]
        if None in factors:
            return Unsupported(f"upsampling to {tuple(sizes)}, not a whole factor")
        scale = tuple(factors)
    try:
        s = base._axes(scale if isinstance(scale, (tuple, list)) else int(scale),
                       x.shape.rank, "scale_factor")
    except (base._NotPerAxis, TypeError, ValueError) as exc:
        return Unsupported(f"upsampling by {scale}: {exc}")
    if mode == "nearest":
        return Emit("upsample_nearest", (x,), {} if s == 2 else {"s": s})
    if mode == "bilinear":
        attrs = {} if s == 2 else {"s": s}
        return Emit("upsample_bilinear", (x,), flag(attrs, "align", bool(align), False))
    return Unsupported(f"{mode} upsampling")


def _upsample_module(m: nn.Upsample, x: Value):
    return upsample(x, m.scale_factor, m.size, m.mode, m.align_corners)


def _own(op: str, attrs) -> Any:
    """A rule for a module of costmodel's own (core/torch_modern.py) computing ``op``."""
    def rule(m: nn.Module, x: Value) -> Emit:
        return Emit(op, (x,), attrs(m))
    return rule


def _mqa_attrs(m) -> dict:
    attrs = {"heads": m.heads, "key_dim": m.key_dim, "value_dim": m.value_dim}
    if m.kv_stride != 1:
        attrs.update(kv_stride=m.kv_stride, k=m.k)
    out = m.output.proj.out_channels
    if out != m.query.proj.in_channels:
        attrs["c"] = out
    return attrs


def _window_attrs(m) -> dict:
    return {"k": m.k, **({"grid": 1} if m.grid else {})}


def _unwindow_attrs(m) -> dict:
    return {"size": m.h if m.h == m.w else (m.h, m.w), **({"grid": 1} if m.grid else {})}


OWN_MODULES = {
    torch_modern.WindowPartition: _own("window", _window_attrs),
    torch_modern.WindowMerge: _own("unwindow", _unwindow_attrs),
    torch_modern.SelectTokens: _own("select", lambda m: {} if m.n == 1 else {"tokens": m.n}),
    torch_modern.MultiQueryAttention2d: _own("mqa", _mqa_attrs),
    torch_modern.Parameters: lambda m, x: Emit("parameter", (x,),
                                               {"elements": m.values.numel()},
                                               call="nn.Parameter"),
    torch_modern.SelfAttention: lambda m, x: replace(self_attention(m.attention, x),
                                                     call="nn.MultiheadAttention")
    if isinstance(self_attention(m.attention, x), Emit) else self_attention(m.attention, x),
}

MODULE_RULES = {
    nn.Linear: linear,
    nn.LayerNorm: layer_norm,
    nn.GroupNorm: group_norm,
    nn.RMSNorm: rms_norm,
    nn.Softmax: lambda m, x: softmax(x, m.dim),
    nn.MultiheadAttention: self_attention,
    **{kind: conv_transpose for kind in (nn.ConvTranspose1d, nn.ConvTranspose2d,
                                         nn.ConvTranspose3d)},
    **{kind: _upsample_module for kind in (nn.Upsample, nn.UpsamplingNearest2d,
                                           nn.UpsamplingBilinear2d)},
    nn.PixelShuffle: lambda m, x: Emit("pixelshuffle", (x,), {"r": m.upscale_factor}),
    **OWN_MODULES,
}


def is_own(module: nn.Module) -> bool:
    """A module of costmodel's own that computes one op: read whole, never traced into."""
    return type(module) in OWN_MODULES
