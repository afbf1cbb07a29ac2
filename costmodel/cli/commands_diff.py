"""`costmodel diff SPEC_A SPEC_B`: where two networks' costs differ."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..core.conventions import DEFAULT
from .app import (SPEC_EPILOG, ConventionOption, Format, FormatOption, InputOption, SpecArgument,
                  Units, UnitsOption, WideOption, app, emit, input_shape, show_warnings,
                  user_errors)


@app.command(epilog=SPEC_EPILOG)
@user_errors
def diff(
    spec_a: SpecArgument,
    spec_b: Annotated[str, typer.Argument(help="The second SPEC, compared with the first.",
                                          show_default=False)],
    fmt: FormatOption = Format.table,
    units: UnitsOption = Units.macs,
    convention: ConventionOption = DEFAULT,
    input_size: InputOption = None,
    wide: WideOption = False,
) -> None:
    """Where two networks' costs differ: by stage, by layer type and layer by layer (B − A).

    e.g. costmodel diff mobilenet_v2 mobilenet_v2:alpha=0.75, or
    costmodel diff shufflenet_v2 shufflenet_v2:impl=torchvision."""
    from ..analysis.diff import diff as diff_networks
    from ..frontends import build_spec
    from ..report.diff import diff_json, diff_tables
    from ..report.table import render_all

    size = input_shape(input_size)
    a, b = build_spec(spec_a, size), build_spec(spec_b, size)
    show_warnings([a, b])
    result = diff_networks(a, b, convention.value, spec_a, spec_b)
    if fmt == Format.json:
        emit(json.dumps(diff_json(result, units.value), indent=2))
    else:
        emit(render_all(list(diff_tables(result, units.value)), fmt.value, wide))
