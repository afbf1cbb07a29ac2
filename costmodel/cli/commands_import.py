"""`costmodel import`: any SPEC written as a layer-spec (.cm) file.

Parsing and printing only; the writer is :func:`costmodel.frontends.to_spec.network_to_spec`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import CostModelError
from .app import (SPEC_EPILOG, SPEC_HELP, InputOption, app, emit, input_shape, show_warnings,
                  user_errors)


@app.command("import", epilog=SPEC_EPILOG)
@user_errors
def import_spec(
    spec: Annotated[str, typer.Argument(
        help=SPEC_HELP + " Front ends add other files by suffix (a .py:factory SPEC runs that "
             "Python file; .cm files are data and never run).", show_default=False)],
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write the file here instead of to standard output.")] = None,
    input_size: InputOption = None,
) -> None:
    """Write SPEC as a layer-spec file that builds to exactly the same layers.

    Branches become add:/concat:/mul: or residual: sections, batch norms and
    activations fold into their conv lines, repeated units become blocks.
    The input side is the knob `resolution`: `costmodel derive FILE` gives
    the closed form in R, `costmodel sweep FILE --resolution ...` sweeps it.
    """
    from ..frontends.to_spec import network_to_spec
    from ..safe_io import check_writable_target, write_atomic
    from ..frontends import resolve

    if output is not None:
        check_writable_target(output, "layer-spec file")  # before the work, not after it
    shape = input_shape(input_size)
    if shape is not None:  # the size given: the network at it, as every command builds it
        from ..frontends import build_spec

        network, how = build_spec(spec, shape), ""
    else:
        ref = resolve(spec)
        # an ONNX file with a dynamic input side is built at a default size, which the
        # written file states (it keeps the side as its knob resolution)
        for_import = getattr(ref, "build_for_import", None)
        network, how = for_import() if for_import is not None else (ref.build(), "")
    show_warnings([network])  # the written file carries them too, as `note warning:` lines
    text = network_to_spec(network, source=f"{spec} ({how})" if how else spec)
    if output is None:
        emit(text)
        return
    write_atomic(output, text, "layer-spec file")
