"""What the op definitions share (core/ops.py and the modules of newer ops it imports,
core/ops_modern.py, ops_tokens.py, ops_attention.py): the torch factories ``to_torch`` calls
by name, output sizes of window ops, and the checks every formula makes.

Imports the registry (:mod:`.opdef`) only, so that every op module can import this one
without an import cycle.
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy import Expr, Integer

from ..errors import CostModelError, InputTooSmall
from .opdef import (  # noqa: F401  (same_padding: re-exported for the ops modules)
    OPS, Counts, Memory, Onnx, OpDef, Result, Shape, Torch, op, per_axis, same_padding)

# --- torch factories, imported only when to_torch calls them ------------------------------------

def form(name: str):
    """A factory of :mod:`.torch_forms` (which imports torch) called by name, lazily."""
    def factory(info: Any) -> Any:
        from . import torch_forms
        return getattr(torch_forms, name)(info)
    return factory


def module_form(call: str, *attrs: str, **kwargs: Any):
    """A factory building the module ``call`` names from attributes ``attrs``."""
    def factory(info: Any) -> Any:
        from . import torch_forms
        return torch_forms.module(call, *attrs, **kwargs)(info)
    return factory


def function_form(call: str):
    """The functional form ``call`` names (``F.relu``), applied to the inputs as they are."""
    def factory(info: Any) -> Any:
        from . import torch_forms
        return torch_forms.resolve(call)
    return factory


def unary_torch(module: str, *also: str, **kwargs: Any) -> Torch:
    """How PyTorch writes an attribute-free one-input op (an activation): the module
    ``module`` (built with ``kwargs``), the calls ``also`` (``F.x``, ``torch.x``,
    ``Tensor.x``) as its functional forms; ``count_torch`` reads every one as the op."""
    return Torch(module, module_form(module, **kwargs), also,
                 {call: function_form(call) for call in also}, reads=(module, *also))


# --- helpers -------------------------------------------------------------------------------

def known(x) -> bool:
    return getattr(x, "is_number", isinstance(x, int))


def out_size(size: Expr, kernel, stride, padding, dilation=1, ceil_mode=False) -> Expr:
    """Output side of a window op: floor((size + 2p - d(K-1) - 1)/s) + 1 (ceil with
    ``ceil_mode``, as Caffe's pooling and torch's ``ceil_mode=True`` do)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    rounding = sympy.ceiling if ceil_mode else sympy.floor
    result = rounding(span / stride) + 1
    if ceil_mode and known(result) and known(size) and (result - 1) * stride >= size + padding:
        result -= 1  # torch/caffe: the last window must start inside the input or left pad
    return result


def check_spatial(shape: Shape, what: str) -> Shape:
    for side in shape.sizes:
        if known(side) and side < 1:
            sides = "×".join(map(str, shape.sizes))
            raise InputTooSmall(f"{what} leaves a {sides} output: the input is "
                                "too small for this layer")
    return shape


def windowed(x: Shape, c, k, s, p, d=1, ceil_mode=False) -> Shape:
    """The output of a window op with ``c`` channels: each spatial axis by :func:`out_size`,
    with the per-axis kernel ``k``, stride ``s``, padding ``p`` and dilation ``d``."""
    if x.layout != "first":
        raise CostModelError("a window op (convolution, pooling) reads channels first, "
                             f"N×C×H×W; this input {x} is channels last: write "
                             "channels_first before it")
    axes = [per_axis(v, x.rank, name) for v, name in ((k, "k"), (s, "s"), (p, "p"), (d, "d"))]
    sizes = tuple(out_size(size, *window, ceil_mode=ceil_mode)
                  for size, *window in zip(x.sizes, *axes))
    return Shape(c, sizes)


def product(values) -> Expr:
    total = Integer(1)
    for value in values:
        total *= value
    return total


def check_divides(groups, channels, what: str) -> None:
    if groups == 1:
        return  # idealized widths (rounding=none) may be fractional; one group takes them all
    if known(groups) and known(channels) and (channels / groups).is_integer is False:
        raise CostModelError(f"groups g={groups} do not divide the {channels} {what} channels")


def window_kind(prefix: str, kernel, rank: int = 2) -> str:
    """``conv 3x3``, ``conv 1x7``, ``conv 3x3x3``, ``conv 5`` (1-D): a kernel per axis."""
    return f"{prefix} {'x'.join(map(str, per_axis(kernel, rank, 'k')))}"


def activation(name: str, ops_per_element: int, torch: Torch, onnx: Onnx) -> OpDef:
    """Register the activation ``name``: ``ops_per_element`` operations per element (the
    ``elementwise`` count), no MACs, no parameters; in place when execution is fused."""
    def formula(x: Shape) -> Result:
        return Result(x, Counts(elementwise=ops_per_element * x.numel,
                                activations=x.numel), "act")

    formula.__doc__ = f"{name} activation: no MACs, no parameters."
    op(name, category="activation", display="act", torch=torch, onnx=onnx,
       memory=Memory(alias="fused"))(formula)
    return OPS[name]


def modern_form(name: str):
    """A factory of :mod:`.torch_modern` (the newer ops' modules, which imports torch)
    called by name, lazily."""
    def factory(info: Any) -> Any:
        from . import torch_modern
        return getattr(torch_modern, name)(info)
    return factory


def on_features(x: Shape, what: str) -> None:
    """Refuse a channels-first map to an op that reads the last axis as its features (a
    linear layer, a layer norm): torch would read the map's width. A vector (every size 1)
    is both layouts."""
    if x.layout != "last" and any(not known(s) or s != 1 for s in x.sizes):
        raise CostModelError(f"{what} acts on the last axis, the features of a token or "
                             f"channels-last tensor; this input {x} is channels first "
                             "(N×C×H×W): write channels_last (or tokens) before it")


def onnx_read(written: str, how: str = "") -> Onnx:
    """The ONNX facts of an op exporters write as other ONNX ops (``written``), which the
    ONNX reader reads back (frontends/onnx_ops_modern.py; ``how``, where it says more)."""
    return Onnx((), note=f"exporters write {written}; the ONNX reader reads "
                         f"{how or 'them as this op'}")


def onnx_not_read(written: str) -> Onnx:
    """The ONNX facts of an op the ONNX reader does not read yet: how exporters write it
    (``written``); its nodes are then listed among the ops not counted."""
    return Onnx((), note=f"exporters write {written}; the ONNX reader does not read it yet "
                         "(its nodes are listed as not counted)")
