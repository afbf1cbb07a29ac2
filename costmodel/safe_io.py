"""Everything that crosses between costmodel and the outside world, made safe in one place.

Text from outside (ONNX names, profile names, file names, string attributes) reaches a terminal
only through :func:`printable`; files from outside are read only through :func:`read_bounded`
(a regular file, its size checked before a byte is read, never more than the limit read); files
costmodel writes are written only through :func:`write_atomic` or, for a library that writes
a file itself (matplotlib, pyarrow), :func:`write_atomic_with` (a temporary file beside the
target, renamed over it once complete, so a full disk or a crash leaves the old file whole).
Each failure is a :class:`~costmodel.errors.CostModelError` naming the path and the real cause,
which the CLI prints as one line.
"""

from __future__ import annotations

import os
import stat
import tempfile
import unicodedata
from pathlib import Path
from typing import Callable

from . import limits
from .errors import CostModelError

#: Unicode categories never printed as they are: controls (C0, DEL, C1: ESC starts terminal
#: escape sequences, CR and BS overwrite what a line showed), format characters (bidirectional
#: overrides reorder what a reader sees) and the line/paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"})


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def printable(text: object, limit: int | None = limits.MAX_QUOTED_CHARS) -> str:
    """``text`` as one safe line for a terminal or a table cell: every control, format and
    separator character (newline and tab included) written as a visible escape (``\\x1b``),
    then shortened to ``limit`` characters (None: no limit). Every string that came from
    outside goes through this before it is printed."""
    text = str(text)
    if limit is not None and len(text) > 4 * limit:  # don't escape megabytes to show 60 chars
        text = text[:4 * limit]
    cleaned = "".join(_escape(c) if unicodedata.category(c) in _HIDDEN_CATEGORIES else c
                      for c in text)
    return cleaned if limit is None else limits.excerpt(cleaned, limit)


def strip_terminal_controls(text: str) -> str:
    """``text`` with every control character but newline and tab escaped: the last guard on
    everything the CLI writes, so that no escape sequence from input reaches a terminal even
    if a name slipped past :func:`printable` (which each name should go through first)."""
    if text.isprintable() or all(c in "\n\t" or unicodedata.category(c) not in
                                 _HIDDEN_CATEGORIES for c in text):
        return text
    return "".join(c if c in "\n\t" or unicodedata.category(c) not in _HIDDEN_CATEGORIES
                   else _escape(c) for c in text)


def _describe(path: Path) -> str:
    return printable(path, limits.MAX_QUOTED_PATH_CHARS)


def read_bounded(path: str | Path, limit: int, what: str, limit_name: str) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them: a directory, a pipe
    (which could block forever) or a device (``/dev/zero``) is refused before it is opened for
    reading, the size is checked before the read, and no more than ``limit + 1`` bytes are read
    whatever the file claims. ``what`` names the file's role in messages ("hardware profile"),
    ``limit_name`` the constant in :mod:`costmodel.limits`."""
    path = Path(path)
    shown = _describe(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise CostModelError(f"{shown}: no such file (expected a {what})") from None
    except OSError as exc:
        raise CostModelError(f"{shown}: cannot read the {what}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise CostModelError(f"{shown}: is a directory, not a {what}")
    if not stat.S_ISREG(info.st_mode):
        raise CostModelError(f"{shown}: is not a regular file (a pipe or a device?); a {what} "
                             "must be a regular file")
    if info.st_size > limit:
        raise CostModelError(f"{shown}: the {what} has {info.st_size:,} bytes, more than the "
                             f"{limit:,} allowed (limit {limit_name})")
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO after the stat, open does not block
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise CostModelError(f"{shown}: is not a regular file; a {what} must be one")
            data = stream.read(limit + 1)
    except OSError as exc:
        raise CostModelError(f"{shown}: cannot read the {what}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise CostModelError(f"{shown}: the {what} has more than {limit:,} bytes (limit "
                             f"{limit_name})")
    return data


def decode_utf8(data: bytes, path: str | Path, what: str) -> str:
    """``data`` as UTF-8 text without a leading byte-order mark; bytes that are not UTF-8 are
    an error naming their offset (Latin-1 text, a binary file given by mistake)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CostModelError(f"{_describe(Path(path))}: the {what} is not UTF-8 text (byte "
                             f"0x{data[exc.start]:02x} at offset {exc.start}); save it as "
                             "UTF-8") from None
    return text[1:] if text.startswith("\ufeff") else text


def read_text_bounded(path: str | Path, limit: int, what: str, limit_name: str) -> str:
    """:func:`read_bounded` then :func:`decode_utf8`."""
    return decode_utf8(read_bounded(path, limit, what, limit_name), path, what)


def check_writable_target(path: str | Path, what: str = "output file",
                          create_folders: bool = False) -> Path:
    """``path`` if it may be written: a new file in an existing folder, or an existing regular
    file (replaced whole). A directory, a pipe or a device is refused before any work, so a long
    computation does not end in a failed write. With ``create_folders`` (the figure commands
    make the folders they write into) a missing folder is accepted if the nearest existing
    one above it is a folder."""
    path = Path(path)
    shown = _describe(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        parent = path.parent if str(path.parent) else Path(".")
        if create_folders:
            while not parent.exists() and parent != parent.parent:
                parent = parent.parent
        if not parent.is_dir():
            missing = not parent.exists()
            raise CostModelError(f"{shown}: cannot write the {what}: the folder "
                                 f"{_describe(parent)} " +
                                 ("does not exist" if missing else "is not a folder")) from None
        return path
    except OSError as exc:
        raise CostModelError(f"{shown}: cannot write the {what}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise CostModelError(f"{shown}: is a directory; give a file name for the {what}")
    if not stat.S_ISREG(info.st_mode):
        raise CostModelError(f"{shown}: is not a regular file (a pipe or a device?); the {what} "
                             "must be a regular file")
    return path


def write_atomic(path: str | Path, data: bytes | str, what: str = "output file") -> None:
    """Write ``data`` (str as UTF-8) to ``path`` all or nothing: into a temporary file in the
    same folder, flushed to disk, then renamed over ``path``. A failure (full disk, no
    permission) removes the temporary file, leaves any old ``path`` as it was, and is a
    CostModelError saying so. The new file gets the old one's permission bits, or the usual
    ones for a new file (0666 less the umask)."""
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def write_bytes(temp: Path) -> None:
        fd = os.open(temp, os.O_WRONLY | os.O_TRUNC)
        try:
            view = memoryview(payload)
            while view:  # os.write may write less than asked (a signal, a nearly full disk)
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)

    write_atomic_with(path, write_bytes, what, suffix=".tmp")


def write_atomic_with(path: str | Path, writer: Callable[[Path], object],
                      what: str = "output file", suffix: str | None = None) -> Path:
    """Write ``path`` all or nothing through ``writer``, a function that writes a whole file
    at the path it is given (matplotlib's ``savefig``, pyarrow's ``write_table``, a stream
    writer): it is called with a temporary file beside ``path``, with the same suffix (so a
    library that picks the format by suffix picks the right one) unless ``suffix`` is given;
    the file is flushed to disk and renamed over ``path``. A failure in ``writer`` or after it
    removes the temporary file and leaves any old ``path`` as it was; an OSError (full disk)
    becomes a CostModelError saying so. ``path`` is checked first
    (:func:`check_writable_target`)."""
    path = check_writable_target(path, what)
    shown = _describe(path)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    ending = path.suffix[:16] if suffix is None else suffix
    temp = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=ending, dir=folder)
        os.close(fd)
        temp = Path(name)
        writer(temp)
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)  # on disk before the rename, so a crash cannot leave an empty file
        finally:
            os.close(fd)
        os.chmod(temp, mode)
        os.replace(temp, path)
        temp = None
    except OSError as exc:
        existed = path.exists()
        raise CostModelError(f"{shown}: cannot write the {what}: {exc.strerror or exc}"
                             + ("; the existing file is unchanged" if existed else "")) from None
    finally:
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass
    return path
