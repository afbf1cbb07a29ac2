"""`costmodel import`: any SPEC written as a layer-spec (.cm) file.

Parsing and printing only; the writer is :func:`costmodel.frontends.to_spec.network_to_spec`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import CostModelError
from .app import SPEC_EPILOG, SPEC_HELP, app, emit, show_warnings, user_errors


@app.command("import", epilog=SPEC_EPILOG)
@user_errors
def import_spec(
    spec: Annotated[str, typer.Argument(
        help=SPEC_HELP + " Front ends add other files by suffix (a .py:factory SPEC runs that "
             "Python file; .cm files are data and never run).", show_default=False)],
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write the file here instead of to standard output.")] = None,
) -> None:
    """Write SPEC as a layer-spec file that builds to exactly the same layers.

    Branches become add:/concat:/mul: or residual: sections, batch norms and
    activations fold into their conv lines, repeated units become blocks.
    The input side is the knob `resolution`: `costmodel derive FILE` gives
    the closed form in R, `costmodel sweep FILE --resolution ...` sweeps it.
    """
    from ..frontends.to_spec import network_to_spec
    from ..zoo import resolve

    network = resolve(spec).build()
    show_warnings([network])  # the written file carries them too, as `note warning:` lines
    text = network_to_spec(network, source=spec)
    if output is None:
        emit(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CostModelError(f"cannot write {output}: {exc.strerror or exc}") from None
