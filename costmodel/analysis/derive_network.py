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
from .derivation import Derivation, Quantity, _exact_number, show_value, symbols_of

#: The integer symbol of ``R = s·q + r`` (and of ``H = s·q_H + r``, ``W = s·q_W + r`` when
#: height and width are kept apart).
Q = Symbol("q", integer=True, nonnegative=True)
Q_OF = {"resolution": Q, "height": Symbol("q_H", integer=True, nonnegative=True),
        "width": Symbol("q_W", integer=True, nonnegative=True)}

#: Knob name -> symbol, for knobs a whole-network derivation can leave symbolic.
NETWORK_SYMBOLS = {"resolution": S.R, "height": S.H, "width": S.W, "alpha": S.alpha, "t": S.t}
#: The knobs that are sides of the input: their floors are removed by a period.
SIDES = ("resolution", "height", "width")


def _floor_period(exprs: Sequence[Expr], R: Symbol, residue_of: Callable[[int], int],
                  start: int = 1, limit: int = 1 << 12, q: Symbol = Q
                  ) -> tuple[int, int, list[Expr]]:
    """A period s such that substituting ``R = s·q + r`` removes every floor/ceiling that
    depends on R: ``start`` (the network's total stride) when that suffices, else ``start``
    times the denominators met, innermost floors first, until none is left."""
    period = start
    while True:
        r = residue_of(period)
        subbed = [e.subs(R, period * q + r) for e in exprs]
        pending = [f for e in subbed for f in e.atoms(sympy.floor, sympy.ceiling)
                   if q in f.free_symbols]
        if not pending:
            return period, r, subbed
        denominator = 1
        for f in pending:
            inner = f.args[0]
            if inner.atoms(sympy.floor, sympy.ceiling) & set(pending):
                continue  # an outer floor: its inner ones go first
            slope = sympy.diff(inner, q)
            if slope.is_Rational:
                denominator = sympy.ilcm(denominator, slope.q)
        if denominator == 1 or period * denominator > limit:
            return period, r, subbed  # floors that no period removes stay, and are reported
        period *= int(denominator)


def _default_side(ref: ModelRef, given: Mapping[str, Any], name: str) -> int:
    """The value a side knob takes when it is not symbolic: given, or its default (a height
    that follows the resolution takes the resolution's)."""
    knob = ref.spec.knob(name)
    if name in given:
        return int(given[name])
    return _default_side(ref, given, knob.follows) if knob.follows else int(knob.default)


def _built_on_the_period(ref: ModelRef, given: Mapping[str, Any], chosen: Sequence[str],
                         residue: int | None, convention_name: str):
    """The fast way to a polynomial in the sides: build once with each side already
    ``s·q + r`` (``s`` the total stride the builder records), so that sympy settles every
    floor while building instead of leaving floor(floor(R/2 - 1/2)/2) to be removed
    afterwards. Returns (network, s, {side: r}, (MACs, params) in the q's), or None where this
    does not give a polynomial (then the general path runs)."""
    sides = [name for name in chosen if name in SIDES]
    try:
        period = ref.build(**{**given, **{name: _default_side(ref, given, name)
                                          for name in sides}}).total_stride
    except CostModelError:
        return None
    residues = {name: (_default_side(ref, given, name) if residue is None else residue) % period
                for name in sides}
    values = {name: NETWORK_SYMBOLS[name] for name in chosen if name not in SIDES}
    network = ref.build(**{**given, **values, **{name: period * Q_OF[name] + residues[name]
                                                 for name in sides}})
    totals = network.macs(convention_name), network.params(convention_name)
    qs = {Q_OF[name] for name in sides}
    if any(qs & f.free_symbols for e in totals for f in e.atoms(sympy.floor, sympy.ceiling)):
        return None
    return network, period, residues, totals


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


def chosen_sides(chosen: Sequence[str]) -> list[str]:
    """The input sides among the knobs kept symbolic, in the order chosen."""
    return [name for name in chosen if name in SIDES]


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
    from ..zoo import resolve

    ref = resolve(spec, "closed forms") if isinstance(spec, str) else spec
    given = {**dict(ref.values), **dict(values or {})}
    chosen = list(_default_symbols(ref, given) if symbols is None else symbols)
    for name in chosen:
        if name not in NETWORK_SYMBOLS:
            raise CostModelError(f"cannot keep {name!r} symbolic; choose from "
                                 f"{', '.join(NETWORK_SYMBOLS)}")
        require_knob(ref.spec, name, ref.name)
    if "resolution" in chosen and chosen_sides(chosen) != ["resolution"]:
        raise CostModelError("keep either resolution or height and width symbolic, not both "
                             "(height and width follow the resolution unless set)")
    assumptions: list[str] = []
    valid_for: tuple[tuple[Symbol, int, int], ...] = ()
    sides = chosen_sides(chosen)
    fast = _built_on_the_period(ref, given, chosen, residue, convention_name) if sides else None
    if fast is not None:
        network, period, residues, (macs, params) = fast
    else:
        network = ref.build(**{**given, **{name: NETWORK_SYMBOLS[name] for name in chosen}})
        macs, params = network.macs(convention_name), network.params(convention_name)
        period, residues = network.total_stride, {}
    settings = tuple((key, value) for key, value in network.config if key not in chosen)
    for side in sides:
        symbol, q, default = NETWORK_SYMBOLS[side], Q_OF[side], _default_side(ref, given, side)
        if fast is None:
            def residue_of(p: int, default: int = default) -> int:
                return (default if residue is None else residue) % p

            side_period, r, (macs, params) = _floor_period([macs, params], symbol, residue_of,
                                                           start=period, q=q)
        else:
            side_period, r = period, residues[side]
        back = (symbol - r) / side_period
        valid_for += ((symbol, side_period, r),) if side_period > 1 else ()
        macs = sympy.expand(macs.subs(q, back))
        params = sympy.expand(params.subs(q, back))
        left = [f for e in (macs, params) for f in e.atoms(sympy.floor, sympy.ceiling)
                if symbol in f.free_symbols]
        what = "resolution R" if side == "resolution" else f"{side} {symbol}"
        if side_period == 1:
            assumptions.append(f"valid for every {what} (no floors to remove)")
        elif r == 0:
            assumptions.append(f"valid when {symbol} is a multiple of {side_period}, the "
                               f"network's total stride ({symbol} = {side_period}·q: every "
                               "stride then divides the side it halves, and every floor in the "
                               "spatial sizes is exact)")
        else:
            assumptions.append(f"valid when {symbol} ≡ {r} (mod {side_period}), as the default "
                               f"{symbol} = {default} ({symbol} = {side_period}·q + {r}: every "
                               "floor in the spatial sizes is then exact)")
        if left:
            assumptions.append(f"floor() of {symbol} remains in {len(left)} terms: no period "
                               "up to 4096 removes it")
    if not sides:
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
        defaults=tuple((NETWORK_SYMBOLS[key], sympy.Integer(_default_side(ref, given, key))
                        if key in SIDES
                        else _exact_number(ref.spec.knob(key).default, key)) for key in chosen),
        explanation=f"Built layer by layer from costmodel's spec of {name} with "
                    f"{', '.join(chosen) or 'no knob'} left symbolic, summed over its "
                    f"{len(network.layers)} layers ({convention_name} convention), then "
                    f"{shape}. Knobs not given in "
                    "--at take their defaults.")
