"""`costmodel derive` and `costmodel solve`: the papers' closed forms and inverse questions.

Parsing and printing only; the logic is in :mod:`costmodel.analysis.derive` and
:mod:`costmodel.analysis.solve` (imported inside the commands, so other commands start fast).
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated, Optional

import typer

from ..errors import CostModelError
from .app import SPEC_EPILOG, ConventionOption, app, emit, user_errors


#: The formats each command prints, as --format choices.
DeriveFormat = Enum("DeriveFormat", {f: f for f in ("table", "json", "latex", "markdown")},
                    type=str)
SolveFormat = Enum("SolveFormat", {f: f for f in ("table", "json")}, type=str)


def _parse_at(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    from ..spec.ref import parse_settings

    return dict(parse_settings(text, text))


@app.command(epilog=SPEC_EPILOG)
@user_errors
def derive(
    name: Annotated[Optional[str], typer.Argument(
        help="A derivation (conv, separable, inverted_residual, attention, mqa_vs_mhsa...: "
             "leave out to list them all), or a zoo model / spec / .cm file for the whole "
             "network's closed form.", show_default=False)] = None,
    at: Annotated[Optional[str], typer.Option(
        "--at", help="Evaluate exactly at these values, e.g. H=14,W=14,C=512,k=512 "
                     "(K=3 unless given); for networks R=160 or alpha=0.5.")] = None,
    symbols: Annotated[Optional[str], typer.Option(
        "--symbols", help="Networks only: the knobs to keep symbolic, e.g. resolution,alpha "
                          "(default: resolution, and alpha too under rounding=none).")] = None,
    crossover: Annotated[bool, typer.Option(
        "--crossover", help="Networks only: the attention and convolution MACs in R, and the "
                            "resolution at which attention overtakes the convolutions.")] =
    False,
    fmt: Annotated[DeriveFormat, typer.Option("--format", "-f", help="Output format.")] =
    DeriveFormat.table,
    convention: ConventionOption = "paper",
) -> None:
    """A paper's formula, or a whole network, in closed form.

    The papers' formulas derived from the layer primitives: MACs (and params, ratios,
    memory access cost) in closed form, checked against the paper's form; whole networks as
    polynomials in the resolution (and alpha)."""
    from ..analysis import derive as D
    from ..report import derivation_text as render

    if name is None:
        rows = D.listing()
        if fmt == DeriveFormat.json:
            emit(json.dumps(rows, indent=2))
            return
        from ..report.table import UNIT_NOTE, Column, Table

        table = Table("Derivations (costmodel derive NAME)", (
            Column("name", "name"), Column("title", "what"), Column("source", "source")),
            tuple(rows), ("Any zoo model or .cm file also derives: costmodel derive "
                          "mobilenet_v2.", UNIT_NOTE))
        emit(table.render(fmt.value))
        return
    values = _parse_at(at)
    if symbols is not None and name in D.DERIVATIONS:
        raise CostModelError(f"--symbols applies to whole networks; {name} is a derivation "
                             "whose symbols are fixed")
    chosen = None if symbols is None else [s.strip() for s in symbols.split(",") if s.strip()]
    if crossover:
        if name in D.DERIVATIONS or symbols is not None:
            raise CostModelError("--crossover applies to a whole network (a zoo model or "
                                 f".cm file) kept symbolic in its resolution, not to {name}"
                                 + (" with --symbols" if symbols is not None else ""))
        from ..analysis.crossover import attention_crossover

        result = attention_crossover(name, convention.value)
    else:
        result = D.derive_any(name, symbols=chosen, convention_name=convention.value)
    if values is not None:
        result.substitutions(values)  # a bad name or value fails before anything prints
    if fmt == DeriveFormat.json:
        emit(json.dumps(result.to_dict(values), indent=2, ensure_ascii=False))
    elif fmt == DeriveFormat.latex:
        emit(render.render_latex(result, values))
    elif fmt == DeriveFormat.markdown:
        emit(render.render_markdown(result, values))
    else:
        from ..report.table import terminal_width

        emit(render.render_text(result, values, terminal_width()))


class Target(str, Enum):
    alpha = "alpha"
    resolution = "resolution"


@app.command(epilog=SPEC_EPILOG)
@user_errors
def solve(
    spec: Annotated[str, typer.Argument(help="A model name, name:key=value,... or a .cm file.",
                                        show_default=False)],
    target: Annotated[Target, typer.Option("--for", help="The knob to solve for.")] =
    Target.alpha,
    macs: Annotated[Optional[str], typer.Option(
        help="MAC budget: 300M, 1.5G, 300e6 or 300000000 (1 MAC = 2 FLOPs).")] = None,
    params: Annotated[Optional[str], typer.Option(help="Parameter budget, e.g. 3.5M.")] = None,
    resolution: Annotated[Optional[int], typer.Option(
        help="Fix the resolution (when solving for alpha).")] = None,
    alpha: Annotated[Optional[str], typer.Option(
        help="Fix alpha (when solving for resolution).")] = None,
    rounding: Annotated[Optional[str], typer.Option(
        help="Fix the channel rounding knob (reference or none).")] = None,
    fmt: Annotated[SolveFormat, typer.Option("--format", "-f", help="Output format.")] =
    SolveFormat.table,
    convention: ConventionOption = "paper",
) -> None:
    """The largest alpha or resolution within a MACs and/or params budget.

    Solved with sympy on the closed form, and the largest usable value under the reference
    rounding.

    A budget no setting can meet is an answer, not an error: it prints why (what the smallest
    setting still needs) and exits 0; JSON has "feasible": false. Bad input exits 2.
    """
    from ..analysis.solve import SOLVERS

    overrides = {"resolution": resolution, "alpha": alpha, "rounding": rounding}
    solution = SOLVERS[target.value](spec, macs=macs, params=params,
                                     convention=convention.value,
                                     **{k: v for k, v in overrides.items() if v is not None})
    if fmt == SolveFormat.json:
        emit(json.dumps(solution.to_dict(), indent=2, ensure_ascii=False))
    else:
        from ..report.table import terminal_width
        from ..report.text_layout import fit_text

        emit(fit_text("\n".join(solution.lines()), terminal_width()))
