"""The vocabulary of op facts that needs no sympy: what the counting conventions (and the CLI,
through them) read without importing the registry (core/opdef.py)."""

from __future__ import annotations

#: The kinds of arithmetic a convention distinguishes (each tool has a rule for every one).
CATEGORIES: dict[str, str] = {
    "multiply-accumulate": "convolutions and fully connected layers: the MACs the papers count",
    "normalization": "batch norm, local response norm: per-element scale and shift",
    "activation": "a per-element nonlinearity (relu, sigmoid, hard-swish...)",
    "pooling": "a window or global reduction over positions (max, average)",
    "element-wise": "an arithmetic merge of same-shaped maps (add, multiply)",
    "data movement": "channels moved, not computed on (concat, shuffle, split)",
    "free view": "the identity at inference (dropout)",
}

#: How a layer's output buffer relates to its input (:mod:`costmodel.analysis.memory`):
#: "never" its own buffer, "always" none (folded or the identity), "fused" none when
#: execution is fused (in place, or a view).
ALIASING = ("never", "always", "fused")
#: How a kernel can consume and produce channel tiles (MobileNet v2 §5.1): "per-channel"
#: maps a tile of input channels to the same tile of output channels, "reducing" reduces
#: over input channels (it can accumulate a streamed input tile by tile), "none" neither.
STREAMING = ("none", "per-channel", "reducing")
