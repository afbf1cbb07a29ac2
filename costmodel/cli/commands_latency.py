"""`costmodel latency`, `costmodel hardware` and `costmodel calibrate`: roofline estimates
against hardware profiles, the profiles, and this machine's own roof. Parsing and printing
only; the logic is in :mod:`costmodel.analysis.latency` and ``calibrate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import CostModelError
from .app import (SPEC_EPILOG, Dtype, Format, FormatOption, FusedOption, InputOption, SpecArgument,
                  app, emit, input_shape, show_warnings, user_errors, with_warnings)


@app.command(epilog=SPEC_EPILOG)
@user_errors
def latency(
    spec: SpecArgument,
    hw: Annotated[str, typer.Option(
        "--hw", help="A hardware profile: a built-in name (`costmodel hardware`) or the path "
                     "of a .toml profile.")] = "pixel1",
    dtype: Annotated[Optional[Dtype], typer.Option(
        "--dtype", help="Element type (default: the profile's).")] = None,
    fused: FusedOption = False,
    batch: Annotated[Optional[int], typer.Option(
        "--batch", show_default=False,
        help="Images per batch, 1 to MAX_LATENCY_BATCH (default: --input's N, else 1); MACs and feature maps scale "
             "with it, weights are read once.")] = None,
    no_overhead: Annotated[bool, typer.Option(
        "--no-overhead", help="Leave out the profile's fixed cost per kernel.")] = False,
    fmt: FormatOption = Format.table,
    input_size: InputOption = None,
) -> None:
    """Roofline latency estimate per layer: compute- or memory-bound, and the total."""
    from ..analysis.latency import check_batch, estimate, load, record
    from ..report.beyond_tables import latency_table
    from ..frontends import build_spec

    from ..core.warnings import records as warning_records

    shape = input_shape(input_size)
    batch = latency_batch(batch, shape)
    check_batch(batch)
    profile = load(hw)  # a bad profile, or no peak for --dtype, is refused before the build
    profile.peak_for(dtype.value if dtype else profile.dtype)
    # counted for one image (so no per-image warning), then estimated for the batch
    network = build_spec(spec, None if shape is None else (1, *shape[1:]))
    show_warnings([network])
    est = estimate(network, profile, dtype.value if dtype else None, fused,
                   not no_overhead, batch)
    if fmt == Format.json:  # allow_nan=False: a non-finite figure is a bug to see, never NaN
        emit(json.dumps({**record(est), "warnings": warning_records(network)}, indent=2,
                        allow_nan=False))
    else:
        emit(with_warnings(latency_table(est), [network]).render(fmt.value))


def latency_batch(batch: int | None, shape: tuple[int, ...] | None) -> int:
    """The batch an estimate is for: ``--batch``, else ``--input``'s N, else 1; the two
    given and different is a user error (which one was meant?)."""
    given = None if shape is None else shape[0]
    if batch is not None and given is not None and batch != given:
        raise CostModelError(f"--batch {batch} and --input {','.join(map(str, shape))} give "
                             f"different batches; give one, or the same N in both")
    if batch is not None:
        return batch  # checked against MAX_LATENCY_BATCH by the caller, 0 included
    return given or 1


@app.command()
@user_errors
def hardware(fmt: FormatOption = Format.table) -> None:
    """The built-in hardware profiles and where their figures come from."""
    from ..analysis.latency import profiles
    from ..report.beyond_tables import hardware_table

    table = hardware_table(profiles())
    if fmt == Format.json:
        emit(json.dumps([{"name": h.name, "description": h.description, "dtype": h.dtype,
                          "peak_macs_per_second": h.peak_macs_per_second,
                          "bandwidth_bytes_per_second": h.bandwidth_bytes_per_second,
                          "overhead_seconds_per_layer": h.overhead_seconds_per_layer,
                          "peaks": {d: h.peak_for(d) for d in h.dtypes},
                          "source": h.source} for h in profiles()], indent=2, allow_nan=False))
    else:
        emit(table.render(fmt.value))


@app.command()
@user_errors
def calibrate(
    out: Annotated[Path, typer.Option(
        "--out", "-o", help="Profile file to write (TOML; replaced whole, or left as it was "
                            "if the write fails).")] = Path("this_machine.toml"),
    name: Annotated[str, typer.Option("--name", help="The profile's name.")] = "this_machine",
    threads: Annotated[int, typer.Option("--threads", help="Threads to use (1 to 256).")] = 1,
    size: Annotated[int, typer.Option("--size", help="Matrix side for matmul (64 to "
                                                     "4096).")] = 1024,
    copy_mib: Annotated[int, typer.Option("--copy-mib",
                                          help="MiB copied for bandwidth (8 to 1024).")] = 256,
    repeats: Annotated[int, typer.Option("--repeats", help="Runs; the fastest is kept (1 to "
                                                           "100).")] = 5,
    library: Annotated[str, typer.Option(
        "--library", help="auto (torch where installed, else numpy), torch or numpy.")] = "auto",
) -> None:
    """Measure this machine's roof (matmul MACs/s, copy bandwidth) into a profile file."""
    from ..analysis.calibrate import calibrate as measure, check_options
    from ..analysis.hardware_profile import from_toml
    from ..safe_io import check_writable_target, printable, write_atomic

    check_options(name, threads, size, copy_mib, repeats, library)
    check_writable_target(out, "profile file")  # before the measurement, not after it
    result = measure(name, threads, size, copy_mib, repeats, library)
    text = result.toml()
    from_toml(text, "the measured profile")  # what is written must be a profile latency reads
    write_atomic(out, text, "profile file")
    emit(f"{printable(result.name)}: {result.peak_macs_per_second / 1e9:.3g} GMAC/s "
         f"({result.library}, {result.threads} thread(s), {result.matmul_size}² matmul), "
         f"{result.bandwidth_bytes_per_second / 1e9:.3g} GB/s copy bandwidth → "
         f"{printable(out, 200)}")
