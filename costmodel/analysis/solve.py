"""Inverse questions: the largest width multiplier or resolution that fits a budget.

``solve_alpha`` answers twice where the model has a ``rounding`` knob:

* **idealized widths** (``rounding=none``, c·alpha channels exactly, as the papers' equations):
  MACs and params are polynomials in alpha (piecewise where ``Max(1, alpha)`` keeps a layer
  from narrowing), solved exactly with sympy's ``Poly.real_roots`` for the largest alpha whose
  cost is within the budget;
* **the reference rounding** (the published code's channel rounding, e.g. MobileNet v2's
  ``make_divisible(c·alpha, 8)``): the cost is a non-decreasing *step* function of alpha. It
  jumps up exactly at a rounding threshold (the rounding functions take the higher value at
  the threshold), so the alphas that fit form an interval open at its top: there is no largest
  alpha, only a supremum at a threshold such as (8m - 4)/c. So we answer on the grid of
  3-decimal alphas (what a user types): the largest alpha = n/1000 whose actually-rounded
  network fits, found by exponential search and bisection on n with the exact integer count
  (the closed form with its ``MakeDivisible``/``floor`` terms, evaluated at exact rationals),
  together with the range of grid alphas that build the very same network.

``solve_resolution`` finds the largest integer resolution and the largest multiple of the
network's total stride within budget: the closed form for multiples of the floors' period
(:func:`~costmodel.analysis.derive_network.derive_network` with residue 0) is a polynomial in R
solved with ``real_roots``, checked against the exact count, and the integer answer is then
bisected (MACs are non-decreasing in R: every output side is).

A budget that no setting meets is an answer, not an error: ``feasible`` is False and the
sentence says what the smallest setting still needs (the CLI exits 0 then; see
``costmodel solve --help``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import partial
from typing import Any

import sympy
from sympy import Expr, Integer, Rational

from ..core import symbols as S
from ..core.conventions import DEFAULT
from ..core.evaluate import point_function
from ..core.rounding import MakeDivisible
from ..core.numbers import UNIT_NOTE, human, plain
from ..core.numbers import is_number_text, read_number
from ..limits import excerpt
from ..errors import CostModelError
from .derivation import show_value
from .derive_network import derive_network

#: JSON values, a fraction such as 1/3 kept exact (as text)
_json = partial(plain, exact_fractions=True)

QUANTITIES = ("macs", "params")
LABEL = {"macs": "MACs", "params": "params"}
_SUFFIX = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
#: alpha is searched on this grid under a reference rounding (3 decimals).
GRID = 1000
#: A width multiplier this small rounds every width to its minimum (a floor of 8 channels).
TINY_ALPHA = Rational(1, 10**6)


def parse_budget(text: str, option: str = "--macs") -> Rational:
    """``300M``, ``1.5G``, ``300e6``, ``300000000`` (also ``K`` and ``T``) as an exact
    number; anything else is a user error naming the text."""
    raw = str(text).strip().replace("_", "").replace(",", "")
    scale = 1
    if raw and raw[-1] in _SUFFIX:
        raw, scale = raw[:-1], _SUFFIX[raw[-1]]
    if not is_number_text(raw) or "/" in raw:
        raise CostModelError(f"cannot read {option} {excerpt(str(text))!r}: write a count such "
                             "as 300M, 1.5G, 300e6 or 300000000")
    number = read_number(raw, option) * scale
    if number <= 0:
        raise CostModelError(f"{option} {excerpt(str(text))!r} must be a positive count")
    return number


def _exact(value: Any) -> Any:
    value = sympy.sympify(value, strict=True)
    return int(value) if value.is_Integer else value


def _fmt_exact(value: Any) -> str:
    value = sympy.sympify(value, strict=True)
    if value.is_Integer:
        return f"{int(value):,}"
    return f"{float(value):,.1f}"


@dataclass(frozen=True)
class Solution:
    """The answer to one inverse question; :meth:`lines` is the text, :attr:`record` the
    JSON."""

    model: str
    knob: str
    budgets: tuple[tuple[str, Any], ...]
    convention: str
    settings: tuple[tuple[str, Any], ...]
    feasible: bool
    answer: str
    details: tuple[str, ...] = ()
    record: Mapping[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [self.answer, *("  " + line for line in self.details),
                f"{UNIT_NOTE} Params under the {self.convention} convention."]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "for": self.knob,
                "budget": {key: _json(value) for key, value in self.budgets},
                "convention": self.convention,
                "settings": {key: _json(value) for key, value in self.settings},
                "feasible": self.feasible, "answer": self.answer, **self.record}


def _budget_text(budgets: Mapping[str, Any]) -> str:
    return " and ".join(f"{human(value)} {LABEL[key]}" for key, value in budgets.items())


def _budgets(macs: Any, params: Any) -> dict[str, Rational]:
    budgets = {}
    if macs is not None:
        budgets["macs"] = parse_budget(macs, "--macs")
    if params is not None:
        budgets["params"] = parse_budget(params, "--params")
    if not budgets:
        raise CostModelError("give a budget: --macs (e.g. 300M) and/or --params (e.g. 3.5M)")
    return budgets


def _resolve(spec: str, overrides: Mapping[str, Any], solving: str):
    from ..zoo import resolve

    ref = resolve(spec, "budgets")
    values = {**dict(ref.values), **{k: str(v) for k, v in overrides.items() if v is not None}}
    knob = ref.spec.knob(solving)
    if knob is None:
        raise CostModelError(f"{ref.name} has no {solving} knob to solve for; its knobs are: "
                             f"{', '.join(k.name for k in ref.spec.knobs)}")
    if solving in values:
        raise CostModelError(f"{solving} is what --for {solving} solves for; remove "
                             f"{solving}={values[solving]} from the settings")
    return ref, values, knob


def _knob_values(ref, values: Mapping[str, Any]) -> dict[str, Any]:
    from ..spec.builder import resolve_knobs

    return resolve_knobs(ref.spec, values, ref.name)


def _settings_text(settings: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={show_value(value)}" for key, value in settings.items())


# --- alpha --------------------------------------------------------------------------------------

def _pieces(expr: Expr, x: sympy.Symbol) -> list[tuple[Any, Any, Expr]]:
    """``expr`` as polynomials on intervals of x > 0, splitting at the edges of its
    ``Max``/``Min`` terms (MobileNet v2's ``Max(1, alpha)``)."""
    atoms = [a for a in expr.atoms(sympy.Max, sympy.Min) if x in a.free_symbols]
    edges = sorted({arg for a in atoms for arg in a.args if arg.is_number and arg > 0})
    bounds = [Integer(0), *edges, sympy.oo]
    pieces = []
    for low, high in zip(bounds, bounds[1:]):
        mid = (low + high) / 2 if high != sympy.oo else low + 1
        piece = expr.subs({a: next(arg for arg in a.args
                                   if sympy.simplify(arg.subs(x, mid) - a.subs(x, mid)) == 0)
                           for a in atoms})
        pieces.append((low, high, sympy.expand(piece)))
    return pieces


def largest_within(expr: Expr, budget: Any, x: sympy.Symbol) -> tuple[str, Any]:
    """The largest x > 0 with ``expr(x) <= budget`` for an ``expr`` that grows with x:
    ``("value", root)`` (exact, from ``real_roots``), ``("none", expr(0+))`` when even x → 0
    exceeds the budget, or ``("any", None)`` when no x is too large."""
    pieces = _pieces(expr, x)
    at_zero = pieces[0][2].subs(x, 0)  # a polynomial near 0: its value there is the limit
    if at_zero > budget:
        return "none", at_zero
    if x not in expr.free_symbols:
        return "any", None
    best = None
    for low, high, piece in pieces:
        roots = [r for r in sympy.Poly(piece - budget, x).real_roots()
                 if r > low and (high == sympy.oo or r <= high)]
        if roots:
            best = max(roots)
    if best is None:
        return "any", None
    return "value", sympy.nsimplify(best) if best.is_Rational else best


def _idealized(ref, values: dict[str, Any], budgets, convention: str) -> dict[str, Any] | None:
    """The closed form under rounding=none and its exact largest alpha, or None when the
    model has no rounding=none."""
    rounding = ref.spec.knob("rounding")
    if rounding is not None and "none" not in rounding.choices:
        return None
    build_values = {**values, "alpha": S.alpha}
    if rounding is not None:
        build_values["rounding"] = "none"
    network = ref.build(**build_values)
    totals = {"macs": network.macs(convention), "params": network.params(convention)}
    if rounding is None and any(totals[q].atoms(MakeDivisible, sympy.floor) for q in totals):
        return None
    results = {}
    for quantity, budget in budgets.items():
        results[quantity] = largest_within(sympy.expand(totals[quantity]), budget, S.alpha)
    return {"network": network, "totals": totals, "results": results}


def _alpha_floor_layers(network, budgets, convention: str) -> str:
    """The layers that still cost something at alpha → 0 (idealized widths)."""
    from ..core.conventions import convention as get

    conv = get(convention)
    costs = []
    for layer in network.layers:
        cost = conv.layer_macs(layer) if "macs" in budgets else conv.layer_params(layer)
        value = sympy.sympify(cost, strict=True).subs(S.alpha, 0)  # polynomials (and Max): continuous
        if value != 0:
            costs.append((value, layer))
    costs.sort(key=lambda item: -float(item[0]))
    return ", ".join(f"{layer.name} ({layer.kind}) {_fmt_exact(value)}"
                     for value, layer in costs[:3])


def solve_alpha(spec: str, macs: Any = None, params: Any = None,
                convention: str = DEFAULT, **overrides: Any) -> Solution:
    """The largest width multiplier within the budgets (see the module docstring)."""
    budgets = _budgets(macs, params)
    ref, values, knob = _resolve(spec, overrides, "alpha")
    settings = {k: v for k, v in _knob_values(ref, values).items() if k != "alpha"}
    head = (f"{ref.name} ({_settings_text(settings)}): the largest alpha within "
            f"{_budget_text(budgets)} ({convention} convention)")
    record: dict[str, Any] = {}
    details: list[str] = []
    if knob.type == "choice":
        return _solve_choices(ref, values, knob, budgets, convention, settings, head)

    rounding = ref.spec.knob("rounding")
    current = str(settings.get("rounding", "")) if rounding is not None else ""
    ideal = _idealized(ref, values, budgets, convention)
    feasible_ideal = None
    if ideal is not None:
        kinds = {q: r[0] for q, r in ideal["results"].items()}
        roots = [r[1] for r in ideal["results"].values() if r[0] == "value"]
        formulas = {q: sympy.expand(ideal["totals"][q]) for q in budgets}
        record["idealized"] = {"rounding": "none",
                               "closed_form": {q: str(f) for q, f in formulas.items()}}
        details.append("idealized widths (rounding=none, c·alpha channels exactly):")
        for q, f in formulas.items():
            details.append(f"  {LABEL[q]} = {f}")
            edges = sorted({a for m in f.atoms(sympy.Max, sympy.Min) for a in m.args
                            if a.is_number})
            if edges:
                details.append(f"    (piecewise: a polynomial in alpha on each side of alpha "
                               f"= {', '.join(map(str, edges))})")
        if any(kind == "none" for kind in kinds.values()):
            feasible_ideal = False
            quantity = next(q for q, kind in kinds.items() if kind == "none")
            floor_value = ideal["results"][quantity][1]
            record["idealized"].update(feasible=False, at_alpha_0={quantity: _json(floor_value)})
            details.append(
                f"  no alpha > 0 fits: at alpha → 0 {ref.name} still needs "
                f"{_fmt_exact(floor_value)} {LABEL[quantity]} (layers that do not narrow: "
                f"{_alpha_floor_layers(ideal['network'], {quantity: 1}, convention)})")
        elif roots:
            feasible_ideal = True
            best = min(roots, key=lambda r: float(r))
            at = {q: sympy.radsimp(sympy.expand(ideal["totals"][q].subs(S.alpha, best)))
                  for q in QUANTITIES}
            record["idealized"].update(feasible=True, alpha=str(best), alpha_float=float(best),
                                       at={q: plain(v) for q, v in at.items()},
                                       at_exact={q: str(v) for q, v in at.items()})
            details.append(f"  largest alpha = {best} ≈ {float(best):.6f} (exact root of "
                           f"{' and '.join(LABEL[q] for q in budgets)} = budget; "
                           "sympy Poly.real_roots)")
        else:
            feasible_ideal = True
            record["idealized"].update(feasible=True, alpha=None)
            details.append("  every alpha fits (the budget does not depend on alpha)")

    if rounding is not None and current != "none":
        rounded = _solve_rounded(ref, values, budgets, convention, current,
                                 "the reference code's channel rounding, as the published "
                                 "checkpoints" if current == "reference" else "")
        record["reference"] = rounded["record"]
        details.extend(rounded["lines"])
        feasible = rounded["feasible"]
        answer = f"{head}: {rounded['answer']}"
    elif ideal is not None:
        feasible = bool(feasible_ideal)
        if feasible and record["idealized"].get("alpha") is not None:
            answer = f"{head}: alpha = {record['idealized']['alpha_float']:.6f} (exact: " \
                     f"{record['idealized']['alpha']})"
        elif feasible:
            answer = f"{head}: every alpha fits"
        else:
            answer = f"{head}: none — no alpha > 0 fits"
    else:  # no closed form: the exact step function on the grid
        rounded = _solve_rounded(ref, values, budgets, convention, None, "")
        record["reference"] = rounded["record"]
        details.extend(rounded["lines"])
        feasible = rounded["feasible"]
        answer = f"{head}: {rounded['answer']}"
    return Solution(ref.name, "alpha", tuple(budgets.items()), convention,
                    tuple(settings.items()), feasible, answer, tuple(details), record)


def _solve_choices(ref, values, knob, budgets, convention, settings, head) -> Solution:
    rows = []
    for choice in sorted(knob.choices, key=lambda c: Rational(c)):
        network = ref.build(**{**values, "alpha": choice})
        counts = {"macs": _exact(network.macs(convention)),
                  "params": _exact(network.params(convention))}
        rows.append((choice, counts, all(counts[q] <= b for q, b in budgets.items())))
    fitting = [row for row in rows if row[2]]
    details = [f"alpha={c}: {human(v['macs'])} MACs, {human(v['params'])} params"
               f"{'' if ok else ' (over budget)'}" for c, v, ok in rows]
    record = {"choices": [{"alpha": c, **v, "fits": ok} for c, v, ok in rows]}
    if fitting:
        best = fitting[-1]
        answer = f"{head}: alpha = {best[0]} (alpha takes only {', '.join(knob.choices)})"
        record["alpha"] = best[0]
    else:
        smallest = rows[0]
        answer = (f"{head}: none — no alpha fits: the smallest, alpha={smallest[0]}, needs "
                  f"{_fmt_exact(smallest[1]['macs'])} MACs and "
                  f"{_fmt_exact(smallest[1]['params'])} params")
        record["alpha"] = None
    return Solution(ref.name, "alpha", tuple(budgets.items()), convention,
                    tuple(settings.items()), bool(fitting), answer, tuple(details), record)


def _solve_rounded(ref, values, budgets, convention, rounding, rounding_help) -> dict:
    """Largest 3-decimal alpha whose rounded network fits, by exact evaluation of the closed
    form (with its MakeDivisible/floor terms) at alpha = n/1000."""
    network = ref.build(**{**values, "alpha": S.alpha})
    totals = {"macs": network.macs(convention), "params": network.params(convention)}
    cache: dict[int, dict[str, Any]] = {}
    exact_counts = point_function(totals, (S.alpha,))

    def counts(n: int) -> dict[str, Any]:
        if n not in cache:
            cache[n] = exact_counts(Fraction(n, GRID))
        return cache[n]

    def fits(n: int) -> bool:
        return all(counts(n)[q] <= b for q, b in budgets.items())

    label = f"rounding={rounding}" if rounding else "the spec's channel rounding"
    lines = [f"{label}{f' ({rounding_help})' if rounding_help else ''}, on 3-decimal "
             "alphas:"]
    if not fits(1):
        floor_counts = exact_counts(TINY_ALPHA)
        over = next(q for q in budgets if floor_counts[q] > budgets[q]) \
            if any(floor_counts[q] > budgets[q] for q in budgets) else next(iter(budgets))
        if floor_counts[over] > budgets[over]:
            tiny = ref.build(**{**values, "alpha": str(float(TINY_ALPHA))})

            def cost(layer):
                return layer.macs(convention) if over == "macs" else layer.params(convention)

            biggest = sorted(tiny.layers, key=lambda layer: -float(cost(layer)))[:2]
            which = ", ".join(f"{layer.name} ({layer.kind}) {_fmt_exact(cost(layer))}"
                              for layer in biggest)
            answer = (f"none — no alpha > 0 fits {human(budgets[over])} {LABEL[over]}: at "
                      f"alpha → 0 {ref.name} still needs {_fmt_exact(floor_counts[over])} "
                      f"{LABEL[over]}, every width at its rounding minimum (largest: {which})")
        else:
            answer = "none on the 3-decimal grid: only alphas below 0.001 fit"
        lines.append("  no 3-decimal alpha fits (the answer above says why)")
        return {"feasible": False, "answer": answer, "lines": lines,
                "record": {"rounding": rounding, "feasible": False,
                           "at_alpha_0": {q: _json(v) for q, v in floor_counts.items()}}}
    low, high = 1, GRID
    while fits(high):
        low, high = high, high * 2
        if high > 64 * GRID:
            answer = "every alpha up to 64 fits"
            lines.append("  " + answer)
            return {"feasible": True, "answer": answer, "lines": lines,
                    "record": {"rounding": rounding, "feasible": True, "alpha": None}}
    while high - low > 1:  # fits(low), not fits(high); the cost never falls as alpha grows
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    best = counts(low)
    first, top = 1, low  # the smallest grid alpha building the same network as `low`
    while top - first > 0:
        middle = (first + top) // 2
        first, top = (middle + 1, top) if counts(middle) != best else (first, middle)
    alpha_text = _grid_text(low)
    answer = (f"alpha = {alpha_text} ({_fmt_exact(best['macs'])} MACs, "
              f"{_fmt_exact(best['params'])} params)")
    lines.append(f"  largest usable alpha = {alpha_text}: {_fmt_exact(best['macs'])} MACs, "
                 f"{_fmt_exact(best['params'])} params")
    if first < low:
        lines.append(f"  every alpha from {_grid_text(first)} to {alpha_text} builds this same "
                     "rounded network")
    nxt = counts(high)
    lines.append(f"  alpha = {_grid_text(high)} already needs {_fmt_exact(nxt['macs'])} MACs, "
                 f"{_fmt_exact(nxt['params'])} params")
    return {"feasible": True, "answer": answer, "lines": lines,
            "record": {"rounding": rounding, "feasible": True, "alpha": alpha_text,
                       "at": {q: _json(v) for q, v in best.items()},
                       "same_network_from": _grid_text(first),
                       "next": {"alpha": _grid_text(high),
                                **{q: _json(v) for q, v in nxt.items()}}}}


def _grid_text(n: int) -> str:
    return f"{Fraction(n, GRID).numerator / Fraction(n, GRID).denominator:.3f}"


# --- resolution ---------------------------------------------------------------------------------

def _smallest_buildable(ref, values, knob) -> int:
    lowest = int(Rational(knob.min)) if knob.min is not None else 1
    highest = int(Rational(knob.default))

    def builds(r: int) -> bool:
        try:
            ref.build(**{**values, "resolution": str(r)})
            return True
        except CostModelError:
            return False

    if builds(lowest):
        return lowest
    while highest - lowest > 1:  # builds(highest), not builds(lowest)
        middle = (lowest + highest) // 2
        lowest, highest = (lowest, middle) if builds(middle) else (middle, highest)
    return highest


def solve_resolution(spec: str, macs: Any = None, params: Any = None,
                     convention: str = DEFAULT, **overrides: Any) -> Solution:
    """The largest integer resolution, and the largest multiple of the network's stride,
    within the budgets (see the module docstring)."""
    budgets = _budgets(macs, params)
    ref, values, knob = _resolve(spec, overrides, "resolution")
    network = ref.build(**{**values, "resolution": S.R})
    settings = {k: v for k, v in network.config if k != "resolution"}
    totals = {"macs": network.macs(convention), "params": network.params(convention)}
    head = (f"{ref.name} ({_settings_text(settings)}): the largest resolution within "
            f"{_budget_text(budgets)} ({convention} convention)")
    record: dict[str, Any] = {}
    lowest = _smallest_buildable(ref, values, knob)

    exact_counts = point_function(totals, (S.R,))

    def counts(r: int) -> dict[str, Any]:
        return exact_counts(r)

    def fits(r: int) -> bool:
        values_at = counts(r)
        return all(values_at[q] <= b for q, b in budgets.items())

    if not fits(lowest):
        at = counts(lowest)
        over = next(q for q in budgets if at[q] > budgets[q])
        depends = S.R in totals[over].free_symbols
        why = (f"the smallest resolution that builds, {lowest}, needs {_fmt_exact(at[over])} "
               f"{LABEL[over]}" if depends else
               f"its {_fmt_exact(at[over])} {LABEL[over]} do not depend on the resolution")
        answer = f"{head}: none — no resolution fits: {why}"
        return Solution(ref.name, "resolution", tuple(budgets.items()), convention,
                        tuple(settings.items()), False, answer, (),
                        {"resolution": None, "smallest_buildable": lowest,
                         "at_smallest": {q: _json(v) for q, v in at.items()}})
    if not any(S.R in totals[q].free_symbols for q in budgets):
        answer = f"{head}: every resolution fits ({' and '.join(LABEL[q] for q in budgets)} " \
                 "do not depend on it)"
        return Solution(ref.name, "resolution", tuple(budgets.items()), convention,
                        tuple(settings.items()), True, answer, (), {"resolution": None})

    stride = network.total_stride
    closed = derive_network(ref, symbols=["resolution"], convention_name=convention,
                            residue=0, values=values)
    period = closed.valid_for[0][1] if closed.valid_for else 1
    forms = {"macs": closed.expr, "params": closed.extras[0].expr}
    details = [f"closed form for R a multiple of {period} (sympy, from the layers):"]
    details += [f"  {LABEL[q]} = {forms[q]}" for q in budgets]
    roots = []
    for q, budget in budgets.items():
        kind, root = largest_within(forms[q], budget, S.R)
        if kind == "value":
            roots.append(root)
    multiple = None
    if roots and stride % period == 0:
        root = min(roots, key=float)
        multiple = int(sympy.floor(root / stride)) * stride
        details.append(f"  largest real R with cost = budget: {root} ≈ {float(root):.2f}")
        if multiple < lowest or not fits(multiple) or fits(multiple + stride):
            multiple = None  # the closed form disagrees with the exact count: search instead
    if multiple is None:  # exact search on multiples of the stride
        low = (lowest + stride - 1) // stride
        high = max(low, 1)
        while fits(high * stride):
            high *= 2
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if fits(middle * stride) else (low, middle)
        multiple = low * stride if low * stride >= lowest and fits(low * stride) else None
    base = multiple if multiple is not None else lowest
    low, high = base, base + stride
    while not fits(low):
        low -= 1
    while fits(high):
        high += stride
    while high - low > 1:  # fits(low), not fits(high): MACs never fall as R grows
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    best, nxt = counts(low), counts(low + 1)
    details.append(f"largest resolution: {low} ({_fmt_exact(best['macs'])} MACs, "
                   f"{_fmt_exact(best['params'])} params); {low + 1} needs "
                   f"{_fmt_exact(nxt['macs'])} MACs")
    if multiple is not None:
        at = counts(multiple)
        details.append(f"largest multiple of the network's stride {stride}: {multiple} "
                       f"({_fmt_exact(at['macs'])} MACs, {_fmt_exact(at['params'])} params)")
    answer = f"{head}: {low}" + (f" (largest multiple of the stride {stride}: {multiple})"
                                 if multiple is not None else
                                 f" (no multiple of the stride {stride} fits)")
    record.update({"resolution": low, "at": {q: _json(v) for q, v in best.items()},
                   "stride": stride, "multiple_of_stride": multiple,
                   "closed_form": {q: str(forms[q]) for q in budgets},
                   "closed_form_valid_for": f"R a multiple of {period}"})
    return Solution(ref.name, "resolution", tuple(budgets.items()), convention,
                    tuple(settings.items()), True, answer, tuple(details), record)


SOLVERS: dict[str, Callable[..., Solution]] = {"alpha": solve_alpha,
                                               "resolution": solve_resolution}
