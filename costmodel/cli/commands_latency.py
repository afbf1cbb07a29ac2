"""`costmodel latency`, `costmodel hardware` and `costmodel calibrate`: roofline and kernel
estimates, the profiles, and this machine's own roof and kernel models. Parsing and printing
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
    """Latency estimate per layer: a roofline (a .toml or built-in profile: compute- or
    memory-bound), or per runtime kernel from a calibrated kernel profile (a .json file from
    `costmodel calibrate`: compute, memory and overhead terms, the dominant one named)."""
    from ..analysis.latency import check_batch, estimate, load, record
    from ..report.beyond_tables import latency_table
    from ..frontends import build_spec, per_sample
    from ..kernels.profile import is_kernel_profile

    from ..core.warnings import records as warning_records

    shape = input_shape(input_size)
    batch = latency_batch(batch, shape)
    check_batch(batch)
    if is_kernel_profile(hw):
        return kernel_latency(spec, hw, dtype, fused, no_overhead, batch, shape, fmt)
    profile = load(hw)  # a bad profile, or no peak for --dtype, is refused before the build
    profile.peak_for(dtype.value if dtype else profile.dtype)
    # counted for one image (so no per-image warning), then estimated for the batch
    network = build_spec(spec, per_sample(shape))
    show_warnings([network])
    est = estimate(network, profile, dtype.value if dtype else None, fused,
                   not no_overhead, batch)
    if fmt == Format.json:  # allow_nan=False: a non-finite figure is a bug to see, never NaN
        emit(json.dumps({**record(est), "warnings": warning_records(network)}, indent=2,
                        allow_nan=False))
    else:
        emit(with_warnings(latency_table(est), [network]).render(fmt.value))


def kernel_latency(spec: str, hw: str, dtype, fused: bool, no_overhead: bool, batch: int,
                   shape, fmt) -> None:
    """`costmodel latency` with a kernel profile: the roofline-only options are refused."""
    from ..core.warnings import records as warning_records
    from ..frontends import build_spec, per_sample
    from ..kernels.profile import load, predict
    from ..kernels.report import kernel_record, kernel_table

    for given, option in ((fused, "--fused"), (no_overhead, "--no-overhead")):
        if given:
            raise CostModelError(f"{option} is a roofline option; a kernel profile ({hw}) "
                                 "fuses by the rules it measured and always counts overhead")
    profile = load(hw)
    if dtype is not None and dtype.value != profile.dtype:
        raise CostModelError(f"kernel profile {hw} was measured in {profile.dtype}, not "
                             f"{dtype.value}; calibrate in {dtype.value} or leave out --dtype")
    network = build_spec(spec, per_sample(shape))
    show_warnings([network])
    est = predict(network, profile, batch)
    if est.unknown:
        typer.echo(f"costmodel: warning: {hw} has no model for kernel type(s) "
                   f"{', '.join(est.unknown)}; the total leaves them out", err=True)
    if fmt == Format.json:
        emit(json.dumps({**kernel_record(est), "warnings": warning_records(network)},
                        indent=2, allow_nan=False))
    else:
        emit(with_warnings(kernel_table(est), [network]).render(fmt.value))


def latency_batch(batch: int | None, shape: tuple | None) -> int:
    """The batch an estimate is for: ``--batch``, else ``--input``'s N, else 1; the two
    given and different is a user error (which one was meant?)."""
    from ..frontends import first_input

    first = first_input(shape)
    given = None if first is None else first[0]
    if batch is not None and given is not None and batch != given:
        raise CostModelError(f"--batch {batch} and --input {','.join(map(str, first))} give "
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


ROOFLINE_DEFAULTS = {"size": 1024, "copy_mib": 256, "repeats": 5, "library": "auto"}
MIN_BUDGET, MAX_BUDGET = 5.0, 86_400.0


@app.command()
@user_errors
def calibrate(
    out: Annotated[Optional[Path], typer.Option(
        "--out", "-o", show_default=False,
        help="Profile file to write (replaced whole, or left as it was if the write fails): "
             "a .json kernel profile (default this_machine.json), or a .toml roofline "
             "(--roofline; default this_machine.toml).")] = None,
    name: Annotated[str, typer.Option("--name", help="The profile's name.")] = "this_machine",
    threads: Annotated[int, typer.Option("--threads", help="Threads to use (1 to 256).")] = 1,
    budget: Annotated[float, typer.Option(
        "--budget", help="Seconds the calibration takes (5 to 86400): it stops measuring "
                         "5% before, to fit and write the profile within them.")] = 180.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the kernel sampling.")] = 0,
    runtime: Annotated[str, typer.Option(
        "--runtime", help="What the kernels are measured with: torch (PyTorch eager) or "
                          "onnxruntime (ONNX Runtime's CPU provider, on each kernel's "
                          "torch.onnx export; needs the onnxruntime extra).")] = "torch",
    from_csv: Annotated[Optional[Path], typer.Option(
        "--from", help="Fit the kernel profile from whole-network latencies measured "
                       "anywhere: a CSV of SPEC,ms rows (at least 4; 10 or more for "
                       "±10%). Nothing is measured here.")] = None,
    unfused: Annotated[bool, typer.Option(
        "--unfused", help="With --from: every layer its own kernel (default: batch norm "
                          "folded and activations fused, as deployment runtimes do).")] = False,
    roofline: Annotated[bool, typer.Option(
        "--roofline", help="Measure the roofline instead (matmul MACs/s, copy bandwidth) into "
                           "a .toml profile; implied by a .toml --out or any of the options "
                           "below.")] = False,
    size: Annotated[Optional[int], typer.Option("--size", show_default=False, help="Roofline: "
                    "matrix side for matmul (64 to 4096; default 1024).")] = None,
    copy_mib: Annotated[Optional[int], typer.Option("--copy-mib", show_default=False,
                        help="Roofline: MiB copied for bandwidth (8 to 1024; default "
                             "256).")] = None,
    repeats: Annotated[Optional[int], typer.Option("--repeats", show_default=False,
                       help="Roofline: runs, the fastest kept (1 to 100; default 5).")] = None,
    library: Annotated[Optional[str], typer.Option(
        "--library", show_default=False, help="Roofline: auto (torch where installed, else "
                                              "numpy), torch or numpy.")] = None,
) -> None:
    """Calibrate this machine: per-kernel latency models measured with PyTorch eager (or ONNX
    Runtime: --runtime onnxruntime) into a .json kernel profile (`costmodel latency --hw this_machine.json`), fitted from measured
    whole-network times (--from), or the roofline (--roofline)."""
    given = {"size": size, "copy_mib": copy_mib, "repeats": repeats, "library": library}
    if roofline or any(v is not None for v in given.values()) or \
            (out is not None and out.suffix == ".toml"):
        if from_csv is not None:
            raise CostModelError("--from fits a kernel profile (.json); it does not take "
                                 "--roofline, --size, --copy-mib, --repeats or --library")
        if runtime != "torch":
            raise CostModelError("--runtime measures kernels (a .json profile); the roofline "
                                 "takes --library")
        options = {k: ROOFLINE_DEFAULTS[k] if v is None else v for k, v in given.items()}
        return calibrate_roofline(out or Path("this_machine.toml"), name, threads, **options)
    out = out or Path("this_machine.json")
    if out.suffix != ".json":
        raise CostModelError(f"--out {out}: a kernel profile is a .json file (a .toml --out "
                             "measures the roofline)")
    from ..analysis.calibrate import check_options

    check_options(name, threads, 64, 8, 1, "auto")  # the name and --threads bounds
    if not MIN_BUDGET <= budget <= MAX_BUDGET:
        raise CostModelError(f"--budget {budget:g}: give seconds from {MIN_BUDGET:g} to "
                             f"{MAX_BUDGET:g}")
    from ..safe_io import check_writable_target

    check_writable_target(out, "profile file")  # before the measurement, not after it
    if from_csv is not None:
        if runtime != "torch":
            raise CostModelError("--from fits whole-network times measured elsewhere; "
                                 "--runtime names what measures kernels here")
        return calibrate_from_csv(from_csv, out, name, not unfused)
    from ..kernels.runtimes import check

    check(runtime)  # unknown or not installed: refused before any measurement
    calibrate_kernels(out, name, threads, budget, seed, runtime)


def calibrate_from_csv(path: Path, out: Path, name: str, fused: bool) -> None:
    from ..frontends import build_spec
    from ..kernels.profile import from_json
    from ..kernels.whole import calibrate_from
    from ..report.table import terminal_width
    from ..report.text_layout import fit_text
    from ..safe_io import printable, write_atomic

    profile, fitted = calibrate_from(str(path), name, build_spec, fused)
    text = profile.to_json()
    from_json(text, "the fitted profile")  # what is written must be a profile latency reads
    write_atomic(out, text, "profile file")
    errors = sorted(abs(p / r.seconds - 1) for r, p in fitted)
    emit(fit_text(f"{printable(name)}: fitted on {len(fitted)} measured networks; in-sample "
                  f"median error {100 * errors[len(errors) // 2]:.1f}%, max "
                  f"{100 * errors[-1]:.1f}% → {printable(out, 200)}", terminal_width()))


def calibrate_kernels(out: Path, name: str, threads: int, budget: float, seed: int,
                      runtime: str = "torch") -> None:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..analysis.calibrate import machine_description
    from ..kernels.calibration import profile_from
    from ..kernels.measure import RUNS, calibrate_samples
    from ..kernels.profile import from_json
    from ..kernels.runtimes import label
    from ..safe_io import printable, write_atomic

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("fusion rules, executor", total=budget)

        def progress(elapsed: float, count: int) -> None:
            bar.update(task, completed=min(elapsed, budget),
                       description=f"{count:,} kernels measured")
        measured = calibrate_samples(budget, seed, threads, progress, runtime=runtime)
    samples = measured.samples
    if not samples:
        raise CostModelError(f"--budget {budget:g}: the fusion rules and "
                             f"{len(measured.context)} whole networks took it all before any "
                             f"kernel was measured ({runtime}); give --budget "
                             f"{max(30, 2 * int(budget))} or more (the default is 180 s)")
    profile = profile_from(
        samples, measured.rules, measured.context, name, machine_description(),
        label(runtime), threads,
        f"costmodel calibrate --runtime {runtime}: {len(samples):,} kernel samples in "
        f"{budget:g} s (seed {seed}), thread CPU time, median of {RUNS} runs each, one fit "
        f"per kernel type; in-context terms from {len(measured.context)} random synthetic "
        "networks",
        measured.notes(budget, seed))
    text = profile.to_json()
    from_json(text, "the measured profile")  # what is written must be a profile latency reads
    write_atomic(out, text, "profile file")
    if measured.unsupported:
        typer.echo("costmodel: note: " + ", ".join(
            f"{count} {kind}" for kind, count in measured.unsupported) + f" sample(s) {runtime} "
            "cannot run (no ONNX form) were left out and others drawn", err=True)
    errors = sorted(m.median_abs_error for _, m in profile.models)
    emit(f"{printable(name)}: {len(samples):,} kernels of {len(profile.models)} types measured "
         f"({profile.runtime}, {threads} thread(s)); median kernel-fit error per type "
         f"{100 * errors[0]:.0f}–{100 * errors[-1]:.0f}% → {printable(out, 200)}")


def calibrate_roofline(out: Path, name: str, threads: int, size: int, copy_mib: int,
                       repeats: int, library: str) -> None:
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
