"""Derivations rendered: the terminal text of ``costmodel derive`` (sympy's pretty printer),
LaTeX and Markdown."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy
from sympy import Expr, Symbol

from ..analysis.derivation import SYMBOL_MEANING, Derivation, _latex_text, equal
from ..core import symbols as S
from .table import UNIT_NOTE



#: Wider pretty-printed formulas (unrounded MakeDivisible/floor sums) print as wrapped text.
WIDE = 110


def _pretty(label: str, expr: Expr, wide: int = WIDE) -> str:
    """``label = expr`` by sympy's pretty printer (unicode, unwrapped); a formula wider than
    :data:`WIDE` columns or ``wide`` (the terminal's, less the indent) is printed as text
    instead, collected by powers of R and wrapped before a ``+`` or ``−``, never inside a
    term."""
    # sympy's pretty printer imports sympy.physics.units on its first product (about 0.07 s)
    text = sympy.pretty(sympy.Eq(Symbol(label), expr, evaluate=False), use_unicode=True,
                        wrap_line=False)
    if max(len(line) for line in text.splitlines()) <= min(wide, WIDE):
        return text
    import re

    collected = sympy.collect(expr, S.R) if S.R in expr.free_symbols else expr
    terms = re.split(r"(?= [+-] )", f"{label} = {sympy.sstr(collected)}")
    lines, indent = [terms[0]], " " * (len(label) + 3)
    for term in terms[1:]:
        if len(lines[-1]) + len(term) <= min(wide, WIDE):
            lines[-1] += term
        else:
            lines.append(indent + term.lstrip())
    return "\n".join(lines)


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _count_text(value: Any) -> str:
    from ..report.table import human

    value = sympy.sympify(value, strict=True)
    if value.is_Integer:
        return f"{int(value):,}" + (f" ({human(int(value))})" if abs(value) >= 10_000 else "")
    if value.is_Rational:
        return f"{value} ≈ {float(value):.6g}"
    if value.is_number:
        return f"{value} ≈ {float(value):.6g}"
    return str(value)


def render_text(d: Derivation, values: Mapping[Any, Any] | None = None,
                width: int | None = None) -> str:
    """The terminal rendering of ``costmodel derive``: the layers, each quantity by sympy's
    pretty printer, the paper's form and whether it is equal, values at ``--at``; within
    ``width`` columns when given (prose wrapped between words)."""
    from .text_layout import fit_text

    text = _render_text(d, values, WIDE if width is None else width - 2)
    return text if width is None else fit_text(text, width)


def _render_text(d: Derivation, values: Mapping[Any, Any] | None, wide: int) -> str:
    out = [f"{d.name}: {d.title}", d.citation, ""]
    if d.steps:
        out.append("Layers (costmodel.core.ops primitives, summed):")
        width = max(len(s.name) for s in d.steps)
        for s in d.steps:
            out.append(f"  {s.name:<{width}}  {s.kind:<12} {s.input} → {s.output}   "
                       f"MACs = {sympy.sstr(s.macs)}")
        out.append("")
    for q in d.quantities():
        out.append(_indent(_pretty(q.label, q.expr, wide)))
        if q.paper_form is not None:
            verdict = "equal (exact sympy)" if equal(q.expr, q.paper_form) else "NOT EQUAL"
            out.append(f"    paper's form: {sympy.sstr(q.paper_form)} — {verdict}")
        if q.note:
            out.append(f"    {q.note}")
        out.append("")
    if values is not None:
        defaults = d.defaults_used(values)
        given = ", ".join(f"{s}={v}" for s, v in
                          ((k.name, v) for k, v in d.substitutions(values).items()))
        extra = f" ({', '.join(defaults)} by default)" if defaults else ""
        out.append(f"At {given}{extra}:")
        for label, value in d.at(values).items():
            out.append(f"  {label} = {_count_text(value)}")
        out.append("")
    if d.symbols:
        out.append("Symbols: " + "; ".join(f"{s.name} {SYMBOL_MEANING.get(s.name, '')}".strip()
                                            for s in d.symbols) + ".")
    for text in d.assumptions:
        out.append(f"Assumption: {text}.")
    if d.explanation:
        out.append(d.explanation)
    if d.quantity == "MACs" or any(q.label.startswith("MACs") for q in d.extras):
        out.append(UNIT_NOTE)
    return "\n".join(out).rstrip() + "\n"


def render_latex(d: Derivation, values: Mapping[Any, Any] | None = None) -> str:
    """A LaTeX fragment: a comment with the citation, an ``align*`` with every quantity."""
    lines = [f"% {d.name}: {d.title}", f"% {d.citation}", d.latex()]
    if values is not None:
        rows = [rf"\text{{{_latex_text(label)}}} &= {sympy.latex(sympy.sympify(value, strict=True))}"
                for label, value in d.at(values).items()]
        given = ", ".join(f"{k.name} = {v}" for k, v in d.substitutions(values).items())
        lines += [f"% at {given}", r"\begin{align*} " + r" \\ ".join(rows) + r" \end{align*}"]
    lines += [f"% Assumption: {text}." for text in d.assumptions]
    return "\n".join(lines) + "\n"


def render_markdown(d: Derivation, values: Mapping[Any, Any] | None = None) -> str:
    """Markdown with ``$$`` math (GitHub, Jupyter)."""
    lines = [f"**{d.name}**: {d.title}  ", f"_{d.citation}_", ""]
    for q in d.quantities():
        lines.append(f"$$\\text{{{_latex_text(q.label)}}} = {sympy.latex(q.expr)}$$")
        if q.paper_form is not None:
            same = "equal" if equal(q.expr, q.paper_form) else "NOT equal"
            lines.append(f"paper's form: ${sympy.latex(q.paper_form)}$ ({same})")
        lines.append("")
    if values is not None:
        given = ", ".join(f"{k.name}={v}" for k, v in d.substitutions(values).items())
        lines.append(f"At {given}:")
        lines.append("")
        for label, value in d.at(values).items():
            lines.append(f"- {label} = {_count_text(value)}")
        lines.append("")
    lines += [f"_Assumption: {text}._  " for text in d.assumptions]
    if d.explanation:
        lines.append(d.explanation)
    return "\n".join(lines).rstrip() + "\n"
