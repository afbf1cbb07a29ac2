"""Where a network's attention overtakes its convolutions: ``costmodel derive MODEL
--crossover``.

The network is built once with its resolution ``R = s·q`` (``s`` its total stride, so every
floor in the spatial sizes is exact), as :mod:`.derive_network` does; its layers' MACs are
summed apart, the attention layers' (``mhsa``, ``mqa``, ``sdpa``, ``matmul``: quadratic in
the tokens) and the convolutions' (``conv``, ``dw``, ``pw``, ``convtranspose``: linear in
them), into two polynomials in R, and sympy solves attention = convolutions for R. The
answer is exact (an algebraic number where the root is irrational) and is checked against
the network built at the multiples of ``s`` on either side of it.
"""

from __future__ import annotations

import sympy
from sympy import Expr

from ..core import symbols as S
from ..core.conventions import DEFAULT
from ..errors import CostModelError
from .derivation import Derivation, Quantity, symbols_of
from .derive_network import Q_OF, _built_on_the_period

#: Ops whose MACs grow with the square of the number of tokens (or hold such a product).
ATTENTION_OPS = frozenset({"mhsa", "mqa", "sdpa", "matmul"})
#: Ops whose MACs grow with the number of positions: the convolutions.
CONVOLUTION_OPS = frozenset({"conv", "dw", "pw", "convtranspose"})


def attention_crossover(spec, convention_name: str = DEFAULT, limit: int = 1 << 14
                        ) -> Derivation:
    """The attention and convolution MACs of ``spec`` in closed form in R, and the
    resolution at which attention's overtake the convolutions'. A network without
    attention layers, or whose attention never overtakes below ``limit`` pixels, is an
    error saying so."""
    from ..zoo import resolve

    ref = resolve(spec, "closed forms") if isinstance(spec, str) else spec
    if ref.spec.knob("resolution") is None:
        raise CostModelError(f"{ref.name} has no resolution knob: the crossover is a "
                             "resolution")
    given = dict(ref.values)
    given.pop("resolution", None)
    fast = _built_on_the_period(ref, given, ["resolution"], 0, convention_name)
    if fast is None:
        raise CostModelError(f"{ref.name}: its MACs are not a polynomial in the resolution "
                             "at multiples of its stride, so no exact crossover is derived")
    network, period, _, _ = fast
    q, R = Q_OF["resolution"], S.R
    attention = _sum(network, ATTENTION_OPS, convention_name)
    convolutions = _sum(network, CONVOLUTION_OPS, convention_name)
    if attention == 0:
        raise CostModelError(f"{ref.name} has no attention layers ({', '.join(sorted(ATTENTION_OPS))}"
                             "): nothing can overtake its convolutions")
    attention_r = sympy.expand(attention.subs(q, R / period))
    convolutions_r = sympy.expand(convolutions.subs(q, R / period))
    # solved over the positive reals (R itself is an integer symbol: sympy would keep only
    # whole roots), then read as a resolution
    real = sympy.Symbol("R", positive=True)
    roots = sorted((root for root in sympy.solve((attention_r - convolutions_r).subs(R, real),
                                                 real) if root.is_positive), key=float)
    notes = []
    if roots and float(roots[0]) <= limit:
        crossover = roots[0]
        first = period * int(sympy.ceiling(crossover / period))
    elif (attention_r - convolutions_r).subs(R, period) > 0:
        # no positive root: attention costs more at every resolution (its projections alone
        # outweigh the convolutions)
        crossover, first = sympy.Integer(0), period
        notes.append("attention costs more than the convolutions at every resolution: no "
                     "crossover (0)")
    else:
        raise CostModelError(f"{ref.name}: its attention MACs stay below its convolutions' up "
                             f"to {limit:,} px")
    first = _check_built(ref, given, first, period, convention_name)
    ratio = sympy.cancel(attention_r / convolutions_r)
    settings = tuple((k, v) for k, v in network.config if k != "resolution")
    return Derivation(
        network.name, f"attention against convolutions, in the resolution R "
        f"(R a multiple of {period})", ref.spec.paper, attention_r, None,
        quantity="attention MACs",
        extras=(Quantity("convolution MACs", convolutions_r),
                Quantity("attention ÷ convolutions", ratio),
                Quantity("crossover resolution", crossover),
                Quantity(f"first R (a multiple of {period}) where attention ≥ convolutions",
                         sympy.Integer(first))),
        symbols=symbols_of(attention_r, convolutions_r),
        assumptions=(f"valid when R is a multiple of {period}, the network's total stride",
                     *notes),
        settings=settings, valid_for=((R, period, 0),),
        defaults=((R, sympy.Integer(first)),),
        explanation=f"The MACs of {network.name}'s attention layers "
                    f"({', '.join(sorted(ATTENTION_OPS))}) and of its convolutions "
                    f"({', '.join(sorted(CONVOLUTION_OPS))}) as polynomials in R, from its "
                    f"{len(network.layers)} layers ({convention_name} convention). Attention "
                    "grows with R⁴ (the square of the tokens), convolutions with R²: "
                    "sympy solves attention = convolutions for R.")


def _sum(network, ops: frozenset[str], convention_name: str) -> Expr:
    return sympy.Add(*(layer.macs(convention_name) for layer in network.layers
                       if layer.op in ops))


def _check_built(ref, given, first: int, period: int, convention_name: str) -> int:
    """The closed forms' answer, checked on the network built at numbers: the first multiple
    of ``period`` from ``first`` at which the network builds (MobileViT's 2×2 patches need a
    side of 64·q, more than its stride 32), where attention's MACs reach the convolutions',
    and the last one below it that builds, where they do not. Returns that first side."""
    def built(side: int):
        try:
            return ref.build(**{**given, "resolution": str(side)})
        except CostModelError:
            return None

    def ahead(network) -> bool:
        return bool(_sum(network, ATTENTION_OPS, convention_name)
                    >= _sum(network, CONVOLUTION_OPS, convention_name))

    side = first
    network = built(side)
    for _ in range(16):
        if network is not None:
            break
        side += period
        network = built(side)
    if network is None or not ahead(network):
        raise AssertionError(f"{ref.name} at R={side}: the closed forms and the built network "
                             "disagree on which costs more")
    below = side - period
    while below >= period:
        earlier = built(below)
        if earlier is not None:
            if ahead(earlier) and below < first:
                raise AssertionError(f"{ref.name} at R={below}: attention already ahead below "
                                     "the crossover")
            break
        below -= period
    return side
