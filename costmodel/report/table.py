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
    """``kind`` says how to show a value: ``text``, ``count`` (568.7M, four significant
    digits), ``figure`` (a number as a paper printed it, 569M or 4.2M: no digit added),
    ``ratio`` (0.270×), ``percent`` (94.90%), ``delta`` (a signed percentage to one decimal:
    +2.1)."""

    key: str
    header: str
    kind: str = "text"
    #: when a terminal is too narrow for every column, higher ranks are hidden first (0: by
    #: position, from the right, after every ranked column; the settings column is ranked)
    drop: int = 0
    #: shown by the human renderings only; JSON and CSV carry the table's ``fields`` in its
    #: place (an ``input → output`` column, as ``input`` and ``output`` shape arrays)
    display_only: bool = False


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    notes: tuple[str, ...] = field(default=())
    #: one line each (``mobilenet: not counted: ...``), sanitised (CostWarning.text)
    warnings: tuple[str, ...] = field(default=())
    #: what else shows a column hidden to fit the terminal (``--between ... shows any; ``)
    hidden_hint: str = ""
    #: row keys that JSON and CSV carry where the human renderings show a ``display_only``
    #: column (or after the columns)
    fields: tuple[str, ...] = field(default=())

    @property
    def record_keys(self) -> tuple[str, ...]:
        """The keys of :meth:`records`, in order: the columns, ``display_only`` ones replaced
        by :attr:`fields`."""
        keys: list[str] = []
        for column in self.columns:
            if not column.display_only:
                keys.append(column.key)
            elif not set(self.fields) & set(keys):
                keys += self.fields
        return tuple(keys) + tuple(k for k in self.fields if k not in keys)

    @property
    def shown_notes(self) -> tuple[str, ...]:
        """The notes, then each warning as a note (``warning: ...``)."""
        return (*self.notes, *(f"warning: {text}" for text in self.warnings))

    def records(self) -> list[dict[str, Any]]:
        """Rows as JSON-ready dicts with exact values (shapes as arrays of numbers)."""
        return [{key: plain(row.get(key)) for key in self.record_keys} for row in self.rows]

    def render(self, fmt: str, wide: bool = False) -> str:
        """``fmt`` of :data:`FORMATS`; ``wide``: LaTeX across both columns of a paper."""
        if fmt == "json":
            return json.dumps(self.records(), indent=2)
        if fmt == "latex":
            return to_latex(self, wide)
        return {"csv": to_csv, "markdown": to_markdown, "table": to_text}[fmt](self)


_SUFFIXES = (("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3))


def count_text(value: Any) -> str:
    """A count in a table cell, to one rule: exact below 10,000 (864, 2048), else four
    significant digits with trailing zeros kept, so that a column reads alike (4.210M
    beside 3.783M, 15.47G)."""
    number = float(value)
    if abs(number) < 10_000:
        return str(int(number)) if number == int(number) else f"{number:.4g}"
    for index, (suffix, scale) in enumerate(_SUFFIXES):
        if abs(number) >= scale:
            text = _significant(number / scale, 4)
            if abs(float(text)) >= 1000 and index > 0:  # 999.96K rounds to 1.000M
                text, suffix = _significant(number / _SUFFIXES[index - 1][1], 4), \
                    _SUFFIXES[index - 1][0]
            return text + suffix
    return str(value)


def _significant(number: float, digits: int) -> str:
    """``number`` to ``digits`` significant digits, trailing zeros kept (1.00, 27.2, 123)."""
    if number != 0 and abs(number) >= 10 ** (digits - 1):
        return f"{number:.0f}"
    return f"{number:#.{digits}g}".rstrip(".")


def show(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "count":
        return value if isinstance(value, str) else count_text(value)
    if column.kind == "figure":
        return human(value)
    if column.kind == "ratio":
        return f"{_significant(float(value), 3)}×"
    if column.kind == "percent":
        return f"{float(value):.2f}%"
    if column.kind == "delta":
        return value if isinstance(value, str) else f"{float(value):+.1f}"
    return str(value)


def _is_measure(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _decimals(values: Sequence[float]) -> int | None:
    """One number of decimals for a text column of floats: four significant digits for its
    largest value, at most three decimals, and no more than any value has (60.2 stays 60.2;
    None: the values are too small for decimals)."""
    import math

    largest = max((abs(v) for v in values), default=0)
    if largest == 0:
        return 0
    if largest < 1e-3:
        return None
    present = max(len(repr(v).partition(".")[2]) if "e" not in repr(v) else 3 for v in values)
    return max(0, min(3, 3 - math.floor(math.log10(largest)), present))


def column_cells(column: Column, values: Sequence[Any]) -> list[str]:
    """A column's cells as text, one precision rule for the whole column: a text column that
    holds only numbers shows them all with the same number of decimals."""
    if column.kind == "text" and values and all(v is None or _is_measure(v) for v in values) \
            and any(isinstance(v, float) for v in values):
        decimals = _decimals([float(v) for v in values if v is not None])
        return ["" if v is None else f"{float(v):.3g}" if decimals is None
                else f"{float(v):.{decimals}f}" for v in values]
    return [show(column, v) for v in values]


def to_csv(table: Table) -> str:
    out = io.StringIO()
    for text in table.warnings:  # comment lines: csv readers skip them with a filter on "#"
        out.write(f"# warning: {' '.join(text.split())}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.record_keys)
    for record in table.records():  # a shape or a mapping as JSON inside its cell
        writer.writerow([json.dumps(v) if isinstance(v, (dict, list)) else v
                         for v in record.values()])
    return out.getvalue()


def _cells(table: Table) -> list[list[str]]:
    columns = [column_cells(c, [row.get(c.key) for row in table.rows]) for c in table.columns]
    return [list(cells) for cells in zip(*columns)] if columns else []


def _right_aligned(table: Table, cells: list[list[str]]) -> list[bool]:
    """Numbers sit right: every non-text column, and a text column holding only numbers."""
    from .text_layout import is_number

    return [c.kind != "text" or (any(row[i] for row in cells)
                                 and all(is_number(row[i]) for row in cells if row[i]))
            for i, c in enumerate(table.columns)]


def _md(text: str) -> str:
    return text.replace("|", "\\|")  # a bare | would end the cell


def to_markdown(table: Table) -> str:
    cells = _cells(table)
    align = ["---:" if right else ":---" for right in _right_aligned(table, cells)]
    lines = [f"**{table.title}**", "",
             "| " + " | ".join(_md(c.header) for c in table.columns) + " |",
             "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in cells]
    lines += [""] + [f"_{note}_  " for note in table.shown_notes]
    return "\n".join(lines).rstrip() + "\n"


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "×": r"$\times$", "→": r"$\rightarrow$",
                  "Δ": r"$\Delta$", "α": r"$\alpha$", "ρ": r"$\rho$", "÷": r"$\div$",
                  "−": r"$-$", "µ": r"$\mu$", "μ": r"$\mu$", "≈": r"$\approx$",
                  "√": r"$\surd$", "…": r"\ldots{}", "≥": r"$\geq$", "≤": r"$\leq$",
                  "·": r"$\cdot$", "⋅": r"$\cdot$", "‖": r"$\|$", "–": "--", "—": "---",
                  "’": "'", "‘": "`", "“": "``", "”": "''", "²": r"$^2$", "⁺": r"$^+$",
                  "±": r"$\pm$", "≠": r"$\neq$", "∑": r"$\sum$", "|": r"\textbar{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "·": r"$\cdot$"}


def latex_escape(text: str) -> str:
    """``text`` for pdflatex: its specials escaped, the symbols the tables use as math, any
    other non-ASCII character by its ASCII decomposition (x̃ as x), never a character that
    stops pdflatex."""
    import unicodedata

    out = []
    for ch in text:
        if ch in _LATEX_ESCAPES:
            out.append(_LATEX_ESCAPES[ch])
        elif ord(ch) < 128:
            out.append(ch)
        else:
            out.append("".join(c for c in unicodedata.normalize("NFKD", ch) if ord(c) < 128))
    return "".join(out)


def latex_label(title: str) -> str:
    """``tab:`` and the title's words, lower case, joined by hyphens (a \\label key)."""
    import re

    return "tab:" + "-".join(re.findall(r"[a-z0-9]+", title.lower()))[:60].strip("-")


#: a text column with cells longer than this wraps in a paragraph column (``p{}``)
_LATEX_WRAP_CHARS = 24
#: the share of a one-column article's line (345 pt, about 43 em of \\footnotesize) that
#: the wrapped columns take together, and the width of a character, in em
_LATEX_WRAP_EM = 0.42 * 43
_LATEX_CHAR_EM = 0.55


def _latex_spec(table: Table, cells: list[list[str]], right: list[bool]) -> list[str]:
    """Column types: ``r`` for numbers, ``l`` for short text, a ragged-right paragraph for
    long text, as wide as its share of the line and never narrower than its longest word
    (which would overflow the cell)."""
    from .text_layout import tokens

    lengths = [max([len(c.header), *(len(row[i]) for row in cells)])
               for i, c in enumerate(table.columns)]
    wrapped = [not right[i] and lengths[i] > _LATEX_WRAP_CHARS for i in range(len(lengths))]
    total = sum(n for n, w in zip(lengths, wrapped) if w) or 1
    spec = []
    for i, n in enumerate(lengths):
        if wrapped[i]:
            word = max(len(t) for text in (table.columns[i].header, *(row[i] for row in cells))
                       for t in tokens(text) or [""])
            em = max(_LATEX_WRAP_EM * n / total, _LATEX_CHAR_EM * word + 0.5)
            spec.append(rf">{{\raggedright\arraybackslash}}p{{{em:.1f}em}}")
        else:
            spec.append("r" if right[i] else "l")
    return spec


def _latex_header(header: str, cells: list[str], right: bool, wrapped: bool) -> str:
    """A header longer than its column's cells on two lines (a nested tabular), so that the
    header does not widen a column of short numbers."""
    from .text_layout import tokens

    words = tokens(header)
    if wrapped or len(words) < 2 or len(header) <= max((len(c) for c in cells), default=0):
        return latex_escape(header)
    cut = min(range(1, len(words)), key=lambda k: max(len(" ".join(words[:k])),
                                                       len(" ".join(words[k:]))))
    align = "r" if right else "l"
    return (rf"\begin{{tabular}}[b]{{@{{}}{align}@{{}}}}{latex_escape(' '.join(words[:cut]))}"
            rf"\\{latex_escape(' '.join(words[cut:]))}\end{{tabular}}")


def to_latex(table: Table, wide: bool = False) -> str:
    """A ``table`` float (``table*``, across both columns of a two-column paper, with
    ``wide``) for a paper: booktabs rules, the title as caption, a label, numbers right-aligned
    in their columns, long free text wrapped in paragraph columns; a table still wider than
    the line is scaled to it (graphicx's ``\\resizebox``), so it never overflows. Needs
    ``\\usepackage{booktabs,array,graphicx}``."""
    cells = _cells(table)
    right = _right_aligned(table, cells)
    spec = _latex_spec(table, cells, right)
    env = "table*" if wide else "table"
    lines = [rf"\begin{{{env}}}[t]", r"\centering\footnotesize\setlength{\tabcolsep}{4pt}",
             rf"\caption{{{latex_escape(table.title)}}}\label{{{latex_label(table.title)}}}",
             r"\setbox0\hbox{%",
             rf"\begin{{tabular}}{{{''.join(spec)}}}", r"\toprule",
             " & ".join(_latex_header(c.header, [row[i] for row in cells], right[i],
                                      spec[i].startswith(">"))
                        for i, c in enumerate(table.columns)) + r" \\", r"\midrule"]
    lines += [" & ".join(latex_escape(cell) for cell in row) + r" \\" for row in cells]
    lines += [r"\bottomrule", r"\end{tabular}}%",
              r"\ifdim\wd0>\linewidth\resizebox{\linewidth}{!}{\box0}\else\box0\fi"]
    if table.shown_notes:
        lines.append(r"\par\smallskip{\scriptsize\raggedright "
                     + " ".join(latex_escape(n) for n in table.shown_notes) + r"\par}")
    lines.append(rf"\end{{{env}}}")
    return "\n".join(lines) + "\n"


#: what a document needs for these tables (README: LaTeX)
LATEX_PREAMBLE = r"\usepackage{booktabs,array,graphicx}"


def terminal_width() -> int:
    """The terminal's width in columns (``COLUMNS`` when set, as ``shutil`` reads it; 120 when
    the output is not a terminal)."""
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def to_text(table: Table, width: int | None = None) -> str:
    """The table laid out within ``width`` columns (the terminal's by default), numbers and
    words never split (:mod:`costmodel.report.text_layout`), then its notes, each wrapped to
    the same width."""
    from .text_layout import DEFAULT_DROP, render

    cells = _cells(table)
    ranks = [c.drop or DEFAULT_DROP.get(c.key, 0) for c in table.columns]
    return render(table.title, [c.header for c in table.columns], cells,
                  _right_aligned(table, cells), ranks, table.shown_notes,
                  width or terminal_width(), table.hidden_hint)


def render_all(tables: Sequence[Table], fmt: str, wide: bool = False) -> str:
    """Several tables in one output: JSON as an object keyed by title slug, others stacked."""
    if fmt == "json":
        return json.dumps({t.title: t.records() for t in tables}, indent=2)
    return "\n".join(t.render(fmt, wide) for t in tables)
