"""`costmodel memory`: memory traffic per layer, peak activation memory and the largest
tensor to materialize. Parsing and printing only; the logic is in
:mod:`costmodel.analysis.memory` (`compare --dtype/--memory` and `summary --memory` show the
same figures beside the MACs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import limits
from .app import (SPEC_EPILOG, Dtype, DtypeOption, Format, FormatOption, FusedOption, InputOption,
                  SpecArgument, app, emit, input_shape, show_warnings, user_errors,
                  with_warnings)


@app.command(epilog=SPEC_EPILOG)
@user_errors
def memory(
    spec: SpecArgument,
    dtype: DtypeOption = Dtype.fp32,
    fused: FusedOption = False,
    order: Annotated[Optional[Path], typer.Option(
        "--order", help="A UTF-8 text file listing every layer name once, one per line, in "
                        "the order to run them (default: the network's order; at most "
                        f"{limits.MAX_ORDER_BYTES:,} bytes).")] = None,
    fmt: FormatOption = Format.table,
    input_size: InputOption = None,
) -> None:
    """Memory traffic per layer, arithmetic intensity and peak activation memory."""
    from ..analysis import memory as M
    from ..analysis.order_file import read_order
    from ..core.network import exact
    from ..report.beyond_tables import memory_table
    from ..report.table import plain
    from ..frontends import build_spec

    from ..core.warnings import records as warning_records

    network = build_spec(spec, input_shape(input_size))
    show_warnings([network])
    names = None if order is None else read_order(order, network)
    peak = M.peak_memory(network, fused, names)
    table = with_warnings(memory_table(network, dtype.value, fused, peak), [network])
    if fmt == Format.json:
        largest = M.largest_materialized(network)
        emit(json.dumps({
            "model": network.name, "config": {k: plain(v) for k, v in network.config},
            "dtype": dtype.value, "fused": fused,
            "traffic_bytes": plain(exact(M.traffic_bytes(network, dtype.value, fused))),
            "peak_bytes": plain(exact(peak.bytes(dtype.value))), "peak_step": peak.step,
            "peak_alive": list(peak.alive),
            "largest_materialized": {"name": largest.name,
                                     "bytes": plain(exact(largest.numel * M.dtype_bytes(dtype.value)))},
            "layers": table.records(), "warnings": warning_records(network)}, indent=2))
    else:
        emit(table.render(fmt.value))
