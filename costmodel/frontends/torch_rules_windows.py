"""count_torch's rules for the calls torchvision's Swin Transformer makes leaves of torch.fx's
graph (``torch.fx.wrap``): ``shifted_window_attention``, read as multi-head self-attention
within each k×k window (``mhsa`` over the windows: the qkv and output projections and the
two matmuls per window, as torch's counter measures them; the shift, its mask and the
relative position bias add no MACs), and ``_patch_merging_pad``, a pad that is empty for
even sizes. They are matched by the function's name, as torchvision spells it (a copy of
torchvision's code is read the same way).
"""

from __future__ import annotations

from typing import Any

from sympy import Integer

from ..core.ops import Shape
from .torch_rules import Alias, Emit, Unsupported, Value
from .torch_tokens import Param, is_last


def shifted_window_attention(x: Any, qkv_weight: Any, proj_weight: Any, bias: Any,
                             window: Any, heads: Any, shift: Any = None,
                             attention_dropout: Any = 0.0, dropout: Any = 0.0,
                             qkv_bias: Any = None, proj_bias: Any = None,
                             v2_logit_scale: Any = None, **shift_size: Any) -> Emit | Unsupported:
    """torchvision's signature (``shift_size`` by keyword, as its module calls it)."""
    if v2_logit_scale is not None:
        return Unsupported("Swin v2's cosine attention")
    if not is_last(x) or x.shape.rank != 2 or len(x.size) != 4:
        return Unsupported("not on an N×H×W×C tensor")
    sides = [int(s) for s in window] if isinstance(window, (list, tuple)) else []
    if len(sides) != 2 or sides[0] != sides[1] or not isinstance(heads, int):
        return Unsupported("not square windows")
    k, (h, w) = sides[0], x.size[1:3]
    if h % k or w % k:
        return Unsupported(f"a {h}×{w} map padded to whole {k}×{k} windows")
    weights = [qkv_weight, proj_weight, qkv_bias, proj_bias]
    if not all(isinstance(p, Param) for p in weights):
        return Unsupported("projection weights or biases that are not parameters")
    windows = Value(Shape(x.shape.c, (Integer(h // k * (w // k)), Integer(k * k)),
                          producer=x.shape.producer, layout="last"), x.size)
    return Emit("mhsa", (windows,), {"heads": heads, "bias": 1},
                params=tuple(p.name for p in weights), output=x.shape)


def patch_merging_pad(x: Any) -> Alias | Unsupported:
    if is_last(x) and len(x.size) == 4 and x.size[1] % 2 == 0 and x.size[2] % 2 == 0:
        return Alias(x)
    return Unsupported("padding an odd-sized map")


RULES_BY_NAME = {"shifted_window_attention": shifted_window_attention,
                 "_patch_merging_pad": patch_merging_pad}


def rule_by_name(call: str):
    """The rule for a call named ``…shifted_window_attention`` or ``…_patch_merging_pad``."""
    return RULES_BY_NAME.get(call.rsplit(".", 1)[-1])


def keeps_features(index: Any) -> bool:
    """Whether ``x[index]`` only slices the axes before the last (patch merging's
    ``x[..., 0::2, 1::2, :]``): free data movement of tokens."""
    return isinstance(index, tuple) and len(index) >= 2 and index[-1] == slice(None) and \
        all(i is Ellipsis or isinstance(i, slice) for i in index)
