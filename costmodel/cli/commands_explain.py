"""`costmodel explain`: why counters disagree, line by line from one convention to others."""

from __future__ import annotations

import json
from enum import Enum
from typing import Annotated

import typer

from ..core.conventions import CONVENTIONS
from .app import SPEC_EPILOG, SPEC_HELP, app, emit, show_warnings, user_errors, with_warnings


class ExplainFormat(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


EXPLAIN_HELP = (
    "Why counters give different numbers: take one convention's total MACs to others', one "
    "line per PyTorch call (layers, input and output elements, and what each convention adds "
    "for them, with its rule), ending in each convention's exact total and params.\n\n"
    "costmodel explain mobilenet_v2 --between paper fvcore thop: from the paper's count "
    "to fvcore's and thop's. Without --between: paper to every convention ("
    + ", ".join(CONVENTIONS) + "). MACs are multiply-accumulates; 1 MAC = 2 FLOPs.")


@app.command(help=EXPLAIN_HELP, epilog=SPEC_EPILOG)
@user_errors
def explain(
    spec: Annotated[list[str], typer.Argument(
        help=SPEC_HELP + " Conventions may follow --between, separated by spaces.",
        show_default=False, metavar="SPEC")],
    between: Annotated[list[str] | None, typer.Option(
        "--between", help="Conventions, the first the base: --between paper fvcore thop "
                          "(or paper,fvcore).", show_default=False)] = None,
    fmt: Annotated[ExplainFormat, typer.Option("--format", "-f", help="Output format.")]
        = ExplainFormat.table,
) -> None:
    """Why counters differ (help: EXPLAIN_HELP)."""
    from ..analysis.explain import explain as run, records
    from ..report.explain_text import explain_table
    from ..errors import CostModelError
    from ..report.table import to_text
    from ..frontends import resolve

    model, *more = spec  # `--between a b c`: click hands b and c over as arguments
    names = [n.strip() for item in (*(between or ()), *more) for n in item.split(",")
             if n.strip()]
    for name in more:
        if name not in CONVENTIONS:
            raise CostModelError(f"explain takes one SPEC, then conventions after --between; "
                                 f"{name!r} is not a convention ({', '.join(CONVENTIONS)})")
    if more and not between:
        raise CostModelError(f"explain takes one SPEC; put conventions after --between, e.g. "
                             f"--between paper {more[0]}")
    from ..core.warnings import records as warning_records

    network = resolve(model).build()
    show_warnings([network])
    result = run(network, names or None)
    if fmt == ExplainFormat.json:
        emit(json.dumps({**records(result), "warnings": warning_records(network)}, indent=2))
    elif fmt == ExplainFormat.markdown:
        emit(with_warnings(explain_table(result), [network]).render("markdown"))
    else:
        emit(to_text(with_warnings(explain_table(result), [network])))
