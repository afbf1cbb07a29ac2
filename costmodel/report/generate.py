"""Regenerate the report folder: every paper table (Markdown, LaTeX, CSV), every figure (PNG,
SVG), the spec files the tables derive, and an index, in one call with a progress display.

    >>> from costmodel.report.generate import generate
    >>> paths = generate("reports")          # doctest: +SKIP

Layout of ``out_dir``::

    README.md              index linking everything, with what each table and figure counts
    tables/<name>.md|.tex|.csv
    figures/<name>.png|.svg (from costmodel.report.figures, when that module is present)
    specs/<name>.cm        architectures derived from the zoo for rows with no zoo knob

The figures come from :mod:`costmodel.report.figures`, which exposes ``FIGURES: dict[str,
Callable[[Path], list[Path]]]`` (each writes its files into the folder it is given and returns
their paths). It is imported lazily; without it the tables are still written and the index says
the figures were skipped.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CostModelError
from .. import limits
from ..safe_io import printable, write_atomic
from . import paper_tables

FORMATS = {"md": "markdown", "tex": "latex", "csv": "csv"}
FIGURES_MISSING = ("Figures skipped: the module costmodel.report.figures is not available "
                   "in this installation.")


@dataclass(frozen=True)
class Task:
    kind: str  # "table" or "figure"
    name: str
    run: Callable[[], list[Path]]
    doc: str = ""  # a figure's caption for the index: its function's docstring, first paragraph


@dataclass(frozen=True)
class Outcome:
    task: Task
    paths: list[Path]
    seconds: float


@dataclass(frozen=True)
class TableInfo:
    """What the index says about a table."""

    title: str
    rows: int
    reasons: int


def _load_figures() -> dict[str, Callable[[Path], list[Path]]] | None:
    """``costmodel.report.figures.FIGURES``, or None when the module does not exist (an error
    inside the module is a bug and is raised)."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # files only: never open a window
    import importlib

    name = f"{__package__}.figures"
    try:
        figures = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise
    return dict(figures.FIGURES)


def _write(path: Path, text: str) -> Path:
    write_atomic(path, text, "report file")
    return path


def _table_task(name: str, build: Callable[[], Any], folder: Path,
                info: dict[str, TableInfo]) -> Callable[[], list[Path]]:
    def run() -> list[Path]:
        table = build()
        info[name] = TableInfo(table.title, len(table.rows),
                               sum(1 for row in table.rows if row.get("reason")))
        return [_write(folder / f"{name}.{ext}", table.render(fmt))
                for ext, fmt in FORMATS.items()]
    return run


def _caption(function: Callable[..., Any]) -> str:
    doc = (getattr(function, "__doc__", None) or "").strip()
    return " ".join(doc.split("\n\n")[0].split())


def _figure_task(build: Callable[[Path], list[Path]], folder: Path) -> Callable[[], list[Path]]:
    def run() -> list[Path]:
        return [Path(p) for p in build(folder)]
    return run


def _prepare(out: Path) -> tuple[Path, Path, Path]:
    if out.exists() and not out.is_dir():
        kind = "a file" if out.is_file() else "not a folder (a pipe or a device?)"
        raise CostModelError(f"--out {printable(out, limits.MAX_QUOTED_PATH_CHARS)} is {kind}; "
                             "give a folder (e.g. reports/)")
    folders = out / "tables", out / "figures", out / "specs"
    try:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CostModelError(f"cannot create the report folder "
                             f"{printable(out, limits.MAX_QUOTED_PATH_CHARS)}: "
                             f"{exc.strerror or exc}") from None
    return folders


def generate(out_dir: str | Path = "reports", progress: bool = True,
             only: Iterable[str] | None = None) -> list[Path]:
    """Write every paper table (.md, .tex, .csv) to ``out_dir/tables/``, every figure to
    ``out_dir/figures/``, the derived spec files to ``out_dir/specs/`` and an index to
    ``out_dir/README.md``; return the paths written. ``progress`` shows a progress bar on
    stderr. ``only`` restricts the run to the named tables and figures (the index then lists
    those only)."""
    out = Path(out_dir)
    tables_dir, figures_dir, specs_dir = _prepare(out)
    wanted = set(only) if only is not None else None

    def chosen(name: str) -> bool:
        return wanted is None or name in wanted

    written: list[Path] = []
    for name in paper_tables.VARIANTS:
        written.append(_write(specs_dir / f"{name}.cm", paper_tables.variant_text(name)))

    info: dict[str, TableInfo] = {}
    tasks = [Task("table", name, _table_task(name, build, tables_dir, info))
             for name, build in paper_tables.TABLES.items() if chosen(name)]
    figure_builders = _load_figures()
    if figure_builders is not None:
        tasks += [Task("figure", name, _figure_task(build, figures_dir), _caption(build))
                  for name, build in figure_builders.items() if chosen(name)]
    # Memory, guidelines and latency (costmodel.report.beyond_flops): their own folder and
    # index section, written after the paper tables; "beyond_flops" selects them in ``only``.
    beyond = wanted is None or "beyond_flops" in wanted
    if wanted is not None:
        wanted.discard("beyond_flops")
        unknown = wanted - {t.name for t in tasks}
        if unknown:
            known = [*paper_tables.TABLES, *(figure_builders or {})]
            raise CostModelError(f"unknown table or figure {sorted(unknown)[0]!r}; known: "
                                 f"{', '.join(known)}")

    outcomes = _run(tasks, progress, figure_builders is None)
    for outcome in outcomes:
        written += outcome.paths
    section = ""
    if beyond:
        from .beyond_flops import FOLDER, write

        extra, section = write(out / FOLDER)
        written += extra
    written.append(_write(out / "README.md",
                          index(out, outcomes, info, figure_builders is not None) + section))
    return written


def _run(tasks: list[Task], progress: bool, figures_missing: bool) -> list[Outcome]:
    """Run the tasks in order, under a rich progress bar on stderr when ``progress``."""
    outcomes = []
    if not progress:
        for task in tasks:
            start = time.perf_counter()
            outcomes.append(Outcome(task, task.run(), time.perf_counter() - start))
        return outcomes

    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                               TextColumn, TimeElapsedColumn)

    console = Console(file=sys.stderr)
    if figures_missing:
        console.print(f"[yellow]{FIGURES_MISSING}[/yellow]")
    columns = (SpinnerColumn(), TextColumn("[progress.description]{task.description}"),
               BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        job = bar.add_task("report", total=len(tasks))
        for task in tasks:
            bar.update(job, description=f"{task.kind} {task.name}")
            start = time.perf_counter()
            outcomes.append(Outcome(task, task.run(), time.perf_counter() - start))
            bar.advance(job)
        n_tables = sum(t.kind == "table" for t in tasks)
        bar.update(job, description=f"{_count(n_tables, 'table')}, "
                                    f"{_count(len(tasks) - n_tables, 'figure')}")
    return outcomes


def _link(path: Path, base: Path) -> str:
    return Path(os.path.relpath(path, base)).as_posix()


def index(out: Path, outcomes: list[Outcome], tables: dict[str, TableInfo],
          figures_available: bool = True) -> str:
    """The report folder's README.md: a line per table and figure, with links."""
    lines = ["# Reports", "",
             "Generated by `costmodel report` (`python cli.py report --out reports` from a "
             "checkout); do not edit by hand: change the code or the data and regenerate.", "",
             "Every table sets the figures a paper prints beside the exact counts of the zoo "
             "(`costmodel/zoo/*.cm`) and Δ% = (computed - published) / published x 100. MACs are "
             "multiply-accumulates, 1 MAC = 2 FLOPs; the papers' FLOPs and Mult-Adds are MACs. "
             "Counts follow the `paper` convention (conv and FC multiply-accumulates; conv/FC "
             "weights and biases, batch norm folded away). A row carries a reason when the exact "
             "count does not agree with the printed figure rounded or truncated to its last "
             "printed digit; published figures and their citations are in "
             "`costmodel/data/published.toml`.", "",
             "## Tables", "",
             "| table | rows | rows with a reason | files |", "|:---|---:|---:|:---|"]
    for o in (o for o in outcomes if o.task.kind == "table"):
        table = tables[o.task.name]
        by_ext = {p.suffix[1:]: p for p in o.paths}
        files = " · ".join(f"[{ext}]({_link(by_ext[ext], out)})" for ext in FORMATS)
        lines.append(f"| [{table.title}]({_link(by_ext['md'], out)}) | {table.rows} | "
                     f"{table.reasons} | {files} |")
    lines += ["", "## Figures", ""]
    figure_outcomes = [o for o in outcomes if o.task.kind == "figure"]
    if not figures_available:
        lines.append(FIGURES_MISSING)
    elif not figure_outcomes:
        lines.append("No figures in this run.")
    for o in figure_outcomes:
        pngs = [p for p in o.paths if p.suffix == ".png"]
        files = " · ".join(f"[{p.suffix[1:]}]({_link(p, out)})" for p in o.paths)
        lines += [f"### {o.task.name}", ""]
        if o.task.doc:
            lines += [o.task.doc, ""]
        lines += [f"![{o.task.name}]({_link(p, out)})" for p in pngs[:1]]
        lines += ["", files, ""]
    lines += ["", "## Derived architectures", "",
              "Rows with no zoo knob are built from these spec files, derived from "
              "`costmodel/zoo/mobilenet_v1.cm` by `costmodel/report/paper_tables.py`; try "
              "`costmodel summary reports/specs/shallow_mobilenet_v1.cm`.", ""]
    lines += [f"- [specs/{name}.cm](specs/{name}.cm)" for name in paper_tables.VARIANTS]
    return "\n".join(lines).rstrip() + "\n"


def _count(n: int, noun: str) -> str:
    """``1 table``, ``3 tables``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
