"""All sympy symbols costmodel uses, made in one place with their assumptions.

The names follow the source material and the papers: an H×W×C input, k output channels,
g groups, a K×K kernel, width multiplier alpha, resolution multiplier rho, expansion factor t,
and ShuffleNet v2's c1, c2 (input and output channels of a 1x1 conv). ``R`` is the input
side in pixels (the ``resolution`` knob) when a whole network is kept symbolic.

Assumptions matter: sympy simplifies ``floor(R/2 + ...)``, ``sqrt(x**2)`` and divisions only
when it knows a symbol is positive (and an integer where that is true).
"""

from __future__ import annotations

from sympy import Symbol

#: Feature-map height and width, input channels, output channels, groups, kernel size.
H = Symbol("H", positive=True, integer=True)
W = Symbol("W", positive=True, integer=True)
C = Symbol("C", positive=True, integer=True)
k = Symbol("k", positive=True, integer=True)
g = Symbol("g", positive=True, integer=True)
K = Symbol("K", positive=True, integer=True)
#: Width multiplier (MobileNet alpha, ShuffleNet "s×") and resolution multiplier rho.
alpha = Symbol("alpha", positive=True)
rho = Symbol("rho", positive=True)
#: Expansion factor of an inverted residual (MobileNet v2).
t = Symbol("t", positive=True, integer=True)
#: Input and output channels of a 1x1 convolution (ShuffleNet v2's guidelines G1, G2).
c1 = Symbol("c1", positive=True, integer=True)
c2 = Symbol("c2", positive=True, integer=True)
#: Input side in pixels, for networks kept symbolic in their resolution.
R = Symbol("R", positive=True, integer=True)
#: Attention heads and the key (and value) features of each (Vaswani et al.'s h and d_k).
h = Symbol("h", positive=True, integer=True)
d_k = Symbol("d_k", positive=True, integer=True)

#: Every symbol by name: the only names a derivation or a user's `--at` may refer to.
BY_NAME: dict[str, Symbol] = {s.name: s for s in (H, W, C, k, g, K, alpha, rho, t, c1, c2, R,
                                                   h, d_k)}

#: The symbol a network knob becomes when it is left symbolic.
KNOB_SYMBOLS: dict[str, Symbol] = {"alpha": alpha, "resolution": R, "t": t, "g": g}


def symbol(name: str) -> Symbol:
    """The project's symbol called ``name``; a KeyError lists the known ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown symbol {name!r}; known: {', '.join(BY_NAME)}") from None
