"""The PyTorch side of the op definitions (:mod:`costmodel.core.ops`): small modules for the ops
torch.nn has no module for, and the factories ``to_torch`` calls.

Imported only by those factories, when ``to_torch`` runs: ``import costmodel`` never imports
torch. Each factory takes a ``LayerInfo`` (frontends/torch_build.py: the layer, its
attributes with the op's defaults as ints, its input channels, whether its input is flat).
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .opdef import same_padding


class Add(nn.Module):
    """Element-wise sum of the inputs (residual connections)."""

    def forward(self, *xs: Tensor) -> Tensor:
        return reduce(operator.add, xs)


class Concat(nn.Module):
    """Concatenation along channels."""

    def forward(self, *xs: Tensor) -> Tensor:
        return torch.cat(xs, 1)


class Multiply(nn.Module):
    """Element-wise product, a per-channel gate broadcast over the map (squeeze-excite)."""

    def forward(self, *xs: Tensor) -> Tensor:
        return reduce(operator.mul, xs)


class ChannelSlice(nn.Module):
    """Channels ``start .. start+length`` of the input (a branch of a channel split)."""

    def __init__(self, start: int, length: int):
        super().__init__()
        self.start, self.length = start, length

    def forward(self, x: Tensor) -> Tensor:
        return x.narrow(1, self.start, self.length)

    def extra_repr(self) -> str:
        return f"start={self.start}, length={self.length}"


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    """ShuffleNet's channel shuffle as torchvision writes it: view, transpose, view."""
    n, c, *sizes = x.shape
    x = x.view(n, groups, c // groups, *sizes).transpose(1, 2).contiguous()
    return x.view(n, c, *sizes)


def resolve(call: str) -> Any:
    """The torch object a call names: ``nn.ReLU`` (a module class), ``F.relu``,
    ``torch.sigmoid`` (functions), ``Tensor.relu`` (a method, as ``lambda x: x.relu()``)."""
    owner, _, name = call.partition(".")
    if owner == "nn":
        return getattr(nn, name)
    if owner == "F":
        return getattr(F, name)
    if owner == "torch":
        return getattr(torch, name)
    if owner == "Tensor":
        return lambda x: getattr(x, name)()
    raise ValueError(f"no torch object for {call!r}")


# --- factories (LayerInfo -> module or callable) ----------------------------------------------

def _rank(info: Any) -> int:
    """The number of spatial axes of the layer's input: 1, 2 or 3 (Conv1d, Conv2d, Conv3d)."""
    return info.layer.inputs[0].rank


def _by_rank(info: Any, family: str) -> Any:
    """``nn.Conv1d``/``nn.Conv2d``/``nn.Conv3d`` (``family`` "Conv") for the input's rank."""
    rank = _rank(info)
    if not 1 <= rank <= 3:
        raise ValueError(f"layer {info.layer.name}: torch has no {family} over {rank} axes")
    return getattr(nn, f"{family}{rank}d")


def conv(info: Any) -> nn.Module:
    """``nn.Conv1d/2d/3d`` (by the input's rank) for conv, dw (g = C, c = m·C) and pw (1×1)."""
    a, op, cin = info.attrs, info.layer.op, info.cin
    if op == "dw":
        c, k, s, d, g = a["m"] * cin, a["k"], a["s"], a["d"], cin
    elif op == "pw":
        c, k, s, d, g = a["c"], 1, 1, 1, a["g"]
    else:
        c, k, s, d, g = a["c"], a["k"], a["s"], a["d"], a["g"]
    p = 0 if op == "pw" else same_padding(k, d, _rank(info)) if a["p"] is None else a["p"]
    return _by_rank(info, "Conv")(cin, c, k, s, p, d, g, bias=bool(a["bias"]))


def _window(a: dict[str, Any]) -> tuple[Any, Any, Any, bool]:
    return a["k"], a["k"] if a["s"] is None else a["s"], a["p"], bool(a["ceil"])


def max_pool(info: Any) -> nn.Module:
    k, s, p, ceil = _window(info.attrs)
    return _by_rank(info, "MaxPool")(k, s, p, ceil_mode=ceil)


def avg_pool(info: Any) -> nn.Module:
    k, s, p, ceil = _window(info.attrs)
    return _by_rank(info, "AvgPool")(k, s, p, ceil_mode=ceil)


def max_pool_function(info: Any):
    k, s, p, ceil = _window(info.attrs)
    name = f"max_pool{_rank(info)}d"  # looked up per call: ptflops patches F's functions
    return lambda x: getattr(F, name)(x, k, s, p, ceil_mode=ceil)


def avg_pool_function(info: Any):
    k, s, p, ceil = _window(info.attrs)
    name = f"avg_pool{_rank(info)}d"
    return lambda x: getattr(F, name)(x, k, s, p, ceil_mode=ceil)


def module(call: str, *args: str, **kwargs: Any):
    """A factory building the module ``call`` names, with attributes ``args`` in order (and
    constant keyword arguments): ``module("nn.LocalResponseNorm", "size")``."""
    def factory(info: Any) -> nn.Module:
        return resolve(call)(*(info.attrs[a] for a in args), **kwargs)
    return factory


def function(call: str):
    """A factory of the functional form ``call`` names, applied to the inputs as they are."""
    return lambda info: resolve(call)


def linear(info: Any) -> nn.Module:
    return nn.Linear(info.cin, info.attrs["c"], bias=bool(info.attrs["bias"]))


def global_pool(info: Any) -> nn.Module:
    return _by_rank(info, "AdaptiveAvgPool")(1)


def global_pool_function(info: Any):
    name = f"adaptive_avg_pool{_rank(info)}d"
    return lambda x: getattr(F, name)(x, 1)


def mean_function(info: Any):
    axes = tuple(range(2, 2 + _rank(info)))
    return lambda x: x.mean(axes, keepdim=True)  # ShuffleNet v2's pool, as torchvision


def adaptive_pool(info: Any) -> nn.Module:
    return _by_rank(info, "AdaptiveAvgPool")(info.attrs["size"])


def adaptive_pool_function(info: Any):
    size, name = info.attrs["size"], f"adaptive_avg_pool{_rank(info)}d"
    return lambda x: getattr(F, name)(x, size)


def batch_norm(info: Any) -> nn.Module:
    rank = 0 if info.flat else _rank(info)  # BatchNorm1d takes N×C and N×C×L alike
    return (nn.BatchNorm1d if rank <= 1 else nn.BatchNorm2d if rank == 2 else nn.BatchNorm3d)(
        info.cin)


def dropout_function(info: Any):
    return lambda x: F.dropout(x, 0.5, training=False)


def shuffle_function(info: Any):
    groups = info.attrs["g"]
    return lambda x: channel_shuffle(x, groups)


def channel_slice(info: Any) -> nn.Module:
    return ChannelSlice(info.attrs["start"], info.attrs["c"])


def slice_function(info: Any):
    start, length = info.attrs["start"], info.attrs["c"]
    return lambda x: x.narrow(1, start, length)


def add_module(info: Any) -> nn.Module:
    return Add()


def add_function(info: Any):
    return operator.add


def iadd_function(info: Any):
    return operator.iadd  # torchvision's `out += identity`: the first input in place


def concat_module(info: Any) -> nn.Module:
    return Concat()


def concat_function(info: Any):
    return lambda *xs: torch.cat(xs, 1)


def mul_module(info: Any) -> nn.Module:
    return Multiply()


def mul_function(info: Any):
    return operator.mul
