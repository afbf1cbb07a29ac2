"""`costmodel` commands. Logic lives in the library; this module parses and prints.

Heavy modules (sympy through the library, pandas, matplotlib) are imported inside the commands
that need them, so that `costmodel --help` and `costmodel list` start quickly.
"""

from __future__ import annotations

import functools
import json
import sys
from enum import Enum
from typing import Annotated

import typer

from ..core.conventions import CONVENTIONS, DEFAULT
from ..errors import CostModelError

app = typer.Typer(
    help="Exact MACs, parameters and activations of CNNs, derived symbolically. "
         "MACs are multiply-accumulates; 1 MAC = 2 FLOPs (the papers' FLOPs are MACs).",
    add_completion=False, pretty_exceptions_enable=False)


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"costmodel {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def _main_options(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Print costmodel's version and exit.")] = False,
) -> None:
    """Without a command: the help, exit status 0."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit()


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    latex = "latex"


class Units(str, Enum):
    macs = "macs"
    flops = "flops"


class Dtype(str, Enum):
    """Element types, for --dtype (bytes per element: 4, 2, 1)."""

    fp32 = "fp32"
    fp16 = "fp16"
    int8 = "int8"


DtypeOption = Annotated[Dtype, typer.Option(
    "--dtype", help="Element type of activations and weights: fp32 (4 bytes), fp16 (2), "
                    "int8 (1).")]
FusedOption = Annotated[bool, typer.Option(
    "--fused", help="Activations and channel splits run in place in their producer (as "
                    "inference runtimes fuse them); default: each is its own kernel.")]


Convention = Enum("Convention", {name: name for name in CONVENTIONS}, type=str)

# The choices go in the help text, not the metavar: rich would break a long
# [table|json|csv|markdown|latex] metavar at a bar in a narrow terminal.
FormatOption = Annotated[Format, typer.Option(
    "--format", "-f", metavar="FORMAT",
    help="Output format: " + ", ".join(f.value for f in Format) + ".")]
NoCaptionOption = Annotated[bool, typer.Option(
    "--no-caption", help="Figures without the caption drawn under them (for a paper, which "
                         "sets its own).")]
WideOption = Annotated[bool, typer.Option(
    "--wide", help="LaTeX: a table* across both columns of a two-column paper (\\textwidth) "
                   "instead of one column (\\columnwidth).")]
UnitsOption = Annotated[Units, typer.Option(help="Show compute as MACs or FLOPs (= 2 × MACs).")]
ConventionOption = Annotated[Convention, typer.Option(
    help="What counts: paper (conv/FC MACs; conv/FC weights and biases), torch (params as "
         "PyTorch's model.parameters(), BN included), or exactly what fvcore, thop, ptflops "
         "(ptflops-aten: its aten backend), torchprofile or calflops report (docs/conventions.md"
         "; `costmodel explain` shows why they differ).")]
SPEC_HELP = ("A model name (`costmodel list`), name:key=value[,key=value] such as "
             "mobilenet_v1:alpha=0.5,resolution=160, the path of an architecture file "
             "(my_net.cm), or my_net.py:factory[:key=value,...], a function returning a PyTorch "
             "module to trace (needs torch). .cm files are data and never run; a .py:factory "
             "SPEC runs that file.")
#: Shown under each SPEC-taking command's --help (typer does not print an argument's help).
SPEC_EPILOG = ("SPEC is a built-in model's name (costmodel list shows them and their knobs), "
               "the name with knob values, NAME:key=value,key=value (mobilenet_v1:alpha=0.5,"
               "resolution=160), the path of an architecture file in the layer-spec language, "
               "my_net.cm, with knob values after a colon (my_net.cm:alpha=0.5), an ONNX file "
               "(model.onnx), or my_net.py:factory[:key=value,...], a function returning a "
               "PyTorch module to trace (needs torch). .cm files are data and never run; a "
               ".py:factory SPEC runs that file.")
SpecArgument = Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)]
InputOption = Annotated[list[str] | None, typer.Option(
    "--input", metavar="N,C,H,W", show_default=False,
    help="Input size, e.g. 1,3,224,224: a traced module runs on it; a spec takes H as its "
         "resolution (a SPEC's own resolution= wins). Repeat it for a module whose forward "
         "takes several inputs (--input 1,3,224,224 --input 1,77), each N followed by its "
         "sizes, one N for all. Counts are per image: N > 1 adds a warning saying so "
         "(latency takes N as its --batch).")]


def input_shape(texts: list[str] | str | None) -> tuple | None:
    """The parsed ``--input`` (None when not given): one shape, a tuple of ints, when given
    once; a tuple of shapes when repeated. Imports nothing heavy."""
    if not texts:
        return None
    from ..frontends import parse_input_shape
    from ..limits import MAX_INPUTS

    texts = [texts] if isinstance(texts, str) else list(texts)
    if len(texts) > MAX_INPUTS:
        raise CostModelError(f"--input given {len(texts)} times is past MAX_INPUTS "
                             f"({MAX_INPUTS})")
    shapes = tuple(parse_input_shape(text) for text in texts)
    return shapes[0] if len(shapes) == 1 else shapes


def user_errors(command):
    """Turn a CostModelError, a file the user named that cannot be written or read, or an
    optional dependency that is not installed (torch, onnx, pyarrow: the install hint) into
    one line on stderr and exit status 2 (no traceback)."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        _PENDING_WARNINGS.clear()
        try:
            result = command(*args, **kwargs)
            _print_warnings()
            return result
        except CostModelError as exc:
            _error(str(exc))
        except ModuleNotFoundError as exc:
            from ..extras import missing_from

            error = missing_from(exc)
            if error is None:
                raise  # not an optional dependency: a bug to see in full
            _error(str(error))
        except OSError as exc:
            if exc.filename is None:
                raise  # not about a path the user gave: a bug to see in full
            from .. import limits
            from ..safe_io import printable

            _error(f"{printable(exc.filename, limits.MAX_QUOTED_PATH_CHARS)}: "
                   f"{exc.strerror or exc}")
    return wrapper


def error_line(message: str) -> str:
    """The one stderr line for a user error: whitespace runs (newlines too) folded to one
    space, any control character left escaped, and at most MAX_ERROR_CHARS characters."""
    from .. import limits
    from ..safe_io import printable

    return "costmodel: error: " + printable(" ".join(str(message).split()),
                                            limits.MAX_ERROR_CHARS)


#: Warning lines of the running command, printed once it has succeeded (a command that
#: fails prints its one error line only).
_PENDING_WARNINGS: list[str] = []


def show_warnings(networks) -> None:
    """Each warning of ``networks`` once on stderr, ``costmodel: warning: NAME: ...``,
    whatever the output format: what the counts leave out is never only in a file. They are
    printed when the command has succeeded (by :func:`user_errors`)."""
    _PENDING_WARNINGS.extend(line for line in merged_warnings(networks)
                             if line not in _PENDING_WARNINGS)


def merged_warnings(networks) -> tuple[str, ...]:
    """Each distinct warning of ``networks`` once, naming every network it holds for
    (``a, b: not counted: F.gelu × 1 ...``): comparing five SPECs of one model says a thing
    once, not five times."""
    from ..safe_io import printable

    holders: dict[str, list[str]] = {}
    for network in networks:
        for warning in network.warnings:
            names = holders.setdefault(warning.text(), [])
            if printable(network.name) not in names:
                names.append(printable(network.name))
    return tuple(f"{', '.join(names)}: {text}" for text, names in holders.items())


def _print_warnings() -> None:
    from .. import limits
    from ..safe_io import printable

    lines, _PENDING_WARNINGS[:] = list(_PENDING_WARNINGS), []
    for line in lines:
        typer.echo("costmodel: warning: " + printable(" ".join(line.split()),
                                                      limits.MAX_ERROR_CHARS), err=True)


def with_warnings(table, networks):
    """``table`` (a report Table) carrying the warnings of ``networks``: notes in the human
    formats, ``# warning:`` lines in CSV."""
    from dataclasses import replace

    return replace(table, warnings=(*table.warnings, *merged_warnings(networks)))


def _error(message: str, hint: str | None = None) -> None:
    typer.echo(error_line(message) + (f"\n{hint}" if hint else ""), err=True)
    raise typer.Exit(2)


def run(args: list[str] | None = None) -> int:
    """Run the command line; the exit status. Usage errors found by click (an unknown
    command or option, a bad choice, a missing argument) get the same one line as every
    other user error, with a hint on a second line, instead of click's framed box."""
    import click

    try:
        result = app(args=args, prog_name="costmodel", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # plain `costmodel`: the help
        text = exc.ctx.get_help()  # typer's rich help prints itself and returns ""
        if text:
            typer.echo(text)
        return 2
    except click.UsageError as exc:
        names, ctx = [], exc.ctx
        while ctx is not None and ctx.parent is not None:
            names.insert(0, ctx.info_name)
            ctx = ctx.parent
        path = " ".join(["costmodel", *names])
        typer.echo(f"{error_line(exc.format_message())}\nsee '{path} --help'", err=True)
        return 2
    except click.ClickException as exc:
        typer.echo(error_line(exc.format_message()), err=True)
        return 2
    except click.Abort:
        return 130
    return result if isinstance(result, int) else 0


def natural_order(name: str) -> list:
    """A sort key that reads the numbers in a name: resnet18 before resnet101."""
    import re

    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name)]


def emit(text: str) -> None:
    """Write a command's output to stdout. Every name in it went through
    :func:`costmodel.safe_io.printable`; control characters are escaped here once more as the
    last guard. A failed write (``costmodel list > /dev/full``) is a user error, not a
    traceback."""
    from ..safe_io import strip_terminal_controls

    text = strip_terminal_controls(text)
    try:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `costmodel ... | head`: the reader has gone; stop writing
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # drop the unwritten rest
        raise CostModelError(f"cannot write the output to stdout: {exc.strerror or exc}") from None


@app.command("list")
@user_errors
def list_models(fmt: FormatOption = Format.table) -> None:
    """The built-in models, their knobs and defaults."""
    from ..report.table import Column, Table
    from ..zoo import names, spec

    rows = []
    for name in sorted(names(), key=natural_order):
        parsed = spec(name)
        knobs = {k.name: (k.default if k.type != "choice" else f"{k.default} ({'|'.join(k.choices)})")
                 for k in parsed.knobs}
        rows.append({"model": name, "knobs": knobs,
                     "knobs_text": ", ".join(f"{k}={v}" for k, v in knobs.items()),
                     "paper": parsed.paper})
    table = Table("Built-in models (knob=default; choices in parentheses)",
                  (Column("model", "model"), Column("knobs_text", "knobs"),
                   Column("paper", "paper")), tuple(rows),
                  ("Set knobs as NAME:key=value,key=value, e.g. mobilenet_v1:alpha=0.5.",))
    if fmt == Format.json:
        from ..zoo import knob_records

        emit(json.dumps([{"model": name, "knobs": knob_records(spec(name).knobs),
                          "paper": row["paper"]} for name, row in
                         zip((r["model"] for r in rows), rows)], indent=2))
    else:
        emit(table.render(fmt.value))


@app.command(epilog=SPEC_EPILOG)
@user_errors
def compare(
    specs: Annotated[list[str], typer.Argument(help=SPEC_HELP, show_default=False)],
    fmt: FormatOption = Format.table,
    units: UnitsOption = Units.macs,
    convention: ConventionOption = DEFAULT,
    dtype: Annotated[str, typer.Option(
        "--dtype", help="Bytes per element for traffic_bytes and peak_bytes: fp32, fp16, int8.")] = "fp32",
    memory: Annotated[bool, typer.Option(
        "--memory", help="Also show memory traffic and peak activation memory (bytes).")] = False,
    input_size: InputOption = None,
    wide: WideOption = False,
) -> None:
    """Compare models: MACs, FLOPs, params and their ratios to the first SPEC."""
    from ..analysis.compare import build_all, compare_records, comparison
    from ..report.compare_tables import compare_table

    rows = build_all(specs, input_shape(input_size))
    show_warnings(row.network for row in rows)
    if fmt == Format.json:  # its contract always holds traffic_bytes and peak_bytes
        records = comparison(rows, convention.value, dtype, memory=True)
        emit(json.dumps(compare_records(records), indent=2))
    else:
        emit(compare_table(rows, convention.value, units.value, dtype, memory)
             .render(fmt.value, wide))


@app.command(epilog=SPEC_EPILOG)
@user_errors
def summary(
    spec: SpecArgument,
    fmt: FormatOption = Format.table,
    units: UnitsOption = Units.macs,
    convention: ConventionOption = DEFAULT,
    all_layers: Annotated[bool, typer.Option(
        "--all", help="Also list layers that cost nothing (BN, activations, pooling...).")] = False,
    memory: Annotated[bool, typer.Option(
        "--memory", help="Add memory traffic (bytes of --dtype) and MACs per byte per layer.")] = False,
    dtype: Annotated[str, typer.Option("--dtype", help="fp32, fp16 or int8.")] = "fp32",
    input_size: InputOption = None,
    wide: WideOption = False,
) -> None:
    """Per-layer costs and totals per layer type.

    One row per layer (name, type, input → output, MACs, params, share), as torchinfo's
    summary, then the totals per layer type, as the MobileNet v1 paper's Table 2."""
    from ..report.compare_tables import summary_tables
    from ..frontends import build_spec
    from ..report.table import plain, render_all

    from ..core.warnings import records as warning_records

    network = build_spec(spec, input_shape(input_size))
    show_warnings([network])
    per_layer, by_type = summary_tables(network, convention.value, units.value,
                                        all_layers or fmt == Format.json)
    if memory:
        from ..report.beyond_tables import with_memory

        per_layer = with_memory(per_layer, network, dtype)
    if fmt == Format.json:
        total = network.evaluate(convention_name=convention.value)
        emit(json.dumps({"model": network.name,
                         "config": {k: plain(v) for k, v in network.config},
                         "convention": convention.value, "units": units.value,
                         "total": plain({**total, "flops": 2 * total["macs"]}),
                         "notes": list(network.notes),
                         "warnings": warning_records(network),
                         "layers": per_layer.records(), "by_type": by_type.records()},
                        indent=2))
    else:
        emit(render_all([per_layer, by_type], fmt.value, wide))


def main(args: list[str] | None = None) -> int:
    """Run the command line on ``args`` (``sys.argv[1:]`` by default) and return the exit
    status (0, or 2 for bad input), as a library call: nothing exits the process."""
    try:
        code = run(args)
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):
        sys.stderr.write(code + "\n")
        code = 1
    return code or 0


def console_script() -> None:
    """The `costmodel` console script: :func:`main`, then ``os._exit`` once the output is
    flushed. Tearing down the interpreter (freeing sympy's caches and thousands of module
    objects) takes about 0.2 s and does nothing a command needs; every file a command writes
    is closed by then. Only the console script does this: :func:`main` returns."""
    import os

    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # `costmodel ... | head`: the reader has gone, nothing to report
        pass
    except OSError as exc:  # output written outside emit() that could not be flushed
        sys.stderr.write(f"costmodel: error: cannot write the output to stdout: "
                         f"{exc.strerror or exc}\n")
        code = code or 2
    try:
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(code)


def _load_command_modules() -> None:
    """Import every ``costmodel/cli/commands_*.py``: each adds its commands to ``app`` with
    ``@app.command()``. Keeping commands in their own modules keeps this file small; those
    modules import heavy libraries only inside their commands."""
    import importlib
    import pkgutil
    from pathlib import Path

    for module in sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])):
        if module.startswith("commands_"):
            importlib.import_module(f"{__package__}.{module}")


def _one_line_summaries() -> None:
    """Give each command a short help of its docstring's first paragraph on one line: in
    rich mode typer keeps a docstring's line breaks in the commands panel, so a summary
    written over two source lines broke mid-sentence wherever the terminal's width did not
    happen to match the source's."""
    import inspect

    for info in app.registered_commands:
        if info.short_help is None and info.help is None and info.callback is not None:
            first = inspect.cleandoc(info.callback.__doc__ or "").split("\n\n")[0]
            info.short_help = " ".join(first.split()) or None


_load_command_modules()
_one_line_summaries()
