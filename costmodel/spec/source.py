"""The text of an architecture file, read and cut into lines before any parsing.

Everything here is about the file as text: a size-checked read of at most MAX_FILE_BYTES of
UTF-8 (:func:`read_spec_file`), the byte-order mark, NUL bytes, tabs against spaces, the
docstring, comments, line length (:func:`split_lines`), and splitting one line into items
(:func:`split_items`, :func:`split_commas`). :mod:`.parser` gives the lines their meaning.
"""

from __future__ import annotations

import re
import stat
import textwrap
from dataclasses import dataclass
from pathlib import Path

from .. import limits
from ..errors import SpecError
from ..safe_io import printable


def read_spec_file(path: str | Path) -> str:
    """The text of an architecture file: a regular file of at most MAX_FILE_BYTES, UTF-8
    (a leading byte-order mark is dropped later). Its size is checked before it is read, and
    at most that many bytes are read, so ``/dev/zero`` or a huge file is refused at once."""
    path = Path(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise SpecError("is a directory, not an architecture file", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise SpecError("is not a regular file (a device or a pipe?)", str(path))
        if info.st_size > limits.MAX_FILE_BYTES:
            raise SpecError(f"the file has {info.st_size:,} bytes; architecture files are at "
                            f"most {limits.MAX_FILE_BYTES:,} (limit MAX_FILE_BYTES)", str(path))
        with open(path, "rb") as stream:
            data = stream.read(limits.MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise SpecError("no such file", str(path)) from None
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror or exc}", str(path)) from None
    if len(data) > limits.MAX_FILE_BYTES:
        raise SpecError(f"the file has more than {limits.MAX_FILE_BYTES:,} bytes (limit "
                        "MAX_FILE_BYTES)", str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                        str(path), line) from None


@dataclass(frozen=True)
class Line:
    """One line that holds a statement: its number in the file, its indentation in spaces,
    its text without the comment, and the comment."""

    number: int
    indent: int
    text: str
    help: str  # the comment, kept for knob help texts


def _strip_comment(text: str) -> tuple[str, str]:
    """``text`` before a ``#`` outside quotes, and the comment after it."""
    quote = None
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return text[:i].rstrip(), text[i + 1:].strip()
    return text.rstrip(), ""


#: Characters an architecture file may not hold: C0 controls but tab, LF and CR (NUL is
#: refused on its own above), DEL, C1 controls, and the line separators and bidirectional
#: controls that would split or reorder what a terminal shows.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f"
                      "\u2028-\u202e\u2066-\u2069]")


def _check_text(text: str, source: str) -> str:
    """The text without a leading byte-order mark; NUL bytes and indentation that mixes
    tabs and spaces are refused (the width of a tab is anyone's guess)."""
    text = text[1:] if text.startswith("\ufeff") else text
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise SpecError("the file contains a NUL byte: not a text file", source, line, "\\x00")
    control = _CONTROL.search(text)
    if control:  # ESC in a name or a note would reach the terminal; a form feed splits lines
        char = control.group()
        line = text.count("\n", 0, control.start()) + 1
        raise SpecError(f"the file contains the control character U+{ord(char):04X} "
                        f"({printable(char)}); an architecture file is plain text (tabs and "
                        "line ends only)", source, line, printable(char))
    tabs = spaces = None
    for number, line in enumerate(text.splitlines(), start=1):
        indent = line[:len(line) - len(line.lstrip(" \t"))]
        if not line.strip() or line.strip().startswith("#"):
            continue
        if "\t" in indent:
            tabs = tabs or number
        if " " in indent:
            spaces = spaces or number
        if tabs and spaces:
            raise SpecError(f"indentation mixes tabs (line {tabs}) and spaces (line {spaces}); "
                            "use spaces only", source, number, "\\t")
    return text


def split_lines(text: str, source: str) -> tuple[str, list[Line]]:
    """The file's leading docstring (dedented) and its non-blank lines; tabs count as 4
    spaces, and a line longer than MAX_LINE_CHARS is refused."""
    raw = _check_text(text, source).expandtabs(4).splitlines()
    doc, start = "", 0
    first = next((i for i, line in enumerate(raw) if line.strip()), None)
    if first is not None and raw[first].strip().startswith('"""'):
        rest = raw[first].strip()[3:]
        collected, i = [], first
        while '"""' not in rest:
            collected.append(rest)
            i += 1
            if i >= len(raw):
                raise SpecError('the docstring opened here is never closed with """', source,
                                first + 1, '"""')
            rest = raw[i]
        collected.append(rest[:rest.index('"""')])
        doc, start = "\n".join(collected).strip(), i + 1
        doc = textwrap.dedent(doc)
    lines = []
    for number, line in enumerate(raw[start:], start=start + 1):
        if len(line) > limits.MAX_LINE_CHARS:
            raise SpecError(f"line longer than {limits.MAX_LINE_CHARS:,} characters (limit "
                            "MAX_LINE_CHARS)", source, number, limits.excerpt(line.strip()))
        body, comment = _strip_comment(line)
        if body.strip():
            lines.append(Line(number, len(body) - len(body.lstrip()), body.strip(), comment))
    return doc, lines


def split_items(text: str, source: str, line: int) -> list[str]:
    """Split on spaces outside brackets and quotes: ``conv c=(64 * a) k=3`` -> 3 items."""
    items, depth, quote, current = [], 0, None, []
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise SpecError(f"unbalanced {ch!r}", source, line, ch)
        elif ch.isspace() and depth == 0:
            if current:
                items.append("".join(current))
                current = []
            continue
        current.append(ch)
    if depth or quote:
        raise SpecError(f"unclosed {'quote' if quote else 'bracket'}", source, line, text)
    if current:
        items.append("".join(current))
    return items


def split_commas(text: str) -> list[str]:
    """Split on commas outside brackets, for parameter lists: ``a, b=f(1, 2)`` -> 2 parts."""
    parts, depth, current = [], 0, []
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    tail = "".join(current).strip()
    return parts + [tail] if tail or parts else []
