"""The hostile corpus of issue 16: every input path besides the layer-spec language (ONNX
files, hardware profiles, ``--order`` files, output paths, ``calibrate`` options, PyTorch
files), each case run as its own process by ``tests/test_hostile_paths.py``.

Each module here defines ``CASES``, a list of :class:`Case`; :data:`ALL_CASES` gathers them.
A case names its files (relative to a fresh folder, ``{dir}`` in text and arguments), its
command line after ``costmodel``, and what must hold afterwards:

- ``expect="error"`` (the default): exit status 2, one ``costmodel: error:`` line on stderr (a
  ``see '... --help'`` hint may follow), no traceback; ``expect="ok"``: exit 0.
- always: no marker file (``{marker}``), no terminal control character on stdout or stderr,
  no traceback, within the CPU cap, at most ``MAX_RSS_BYTES`` of memory, and none of
  ``secret`` (bytes planted in a file the command was not asked to read) in the output;
- ``protect``: files (names under the folder) that must hold the same bytes afterwards: an old
  output file that a failed write must not damage;
- ``setup``: a function of the folder run before the command (make a FIFO, a huge sparse file).
- ``env``: extra environment variables; ``cwd``: "dir" (the case's folder, the default) or
  "root" (the checkout).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

#: Bytes planted beside a case's files (as ``secret.txt``, ``.ssh/id_rsa``...) that no output
#: may ever contain.
SECRET = b"SECRET-7f3a9c-do-not-print"


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    files: dict[str, str | bytes] = field(default_factory=dict)
    expect: str = "error"
    protect: tuple[str, ...] = ()
    secret: bool = False
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = "dir"
    #: substrings the error line must contain (the real cause named), case-insensitive
    says: tuple[str, ...] = ()


def _gather() -> list[Case]:
    cases: list[Case] = []
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        cases.extend(importlib.import_module(f"{__name__}.{module}").CASES)
    return cases


ALL_CASES: list[Case] = _gather()
