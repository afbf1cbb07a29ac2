"""Laying a table out in a terminal of a given width, never splitting a number or a word.

Numbers and names are never broken; free text wraps between words (a parenthesised group,
such as a rule's ``(2 in)``, and a lone symbol such as ``→`` stay with their neighbour).
When the columns do not fit even with every free text wrapped to its longest word, columns
are hidden, the least needed first (a column's ``drop`` rank, then the settings column,
then from the right; the first column, which names the row, always stays), and a note says
what was hidden and what shows it. Titles and notes wrap at the terminal's width, not the
table's.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

#: columns hidden before any other when a table does not fit, by key (rank: higher first)
DEFAULT_DROP = {"settings": 100, "config": 100, "spec": 90}
_INDENT = "  "
_NUMBER = re.compile(r"^[+\-−]?[\d,]*\.?\d+(e[+-]?\d+)?\s?[KMGTPE%×]?$|^·$")
#: a parenthesised group up to this long stays on one line (``(MACs + bias)``); longer is prose
_GROUP_CHARS = 16
_SYMBOL = re.compile(r"^[^\w(]+$")


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a combining mark (the tilde of x̃) none, a wide
    character two."""
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * max(width - display_width(text), 0)
    return space + text if right else text + space


def is_number(text: str) -> bool:
    """``568.7M``, ``-1,015``, ``94.90%``, ``27.2×``, ``·``: right-aligned, never broken."""
    return bool(_NUMBER.match(text))


def tokens(text: str) -> list[str]:
    """``text`` cut where a line may break: at spaces outside short parentheses, a lone symbol
    (``→``, ``÷``, ``+``) kept with the word before it."""
    pieces: list[str] = []
    depth, current = 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        if ch == " " and depth == 0:
            if current:
                pieces.append(current)
            current = ""
        else:
            current += ch
    if current:
        pieces.append(current)
    merged: list[str] = []
    for piece in (part for piece in pieces for part in
                  (piece.split(" ") if len(piece) > _GROUP_CHARS else (piece,))):
        if merged and _SYMBOL.match(piece):
            merged[-1] += " " + piece
        else:
            merged.append(piece)
    return merged


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken between tokens only (a token
    longer than ``width`` is the only thing ever cut)."""
    lines: list[str] = []
    line = ""
    for token in tokens(text) or [""]:
        while display_width(token) > width:  # only in a terminal narrower than one word
            if line:
                lines.append(line)
                line = ""
            lines.append(token[:width])
            token = token[width:]
        if not line:
            line = token
        elif display_width(line) + 1 + display_width(token) <= width:
            line += " " + token
        else:
            lines.append(line)
            line = token
    lines.append(line)
    return lines


@dataclass
class _Layout:
    shown: list[int]          # indices of the columns shown
    widths: list[int]         # their widths
    gap: int


def _min_width(header: str, cells: Sequence[str]) -> int:
    return max([display_width(t) for text in (header, *cells) for t in tokens(text)] or [1])


def _nat_width(header: str, cells: Sequence[str]) -> int:
    return max([display_width(header), *(display_width(c) for c in cells)] or [1])


def _total(widths: Sequence[int], gap: int) -> int:
    return len(_INDENT) + sum(widths) + gap * max(len(widths) - 1, 0)


def layout(headers: Sequence[str], columns: Sequence[Sequence[str]],
           drop_ranks: Sequence[int], width: int) -> _Layout:
    """Which columns to show and how wide, so that the table fits ``width``."""
    mins = [_min_width(h, c) for h, c in zip(headers, columns)]
    nats = [_nat_width(h, c) for h, c in zip(headers, columns)]
    order = sorted(range(1, len(headers)), key=lambda i: (-drop_ranks[i], -i))
    shown = list(range(len(headers)))
    while True:
        for gap in (3, 2):
            widths = [nats[i] for i in shown]
            floor = [mins[i] for i in shown]
            if _total(floor, gap) <= width or len(shown) == 1:
                break
        if _total(floor, gap) <= width or len(shown) == 1:
            break
        shown.remove(order.pop(0))
    # first wrap headers (one taller header row), then free text (taller rows): each time
    # the widest column that can still give
    soft = [max(floor[k], max((display_width(c) for c in columns[i]), default=0))
            for k, i in enumerate(shown)]
    for limit in (soft, floor):
        while _total(widths, gap) > width:
            slack = [(widths[k], k) for k in range(len(shown)) if widths[k] > limit[k]]
            if not slack:
                break
            _, k = max(slack)
            widths[k] -= 1
    return _Layout(shown, widths, gap)


def paragraph(text: str, width: int) -> list[str]:
    """A title or a note, wrapped between words at ``width`` (only a word longer than the
    whole line is cut)."""
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def render(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]],
           right: Sequence[bool], drop_ranks: Sequence[int], notes: Sequence[str],
           width: int, hidden_hint: str = "") -> str:
    """The whole table as text within ``width`` columns: title, header, rule, rows, notes."""
    columns = [[row[i] for row in rows] for i in range(len(headers))]
    plan = layout(headers, columns, drop_ranks, width)
    # a wrapped column as wide as its longest line, not the room it was given
    plan.widths = [max(display_width(line) for text in (headers[i], *columns[i])
                       for line in wrap(text, w))
                   for i, w in zip(plan.shown, plan.widths)]
    out = [*paragraph(title, width), ""]
    head = [wrap(headers[i], w) for i, w in zip(plan.shown, plan.widths)]
    height = max(len(h) for h in head)
    head = [[""] * (height - len(h)) + h for h in head]  # headers sit on the rule
    for line in range(height):
        out.append(_line([h[line] for h in head], plan, right))
    out.append(" " + "─" * (_total(plan.widths, plan.gap) - 1))
    for row in rows:
        cells = [wrap(row[i], w) for i, w in zip(plan.shown, plan.widths)]
        for line in range(max(len(c) for c in cells)):
            out.append(_line([c[line] if line < len(c) else "" for c in cells], plan, right))
    out.append("")
    hidden = [headers[i] for i in range(len(headers)) if i not in plan.shown]
    if hidden:
        needed = layout(headers, columns, [0] * len(headers), 10_000)
        need = _total([_min_width(headers[i], columns[i]) for i in needed.shown], 2)
        out += paragraph(hidden_note(hidden, width, need, hidden_hint), width)
    for note in notes:
        out += paragraph(note, width)
    return "\n".join(line.rstrip() for line in out).rstrip() + "\n"


def hidden_note(hidden: Sequence[str], width: int, need: int, hint: str = "") -> str:
    """What was left out to fit ``width`` columns, and what shows it."""
    names = ", ".join(hidden)
    return (f"Hidden to fit {width} columns: {names}; {hint}COLUMNS={need} or --format csv "
            f"shows {'them' if len(hidden) > 1 else 'it'}.")


def _line(cells: Sequence[str], plan: _Layout, right: Sequence[bool]) -> str:
    parts = [_pad(cell, w, right[i]) for cell, w, i in zip(cells, plan.widths, plan.shown)]
    return _INDENT + (" " * plan.gap).join(parts)


def fit_text(text: str, width: int) -> str:
    """Prose output (``derive``, ``solve``) within ``width`` columns: a longer line wraps
    between words, its continuation indented two more than the line."""
    out = []
    for line in text.splitlines():
        if display_width(line) <= width:
            out.append(line)
            continue
        indent = line[:len(line) - len(line.lstrip())]
        out += textwrap.wrap(line.strip(), width, initial_indent=indent,
                             subsequent_indent=indent + "  ", break_long_words=True,
                             break_on_hyphens=False)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")
