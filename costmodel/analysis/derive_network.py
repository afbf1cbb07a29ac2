"""Whole networks (any zoo model or architecture file) go through :func:`derive_network`: the
network is built with the input side left as the symbol ``R`` (and alpha too, under
``rounding=none``), and its MACs and parameters are turned into polynomials. Spatial sizes
contain ``floor()`` (a stride-2 layer halves an odd side down); substituting ``R = s·q + r``
with ``q`` a non-negative integer symbol and ``s`` the period of those floors (the network's
total stride, or a divisor of it) makes every floor exact, and ``q = (R - r)/s`` gives back a
polynomial in ``R``, valid for every ``R ≡ r (mod s)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sympy
from sympy import Expr, Symbol

from ..core import symbols as S
from ..core.conventions import DEFAULT
from ..core.rounding import MakeDivisible
from ..errors import CostModelError
from ..spec.builder import require_knob
from ..zoo import ModelRef
from .derive import Derivation, Quantity, _exact_number, show_value, symbols_of

#: The integer symbol of ``R = s·q + r``.
Q = Symbol("q", integer=True, nonnegative=True)

#: Knob name -> symbol, for knobs a whole-network derivation can leave symbolic.
NETWORK_SYMBOLS = {"resolution": S.R, "alpha": S.alpha, "t": S.t}


def _floor_period(exprs: Sequence[Expr], R: Symbol, residue_of: Callable[[int], int],
                  start: int = 1, limit: int = 1 << 12) -> tuple[int, int, list[Expr]]:
    """A period s such that substituting ``R = s·q + r`` removes every floor/ceiling that
    depends on R: ``start`` (the network's total stride) when that suffices, else ``start``
    times the denominators met, innermost floors first, until none is left."""
    period = start
    while True:
        r = residue_of(period)
        subbed = [e.subs(R, period * Q + r) for e in exprs]
        pending = [f for e in subbed for f in e.atoms(sympy.floor, sympy.ceiling)
                   if Q in f.free_symbols]
        if not pending:
            return period, r, subbed
        denominator = 1
        for f in pending:
            inner = f.args[0]
            if inner.atoms(sympy.floor, sympy.ceiling) & set(pending):
                continue  # an outer floor: its inner ones go first
            slope = sympy.diff(inner, Q)
            if slope.is_Rational:
                denominator = sympy.ilcm(denominator, slope.q)
        if denominator == 1 or period * denominator > limit:
            return period, r, subbed  # floors that no period removes stay, and are reported
        period *= int(denominator)


def _built_on_the_period(ref: ModelRef, given: Mapping[str, Any], chosen: Sequence[str],
                         residue: int | None, convention_name: str):
    """The fast way to a polynomial in R: build once with the resolution already ``s·q + r``
    (``s`` the total stride the builder records), so that sympy settles every floor while
    building instead of leaving floor(floor(R/2 - 1/2)/2) to be removed afterwards. Returns
    (network, s, r, (MACs, params) in q), or None where this does not give a polynomial (then
    the general path runs)."""
    default = int(ref.spec.knob("resolution").default)
    try:
        period = ref.build(**{**given, "resolution": default}).total_stride
    except CostModelError:
        return None
    r = (default if residue is None else residue) % period
    values = {name: NETWORK_SYMBOLS[name] for name in chosen if name != "resolution"}
    network = ref.build(**{**given, **values, "resolution": period * Q + r})
    totals = network.macs(convention_name), network.params(convention_name)
    if any(Q in f.free_symbols for e in totals for f in e.atoms(sympy.floor, sympy.ceiling)):
        return None
    return network, period, r, totals


def _default_symbols(ref, given: Mapping[str, str]) -> list[str]:
    """resolution unless given; alpha too under rounding=none (unless given)."""
    knobs = {knob.name: knob for knob in ref.spec.knobs}
    chosen = []
    if "resolution" in knobs and "resolution" not in given:
        chosen.append("resolution")
    alpha_knob = knobs.get("alpha")
    if alpha_knob is not None and alpha_knob.type != "choice" and "alpha" not in given:
        rounding = given.get("rounding", knobs["rounding"].default if "rounding" in knobs
                             else None)
        if rounding == "none":
            chosen.append("alpha")
    return chosen


def derive_network(spec: str | ModelRef, symbols: Iterable[str] | None = None,
                   convention_name: str = DEFAULT, residue: int | None = None,
                   values: Mapping[str, Any] | None = None) -> Derivation:
    """The whole network's MACs (``expr``) and params in closed form.

    ``spec`` is a zoo name, ``name:key=value,...`` or an architecture file. ``symbols`` names
    the knobs to keep symbolic (``resolution`` → R, ``alpha``, ``t``); by default the
    resolution, and alpha as well when the network is built with ``rounding=none``. Knobs not
    symbolic keep the spec's values (the defaults otherwise).

    With R symbolic the result is a polynomial in R valid for ``R ≡ r (mod s)``, where ``s``
    is the period of the spatial floors and ``r`` the default resolution's residue (pass
    ``residue`` to choose another class, e.g. 0 for multiples of s). ``spec`` may be a
    resolved :class:`~costmodel.zoo.ModelRef`, with knob ``values`` on top of its own.
    """
    from ..zoo import resolve_layer_spec

    ref = resolve_layer_spec(spec, "closed forms") if isinstance(spec, str) else spec
    given = {**dict(ref.values), **dict(values or {})}
    chosen = list(_default_symbols(ref, given) if symbols is None else symbols)
    for name in chosen:
        if name not in NETWORK_SYMBOLS:
            raise CostModelError(f"cannot keep {name!r} symbolic; choose from "
                                 f"{', '.join(NETWORK_SYMBOLS)}")
        require_knob(ref.spec, name, ref.name)
    assumptions: list[str] = []
    valid_for: tuple[tuple[Symbol, int, int], ...] = ()
    fast = _built_on_the_period(ref, given, chosen, residue, convention_name) \
        if "resolution" in chosen else None
    if fast is not None:
        network, period, r, (macs_q, params_q) = fast
    else:
        network = ref.build(**{**given, **{name: NETWORK_SYMBOLS[name] for name in chosen}})
        macs, params = network.macs(convention_name), network.params(convention_name)
    settings = tuple((key, value) for key, value in network.config if key not in chosen)
    if "resolution" in chosen:
        default = int(ref.spec.knob("resolution").default)
        R = S.R

        def residue_of(period: int) -> int:
            return (default if residue is None else residue) % period

        if fast is None:
            period, r, (macs_q, params_q) = _floor_period([macs, params], R, residue_of,
                                                          start=network.total_stride)
        back = (R - r) / period
        valid_for = ((R, period, r),) if period > 1 else ()
        macs = sympy.expand(macs_q.subs(Q, back))
        params = sympy.expand(params_q.subs(Q, back))
        left = [f for e in (macs, params) for f in e.atoms(sympy.floor, sympy.ceiling)
                if R in f.free_symbols]
        if period == 1:
            assumptions.append("valid for every resolution R (no floors to remove)")
        elif r == 0:
            assumptions.append(f"valid when R is a multiple of {period}, the network's total "
                               f"stride (R = {period}·q: every stride then divides the side it "
                               "halves, and every floor in the spatial sizes is exact)")
        else:
            assumptions.append(f"valid when R ≡ {r} (mod {period}), as the default "
                               f"R = {default} (R = {period}·q + {r}: every floor in the "
                               "spatial sizes is then exact)")
        if left:
            assumptions.append(f"floor() of R remains in {len(left)} terms: no period up to "
                               "4096 removes it")
    else:
        macs, params = sympy.expand(macs), sympy.expand(params)
    if macs.atoms(MakeDivisible) or params.atoms(MakeDivisible):
        assumptions.append("MakeDivisible(c·alpha, 8, 8) remains: the reference channel "
                           "rounding (nearest multiple of 8, never 10% below c·alpha) is exact "
                           "but not a polynomial; rounding=none gives polynomials in alpha")
    floors = [f for e in (macs, params) for f in e.atoms(sympy.floor)
              if S.alpha in f.free_symbols]
    if floors:
        assumptions.append("floor(c·alpha) remains: the reference code's int() channel "
                           "rounding; rounding=none gives polynomials in alpha")
    extras = [Quantity(f"params ({convention_name})", params)]
    maxes = [m for m in macs.atoms(sympy.Max, sympy.Min) if S.alpha in m.free_symbols]
    if len(maxes) == 1 and len(maxes[0].args) == 2 and any(a.is_number for a in maxes[0].args):
        atom = maxes[0]
        edge = next(a for a in atom.args if a.is_number)
        low, high = (edge, S.alpha) if isinstance(atom, sympy.Max) else (S.alpha, edge)
        for label, value in ((f"MACs, alpha ≤ {edge}", low), (f"MACs, alpha ≥ {edge}", high)):
            extras.append(Quantity(label, sympy.expand(macs.subs(atom, value))))
        assumptions.append(f"{atom} remains: one polynomial on each side of alpha = {edge}")
    name = network.name
    pieces = [f for e in (macs, params) for f in e.atoms(sympy.Function) if f.free_symbols]
    shape = "expanded into a polynomial" if not pieces else \
        "expanded (a polynomial but for the non-polynomial terms the assumptions name)"
    fixed = ", ".join(f"{key}={show_value(value)}" for key, value in settings)
    return Derivation(
        name, f"whole network, symbolic in {', '.join(chosen) or 'nothing'}"
        + (f" ({fixed})" if fixed else ""),
        ref.spec.paper, macs, None, extras=tuple(extras), symbols=symbols_of(macs, params),
        assumptions=tuple(assumptions), settings=settings, valid_for=valid_for,
        defaults=tuple((NETWORK_SYMBOLS[key], _exact_number(ref.spec.knob(key).default, key))
                       for key in chosen),
        explanation=f"Built layer by layer from costmodel's spec of {name} with "
                    f"{', '.join(chosen) or 'no knob'} left symbolic, summed over its "
                    f"{len(network.layers)} layers ({convention_name} convention), then "
                    f"{shape}. Knobs not given in "
                    "--at take their defaults.")
