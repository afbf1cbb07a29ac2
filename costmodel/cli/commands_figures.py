"""`costmodel collapse` and `costmodel breakdown`: the figures of costmodel.report.figures from
the command line. numpy and matplotlib are imported inside the commands."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.conventions import DEFAULT
from .. import limits
from ..errors import CostModelError
from ..safe_io import check_writable_target, printable
from .app import (SPEC_EPILOG, ConventionOption, Format, FormatOption, NoCaptionOption,
                  SpecArgument, app, emit, user_errors)

_FIGURE_SUFFIXES = (".png", ".svg")


def _figure_path(path: Optional[Path], option: str) -> Optional[Path]:
    """``path`` if a figure may be written there (checked before the work): a .png or .svg
    name that is not a directory, a pipe or a device; missing folders are created."""
    if path is not None and path.suffix.lower() not in _FIGURE_SUFFIXES:
        raise CostModelError(f"{option} {printable(path, limits.MAX_QUOTED_PATH_CHARS)}: a "
                             "figure is written as .png or .svg (got "
                             f"{printable(path.suffix or 'no suffix')!r})")
    if path is not None:
        check_writable_target(path, "figure", create_folders=True)
    return path


def parse_m_list(text: str) -> tuple[int, ...]:
    """``2,3,5,15,30`` as integers >= 1; a bad item is named in the error."""
    values = []
    for item in (part.strip() for part in text.split(",")):
        if not re.fullmatch(r"[0-9]{1,9}", item) or int(item) < 1:
            raise CostModelError(f"--m {text!r}: {item!r} is not a whole number >= 1; give "
                                 "embedding dimensions separated by commas, e.g. 2,3,5,15,30")
        values.append(int(item))
    return tuple(values)


@app.command()
@user_errors
def collapse(
    m: Annotated[str, typer.Option(
        "--m", help="Embedding dimensions m, separated by commas.")] = "2,3,5,15,30",
    n: Annotated[int, typer.Option(help="Points on the spiral.", min=2)] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the random matrices T.", min=0)] = 0,
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", help="Also draw the figure to FILE (.png or .svg).",
        show_default=False)] = None,
    fmt: FormatOption = Format.table,
    no_caption: NoCaptionOption = False,
) -> None:
    """MobileNet v2's ReLU experiment (Fig. 1): how much of a spiral survives ReLU in m dims.

    A 2-D spiral of n points is embedded in m dimensions by a random m×2 matrix T, passed
    through ReLU and mapped back with T's pseudo-inverse (arXiv 1801.04381, Fig. 1). Prints, per
    m, the reconstruction error and the share of points that collapse (fewer than two active
    ReLU units); the same seed gives the same numbers."""
    from ..analysis.collapse import ERROR_NOTE
    from ..report.table import Column, Table

    from ..analysis.collapse import check_sizes

    m_values = parse_m_list(m)
    check_sizes(m_values, n)
    out = _figure_path(out, "--out")
    if out is not None:
        from ..report.figure_style import captions
        from ..report.figures import plot_relu_collapse
        with captions(not no_caption):
            result = plot_relu_collapse(out, m_values, n=n, seed=seed)
    else:
        from ..analysis.collapse import collapse as run
        result = run(m_values, n=n, seed=seed)

    exact = fmt in (Format.json, Format.csv)
    rows = tuple({"m": m_value,
                  "error": error if exact else f"{error:.3f}",
                  "collapsed": lost if exact else f"{lost:.1%}"}
                 for m_value, error, lost in zip(result.m_values, result.errors,
                                                 result.collapsed))
    table = Table(
        f"ReLU collapse (MobileNet v2, Fig. 1): {n} points, seed {seed}",
        (Column("m", "m", "count"), Column("error", "error ‖x̃ − x‖ / ‖x‖"),
         Column("collapsed", "collapsed (share of points)")), rows,
        ("A 2-D spiral x is mapped to m dimensions by a random m×2 matrix T, through ReLU, "
         "and back with pinv(T): x̃ = pinv(T)·ReLU(T·x).",
         f"error: relative reconstruction error. {ERROR_NOTE}",
         "collapsed: share of points with fewer than 2 active units, whose 2-D neighbourhood "
         "is flattened onto a line or a point; the paper's information loss."))
    if fmt == Format.json:
        emit(json.dumps({"n": n, "seed": seed, "rows": table.records()}, indent=2))
    else:
        emit(table.render(fmt.value))
    if out is not None:
        typer.echo(f"wrote {printable(out, None)}", err=True)


@app.command(epilog=SPEC_EPILOG)
@user_errors
def breakdown(
    spec: SpecArgument,
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="The figure to write (.png or .svg).", show_default=False)],
    convention: ConventionOption = DEFAULT,
    no_caption: NoCaptionOption = False,
) -> None:
    """Draw where a network's MACs and parameters go, layer by layer.

    One bar per layer that has MACs or parameters (MACs above, parameters below), coloured by
    layer type, with each type's share in the legend."""
    from ..report.breakdown import plot_breakdown

    from ..report.figure_style import captions

    _figure_path(out, "--out")
    with captions(not no_caption):
        plot_breakdown(spec, out, convention.value)
    typer.echo(f"wrote {printable(out, None)} ({convention.value} convention)", err=True)
