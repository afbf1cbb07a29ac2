"""What a symbolic derivation is: the frozen :class:`Derivation` (a closed form computed from
layer primitives, beside the paper's form), its :class:`Quantity` and :class:`Step` values, the
symbols' meanings, the sources cited, and exact equality of closed forms.

The named derivations are in :mod:`costmodel.analysis.derivations`, whole networks in
:mod:`costmodel.analysis.derive_network`; :mod:`costmodel.analysis.derive` looks either up by
name. The terminal, LaTeX and Markdown renderings are in :mod:`costmodel.report.derivation_text`.

Conventions used throughout: stride 1 and "same" padding unless stated; MACs are
multiply-accumulates (1 MAC = 2 FLOPs; the papers' FLOPs and Mult-Adds are MACs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import sympy
from sympy import Expr, Integer, Symbol

from ..core import symbols as S
from ..core.network import exact
from ..core.numbers import plain
from ..core.numbers import is_number_text, read_number
from ..limits import excerpt
from ..errors import CostModelError

#: JSON values, a fraction such as 1/3 kept exact (as text)
_json = partial(plain, exact_fractions=True)

#: ShuffleNet v2's "B": the FLOPs (multiply-adds) of the 1x1 convolution whose memory access
#: cost is bounded, B = h·w·c1·c2 (÷ g for a group convolution). Local to the G1/G2 bounds.
B = Symbol("B", positive=True)

#: What each symbol stands for, in the notation of the source material and the papers.
SYMBOL_MEANING: dict[str, str] = {
    "H": "feature-map height", "W": "feature-map width", "C": "input channels",
    "k": "output channels (the bottleneck width in the residual units)", "g": "groups",
    "K": "kernel size (K×K)", "alpha": "width multiplier α", "rho": "resolution multiplier ρ",
    "t": "expansion factor", "c1": "input channels of the 1×1 conv",
    "c2": "output channels of the 1×1 conv", "R": "input side in pixels",
    "B": "FLOPs (MACs) of the 1×1 conv, h·w·c1·c2 (÷ g)",
    "h": "attention heads", "d_k": "key (and value) features per head",
}

MOBILENET_V1 = ("Howard et al., MobileNets: Efficient Convolutional Neural Networks for Mobile "
                "Vision Applications, arXiv 1704.04861")
SHUFFLENET_V1 = ("Zhang et al., ShuffleNet: An Extremely Efficient Convolutional Neural Network "
                 "for Mobile Devices, arXiv 1707.01083")
MOBILENET_V2 = ("Sandler et al., MobileNetV2: Inverted Residuals and Linear Bottlenecks, "
                "arXiv 1801.04381")
SHUFFLENET_V2 = ("Ma et al., ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture "
                 "Design, arXiv 1807.11164")
RESNET = "He et al., Deep Residual Learning for Image Recognition, arXiv 1512.03385"
RESNEXT = ("Xie et al., Aggregated Residual Transformations for Deep Neural Networks, "
           "arXiv 1611.05431")
ALEXNET = ("Krizhevsky et al., ImageNet Classification with Deep Convolutional Neural Networks, "
           "NIPS 2012")


# --- values -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Quantity:
    """A further quantity of a derivation (params, a bound, a ratio at K = 3...), with the
    paper's form where the paper prints one."""

    label: str
    expr: Expr
    paper_form: Expr | None = None
    note: str = ""


@dataclass(frozen=True)
class Step:
    """One layer of the derived structure: what it is, its shapes and its MACs."""

    name: str
    kind: str
    input: str
    output: str
    macs: Expr


@dataclass(frozen=True)
class Derivation:
    """A closed form computed from layer primitives.

    ``expr`` is the main quantity (``quantity`` says which: MACs, a ratio, or a memory access
    cost) as the layers give it, rewritten into the paper's shape; ``paper_form`` is the
    formula the paper prints, kept only to show and test equality (``None`` for whole
    networks, which no paper prints as a polynomial). ``defaults`` fill symbols the user does
    not give in :meth:`at` (the papers' 3×3 kernel); ``assumptions`` state where the closed
    form is valid.
    """

    name: str
    title: str
    citation: str
    expr: Expr
    paper_form: Expr | None
    quantity: str = "MACs"
    extras: tuple[Quantity, ...] = ()
    symbols: tuple[Symbol, ...] = ()
    explanation: str = ""
    steps: tuple[Step, ...] = ()
    defaults: tuple[tuple[Symbol, Any], ...] = ()
    assumptions: tuple[str, ...] = ()
    settings: tuple[tuple[str, Any], ...] = ()
    valid_for: tuple[tuple[Symbol, int, int], ...] = ()

    # -- checks and values --

    def matches_paper(self) -> bool | None:
        """Whether ``expr`` equals the paper's form exactly (``None`` without one)."""
        return None if self.paper_form is None else equal(self.expr, self.paper_form)

    def quantities(self) -> tuple[Quantity, ...]:
        """The main quantity first, then the extras."""
        return (Quantity(self.quantity, self.expr, self.paper_form), *self.extras)

    def at(self, values: Mapping[Any, Any]) -> dict[str, Any]:
        """Every quantity evaluated exactly at ``values`` (symbols or their names to numbers);
        a symbol the derivation has a default for (K = 3) takes it when not given. Returns
        ``{label: value}`` with whole numbers as Python ints; quantities still holding free
        symbols stay expressions."""
        subs = self.substitutions(values)
        results = {}
        for q in self.quantities():
            value = q.expr.subs(subs)
            results[q.label] = exact(sympy.simplify(value) if value.free_symbols else value)
        return results

    def substitutions(self, values: Mapping[Any, Any]) -> dict[Symbol, Any]:
        """``values`` with symbol keys and exact numbers, defaults added for missing symbols."""
        by_name = {s.name: s for s in self.symbols}
        subs: dict[Symbol, Any] = {}
        for key, value in values.items():
            symbol = key if isinstance(key, Symbol) else by_name.get(_knob_symbol_name(key))
            if symbol is None:
                raise CostModelError(f"{self.name} has no symbol {key!r}; its symbols are "
                                     f"{', '.join(s.name for s in self.symbols)}")
            subs[symbol] = _exact_number(value, str(key))
        for symbol, value in self.defaults:
            subs.setdefault(symbol, value)
        for symbol, period, residue in self.valid_for:
            value = subs.get(symbol)
            if value is not None and value.is_number and (not value.is_Integer
                                                          or value % period != residue):
                where = (f"a multiple of {period}" if residue == 0
                         else f"≡ {residue} (mod {period})")
                raise CostModelError(
                    f"{symbol}={value} is outside the closed form's validity ({symbol} must be "
                    f"{where}); `costmodel compare {self.name}:resolution={value}` counts it "
                    "exactly")
        return subs

    def defaults_used(self, values: Mapping[Any, Any]) -> dict[str, Any]:
        given = {key.name if isinstance(key, Symbol) else _knob_symbol_name(key)
                 for key in values}
        return {s.name: v for s, v in self.defaults if s.name not in given}

    # -- renderings --

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + self.latex(align="aligned") + "$"

    def latex(self, align: str = "align*") -> str:
        """The derivation as LaTeX: each quantity, with the paper's form where it differs in
        writing, inside an ``align*`` (or ``aligned``) environment."""
        title = _latex_text(f"{self.name}: {self.title}")
        rows = [rf"&\textbf{{{title}}}"]
        for q in self.quantities():
            rows.append(rf"\text{{{_latex_text(q.label)}}} &= {sympy.latex(q.expr)}")
            if q.paper_form is not None:
                same = equal(q.expr, q.paper_form)
                rows.append(rf"\text{{paper}} &= {sympy.latex(q.paper_form)}"
                            rf"\quad\text{{({'equal' if same else 'NOT equal'})}}")
        body = r" \\ ".join(rows)
        return rf"\begin{{{align}}} {body} \end{{{align}}}"

    def to_dict(self, values: Mapping[Any, Any] | None = None) -> dict[str, Any]:
        """The JSON contract of ``costmodel derive --format json``."""
        record: dict[str, Any] = {
            "name": self.name, "title": self.title, "citation": self.citation,
            "quantity": self.quantity, "expr": str(self.expr), "latex": sympy.latex(self.expr),
            "paper_form": None if self.paper_form is None else str(self.paper_form),
            "paper_form_latex": None if self.paper_form is None else sympy.latex(self.paper_form),
            "matches_paper": self.matches_paper(),
            "symbols": {s.name: SYMBOL_MEANING.get(s.name, "") for s in self.symbols},
            "extras": [{"label": q.label, "expr": str(q.expr), "latex": sympy.latex(q.expr),
                        "paper_form": None if q.paper_form is None else str(q.paper_form),
                        "matches_paper": None if q.paper_form is None
                        else equal(q.expr, q.paper_form), "note": q.note}
                       for q in self.extras],
            "steps": [{"name": s.name, "type": s.kind, "input": s.input, "output": s.output,
                       "macs": str(s.macs)} for s in self.steps],
            "assumptions": list(self.assumptions),
            "settings": {k: _json(v) for k, v in self.settings},
            "explanation": self.explanation,
        }
        if values is not None:
            record["at"] = {"values": {k.name: _json(v) for k, v in
                                       self.substitutions(values).items()},
                            "defaults_used": {k: _json(v)
                                              for k, v in self.defaults_used(values).items()},
                            "results": {k: _json(v) for k, v in self.at(values).items()}}
        return record


def show_value(value: Any) -> str:
    """A knob value as a user writes it: 7/5 as 1.4 (a terminating decimal), 1/3 as 1/3."""
    if isinstance(value, str):
        return value
    value = sympy.sympify(value, strict=True)
    if not value.is_Rational or value.is_Integer:
        return str(value)
    denominator = int(value.q)
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return f"{float(value):g}" if denominator == 1 else str(value)


def _latex_text(text: str) -> str:
    return text.replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def _knob_symbol_name(key: str) -> str:
    """``resolution`` is the symbol ``R``; other names are symbol names."""
    symbol = S.KNOB_SYMBOLS.get(key)
    return symbol.name if symbol is not None else key


def _exact_number(value: Any, what: str) -> Any:
    """A number as an exact sympy Integer/Rational; text such as ``14``, ``0.75``, ``10/14``
    is read by :func:`costmodel.core.numbers.read_number` (never ``sympify``; bounded)."""
    if isinstance(value, sympy.Basic):
        return value
    if isinstance(value, float):
        return sympy.nsimplify(value)
    if isinstance(value, int):
        return Integer(value)
    text = str(value).strip()
    if not is_number_text(text):
        raise CostModelError(f"cannot read {what}={excerpt(text)}: give a number such as 14, "
                             "0.75 or 10/14")
    return read_number(text, what)


def equal(a: Expr, b: Expr) -> bool:
    """Exact symbolic equality: a cheap ``expand(cancel(a - b))`` first, ``simplify`` when
    that is not conclusive (the tests use ``simplify(a - b) == 0`` throughout)."""
    difference = sympy.expand(sympy.cancel(sympy.sympify(a, strict=True) - sympy.sympify(b, strict=True)))
    return difference == 0 or sympy.simplify(difference) == 0


def symbols_of(*exprs: Expr) -> tuple[Symbol, ...]:
    """The symbols ``exprs`` depend on, in costmodel.core.symbols' order (B last)."""
    order = [*S.BY_NAME.values(), B]
    free = set().union(*(sympy.sympify(e, strict=True).free_symbols for e in exprs))
    return tuple(s for s in order if s in free)



def short_citation(citation: str) -> str:
    """``Howard et al., MobileNets: ..., arXiv 1704.04861, §3.1 (Eq. 2)`` ->
    ``Howard et al., arXiv 1704.04861, §3.1 (Eq. 2)``: the authors and where, per source."""
    import re

    parts = []
    for source in citation.split("; "):
        authors = source.split(",")[0]
        where = re.search(r"(arXiv \d+\.\d+|NIPS \d+)(.*)$", source)
        parts.append(f"{authors}, {where.group(1)}{where.group(2)}" if where else source)
    return "; ".join(parts)
