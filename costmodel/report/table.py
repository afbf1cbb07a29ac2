"""A small table value and its renderings: terminal, Markdown, LaTeX, CSV and JSON.

Tables keep exact values (Python ints, or strings); only the human renderings (terminal,
Markdown, LaTeX) abbreviate counts as 568.7M. CSV and JSON carry the exact integers, for
scripts. Every table carries notes that say what it counts; the human renderings print them.
A table's warnings (what its networks' counts leave out, :mod:`costmodel.core.warnings`) are
shown by every rendering: as notes beginning ``warning:`` by the human ones, as ``# warning:
...`` comment lines before the header by CSV.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.numbers import UNIT_NOTE, human, plain  # noqa: F401 - shared with the analyses

FORMATS = ("table", "json", "csv", "markdown", "latex")


def convention_note(name: str) -> str:
    """What the convention ``name`` counts, as a table's note."""
    from ..core.conventions import convention

    return f"Convention {name}: {convention(name).description}."


@dataclass(frozen=True)
class Column:
    """``kind`` says how to show a value: ``text``, ``count`` (568.7M), ``ratio`` (0.27×),
    ``percent`` (94.9%), ``delta`` (a signed percentage to one decimal: +2.1)."""

    key: str
    header: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    notes: tuple[str, ...] = field(default=())
    #: one line each (``mobilenet: not counted: ...``), sanitised (CostWarning.text)
    warnings: tuple[str, ...] = field(default=())

    @property
    def shown_notes(self) -> tuple[str, ...]:
        """The notes, then each warning as a note (``warning: ...``)."""
        return (*self.notes, *(f"warning: {text}" for text in self.warnings))

    def records(self) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts with exact values."""
        return [{c.key: plain(row.get(c.key)) for c in self.columns} for row in self.rows]

    def render(self, fmt: str) -> str:
        if fmt == "json":
            return json.dumps(self.records(), indent=2)
        return {"csv": to_csv, "markdown": to_markdown, "latex": to_latex,
                "table": to_text}[fmt](self)


def show(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "count":
        return human(value)
    if column.kind == "ratio":
        return f"{float(value):.3g}×"
    if column.kind == "percent":
        return f"{float(value):.2f}%"
    if column.kind == "delta":
        return value if isinstance(value, str) else f"{float(value):+.1f}"
    return str(value)


def to_csv(table: Table) -> str:
    out = io.StringIO()
    for text in table.warnings:  # comment lines: csv readers skip them with a filter on "#"
        out.write(f"# warning: {' '.join(text.split())}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in table.columns])
    for record in table.records():
        writer.writerow([json.dumps(v) if isinstance(v, dict) else v for v in record.values()])
    return out.getvalue()


def _cells(table: Table) -> list[list[str]]:
    return [[show(c, row.get(c.key)) for c in table.columns] for row in table.rows]


def _md(text: str) -> str:
    return text.replace("|", "\\|")  # a bare | would end the cell


def to_markdown(table: Table) -> str:
    align = ["---:" if c.kind != "text" else ":---" for c in table.columns]
    lines = [f"**{table.title}**", "",
             "| " + " | ".join(_md(c.header) for c in table.columns) + " |",
             "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_md(cell) for cell in cells) + " |" for cells in _cells(table)]
    lines += [""] + [f"_{note}_  " for note in table.shown_notes]
    return "\n".join(lines).rstrip() + "\n"


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "×": r"$\times$", "→": r"$\rightarrow$",
                  "Δ": r"$\Delta$", "α": r"$\alpha$", "ρ": r"$\rho$"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def to_latex(table: Table) -> str:
    spec = "".join("r" if c.kind != "text" else "l" for c in table.columns)
    lines = [r"\begin{table}[t]", r"\centering", rf"\caption{{{latex_escape(table.title)}}}",
             rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
             " & ".join(latex_escape(c.header) for c in table.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(cell) for cell in cells) + r" \\" for cells in _cells(table)]
    lines += [r"\bottomrule", r"\end{tabular}"]
    if table.shown_notes:
        lines.append(r"\par\smallskip\footnotesize " + " ".join(latex_escape(n)
                                                                 for n in table.shown_notes))
    lines.append(r"\end{table}")
    return "\n".join(lines) + "\n"


def terminal_width() -> int:
    """The terminal's width in columns (``COLUMNS`` when set, as ``shutil`` reads it; 120 when
    the output is not a terminal)."""
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def to_text(table: Table, width: int | None = None) -> str:
    """A terminal table drawn by rich within ``width`` columns (the terminal's by default),
    then its notes, each wrapped to the same width."""
    from rich import box
    from rich.console import Console
    from rich.table import Table as RichTable
    from rich.text import Text

    rich_table = RichTable(title=table.title, box=box.SIMPLE_HEAD, title_justify="left")
    for index, column in enumerate(table.columns):
        # the first column names the row (a model, a layer): kept whole, the others fold
        rich_table.add_column(column.header, justify="right" if column.kind != "text" else "left",
                              overflow="fold", no_wrap=index == 0)
    for cells in _cells(table):
        rich_table.add_row(*cells)
    console = Console(file=io.StringIO(), width=width or terminal_width(), force_terminal=False,
                      color_system=None)
    console.print(rich_table)
    for note in table.shown_notes:
        console.print(Text(note))
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines()) + "\n"


def render_all(tables: Sequence[Table], fmt: str) -> str:
    """Several tables in one output: JSON as an object keyed by title slug, others stacked."""
    if fmt == "json":
        return json.dumps({t.title: t.records() for t in tables}, indent=2)
    return "\n".join(t.render(fmt) for t in tables)
