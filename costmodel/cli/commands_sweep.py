"""`costmodel sweep`: MACs, FLOPs, params and activations over a grid of knob values.

The library (costmodel/analysis/sweep.py) compiles the closed forms once and evaluates them
over the whole grid; costmodel/report/sweep_output.py and sweep_plot.py render it; this
module parses the options and shows a progress bar on a terminal. numpy, sympy, rich and matplotlib are imported inside the command.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..core.conventions import DEFAULT
from ..errors import CostModelError
from ..safe_io import check_writable_target, printable, write_atomic, write_atomic_with
from .app import (SPEC_EPILOG, ConventionOption, Dtype, NoCaptionOption, SpecArgument,
                  WideOption, app, emit, user_errors)


class SweepFormat(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"
    markdown = "markdown"
    latex = "latex"


class YAxis(str, Enum):
    macs = "macs"
    flops = "flops"
    params = "params"
    activations = "activations"


_SUFFIXES = {".csv": SweepFormat.csv, ".json": SweepFormat.json, ".md": SweepFormat.markdown,
             ".tex": SweepFormat.latex,
             ".parquet": SweepFormat.parquet, ".pq": SweepFormat.parquet}


def _list_option(what: str):
    return typer.Option(help=f"{what} (a LIST).", show_default=False)


@app.command(epilog=SPEC_EPILOG, short_help="MACs, FLOPs, params and activations over a grid of knob values "
                         "(exact, from closed forms compiled once).")
@user_errors
def sweep(
    spec: SpecArgument,
    alpha: Annotated[Optional[str], _list_option("Width multipliers")] = None,
    g: Annotated[Optional[str], _list_option("Group counts")] = None,
    resolution: Annotated[Optional[str], _list_option("Input sides in pixels")] = None,
    t: Annotated[Optional[str], _list_option("Expansion factors")] = None,
    knob: Annotated[Optional[list[str]], typer.Option(
        "--knob", "-k", show_default=False,
        help="NAME=LIST for any other knob (classes=10,1000; rounding=reference,none; a "
             "file's own knobs); repeatable.")] = None,
    fmt: Annotated[Optional[SweepFormat], typer.Option(
        "--format", "-f", show_default=False,
        help="Output format (default: from the --output suffix, else table).")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Write to FILE instead of standard output.",
        show_default=False)] = None,
    convention: ConventionOption = DEFAULT,
    plot: Annotated[Optional[Path], typer.Option(
        help="Also draw a plot to FILE (.png, .svg or .pdf).", show_default=False)] = None,
    y: Annotated[YAxis, typer.Option(help="What the plot shows.")] = YAxis.macs,
    x: Annotated[Optional[str], typer.Option(
        help="The plot's x axis: a swept knob (default: the first with several values).",
        show_default=False)] = None,
    hue: Annotated[Optional[str], typer.Option(
        help="One curve per value of this knob (default: the next swept knob).",
        show_default=False)] = None,
    memory: Annotated[bool, typer.Option(
        "--memory", help="Also compute memory traffic at every point: a traffic_bytes column "
                         "(feature maps read and written, weights read, in bytes of --dtype), "
                         "exact, from the same closed forms. Peak activation memory is not "
                         "swept (a Max over liveness sets, no closed form to compile); "
                         "compare --memory shows it per configuration.")] = False,
    dtype: Annotated[Dtype, typer.Option(
        "--dtype", help="Bytes per element for --memory.")] = Dtype.fp32,
    check: Annotated[int, typer.Option(
        help="Random grid points checked against networks built one by one (on top of the "
             "corners and special values).", min=0)] = 4,
    rows: Annotated[int, typer.Option(
        help="Rows shown at each end of a long table.", min=1)] = 10,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress bar, no note of the files written.")] = False,
    wide: WideOption = False,
    no_caption: NoCaptionOption = False,
) -> None:
    """MACs, FLOPs, params and activations at every point of a grid of knob values (the
    Cartesian product of the LISTs), from closed forms compiled once: exact integers. A LIST
    is comma-separated values (0.5,0.75,1), a range start:stop:step (0.25:1:0.25; the stop is
    included when it is on the grid), or both (96:224:32,300)."""
    from ..analysis import sweep as sw
    from ..report import sweep_output as out

    lists = {name: value for name, value in
             (("alpha", alpha), ("g", g), ("resolution", resolution), ("t", t))
             if value is not None}
    for item in knob or []:
        name, eq, value = item.partition("=")
        if not eq or not name.strip() or not value.strip():
            raise CostModelError(f"--knob {item!r}: write NAME=LIST, e.g. --knob classes=10,1000")
        if name.strip() in lists:
            raise CostModelError(f"--knob {item!r}: {name.strip()} is given twice")
        lists[name.strip()] = value.strip()
    fmt = fmt or (_SUFFIXES.get(output.suffix.lower(), SweepFormat.table) if output
                  else SweepFormat.table)
    if fmt == SweepFormat.parquet and output is None:
        raise CostModelError("--format parquet writes a binary file: give --output FILE.parquet")
    # every target checked before the sweep, so a long run never ends in a refused write
    if output is not None:
        check_writable_target(output, "sweep output")
    if plot is not None:
        from ..report.sweep_plot import check_plot_path

        check_writable_target(check_plot_path(plot), "plot")
    if fmt == SweepFormat.parquet:
        out.require_pyarrow()
    with _progress(quiet) as progress:
        result = sw.sweep(spec, lists, convention.value, check=check, progress=progress,
                          dtype=dtype.value if memory else None)
        if plot is not None:
            from ..report.figure_style import captions
            from ..report.sweep_plot import plot as draw

            with captions(not no_caption):
                draw(result, plot, y.value, x, hue)
        if fmt == SweepFormat.parquet:
            out.write_parquet(result, output)
        elif fmt in (SweepFormat.table, SweepFormat.markdown, SweepFormat.latex):
            text = out.table(result, rows).render(fmt.value, wide)
            if output is None:
                emit(text)
            else:
                write_atomic(output, text, "sweep output")
        else:
            write = out.write_csv if fmt == SweepFormat.csv else out.write_json
            if output is None:
                _to_stdout(write, result, progress)
            else:
                def write_file(temp: Path) -> None:
                    with open(temp, "wb") as stream:
                        write(result, stream, progress)
                write_atomic_with(output, write_file, "sweep output")
    if (output is not None or plot is not None) and not quiet:
        written = [printable(p, None) for p in (output, plot) if p is not None]
        typer.echo(f"{result.model}: {len(result):,} configurations ({result.convention} "
                   f"convention); wrote {' and '.join(written)}", err=True)


def _to_stdout(write, result, progress) -> None:
    """CSV or JSON rows straight to standard output (in blocks, never all in memory); a
    failed write (``> /dev/full``) is one error line, a closed pipe (``| head``) the end."""
    import os

    try:
        sys.stdout.flush()
        stream = getattr(sys.stdout, "buffer", None)
        if stream is None:  # a text-only stdout
            import io
            buffer = io.BytesIO()
            write(result, buffer, progress)
            sys.stdout.write(buffer.getvalue().decode())
            sys.stdout.flush()
        else:
            write(result, stream, progress)
            stream.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # drop the unwritten rest
        raise CostModelError(f"cannot write the output to stdout: {exc.strerror or exc}") \
            from None


class _progress:
    """A rich progress bar on standard error when it is a terminal (and not --quiet)."""

    def __init__(self, quiet: bool):
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar = None

    def __enter__(self):
        from ..analysis.sweep import Progress

        if not self.enabled:
            return Progress()
        from rich.console import Console
        from rich.progress import BarColumn, Progress as RichProgress, TaskProgressColumn, \
            TextColumn, TimeElapsedColumn

        self.bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                TaskProgressColumn(), TimeElapsedColumn(),
                                console=Console(stderr=True), transient=True)
        self.bar.start()
        bar = self.bar

        class _Rich(Progress):
            def task(self, description: str, total: int):
                task_id = bar.add_task(description, total=total)
                return lambda advance=1: bar.advance(task_id, advance)
        return _Rich()

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()
        return False
