"""`costmodel guidelines`: ShuffleNet v2's four guidelines over any network. Parsing and
printing only; the logic is in :mod:`costmodel.analysis.guidelines`."""

from __future__ import annotations

import json

from .app import (SPEC_EPILOG, Format, FormatOption, InputOption, SpecArgument, app, emit,
                  input_shape, show_warnings, user_errors, with_warnings)


@app.command(epilog=SPEC_EPILOG)
@user_errors
def guidelines(
    spec: SpecArgument,
    fmt: FormatOption = Format.table,
    input_size: InputOption = None,
) -> None:
    """ShuffleNet v2's guidelines G1-G4: pass, warn or fail, and the layers that break them.

    G1 unequal 1x1 conv widths, G2 group convolutions, G3 parallel branches, G4 element-wise
    ops, each measured by memory access cost (elements moved) at the network's shapes."""
    from ..analysis.guidelines import check, records
    from ..report.beyond_tables import guidelines_table
    from ..frontends import build_spec

    from ..core.warnings import records as warning_records

    network = build_spec(spec, input_shape(input_size))
    show_warnings([network])
    checks = check(network)
    if fmt == Format.json:
        # a list, one object per guideline: each carries the network's warnings, as each
        # row of compare's list carries its model's
        warnings = warning_records(network)
        emit(json.dumps([{**row, "warnings": warnings} for row in records(checks)], indent=2))
    else:
        emit(with_warnings(guidelines_table(network, checks), [network]).render(fmt.value))
