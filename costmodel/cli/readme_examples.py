"""A README's console examples, run as a reader would run them, and rewritten to what they
print now (``costmodel report --readme README.md``).

Each ```console block holds one or more ``$ costmodel ...`` lines, each followed by what the
command prints (stdout and stderr, as a terminal shows them) in a 100-column terminal. A line
``...`` in a block stands for any number of lines the README leaves out (such a block is
checked, never rewritten); trailing spaces are not compared (an editor strips them).

The README is data from outside: its commands are split as a shell would split them but run
with no shell, only ``costmodel`` commands that print and write nothing (``compare``,
``derive``, ``solve``...) and none with an option that writes a file; a SPEC that is a Python
file runs that file's code, so such an example is run only when asked (``--python-examples``).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import limits
from ..errors import CostModelError
from ..safe_io import printable, read_bounded, write_atomic

COLUMNS = 100
ELISION = "..."
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
# the commands an example may run: each prints its result and writes no file (breakdown
# is not one: it always writes its figure)
READ_ONLY_COMMANDS = frozenset({"compare", "summary", "explain", "diff", "derive", "solve",
                                "list", "memory", "guidelines", "hardware"})
WRITING_OPTIONS = ("-o", "--out", "--output")
MAX_EXAMPLES = 200
EXAMPLE_SECONDS = 120


@dataclass(frozen=True)
class Example:
    command: str              # as typed after "$ ", a trailing "  # comment" removed
    shown: tuple[str, ...]    # the lines the README shows after it


def examples(text: str) -> list[Example]:
    found = []
    for block in BLOCK.finditer(text):
        command, shown = None, []
        for line in block.group(1).splitlines():
            if line.startswith("$ "):
                if command is not None:
                    found.append(Example(command, tuple(shown)))
                command, shown = line[2:].split("  #", 1)[0].strip(), []
            else:
                shown.append(line)
        if command is not None:
            found.append(Example(command, tuple(shown)))
    if len(found) > MAX_EXAMPLES:
        raise CostModelError(f"the README has {len(found)} console examples; at most "
                             f"{MAX_EXAMPLES} are run (MAX_EXAMPLES)")
    return found


def arguments(command: str, python_examples: bool = False) -> list[str]:
    """The words after ``costmodel`` in ``command``, or a CostModelError saying why the
    example is not run."""
    try:
        words = shlex.split(command)
    except ValueError as error:
        raise CostModelError(f"example `{printable(command)}`: {error}") from None
    if not words or words[0] != "costmodel" or len(words) < 2:
        raise CostModelError(f"example `{printable(command)}`: only `costmodel ...` commands "
                             f"are run")
    if words[1] not in READ_ONLY_COMMANDS:
        raise CostModelError(f"example `{printable(command)}`: `costmodel {printable(words[1])}`"
                             f" is not run from a README (it may write files); examples may "
                             f"run {', '.join(sorted(READ_ONLY_COMMANDS))}")
    writing = [w for w in words if w in WRITING_OPTIONS or w.startswith(("--out=", "--output="))]
    if writing:
        raise CostModelError(f"example `{printable(command)}`: {printable(writing[0])} writes a "
                             f"file; a README example only prints")
    if not python_examples and any(".py" in word for word in words[2:]):
        raise CostModelError(f"example `{printable(command)}` runs a Python file's code; "
                             f"pass --python-examples to run it")
    return words[1:]


def run(command: str, folder: Path, python_examples: bool = False) -> tuple[str, ...]:
    """What ``command`` prints in a 100-column terminal, stdout then stderr, run from
    ``folder`` (the README's: its examples name files beside it)."""
    words = arguments(command, python_examples)
    try:
        done = subprocess.run([sys.executable, "-m", "costmodel", *words], cwd=folder,
                              capture_output=True, text=True, timeout=EXAMPLE_SECONDS,
                              env={**os.environ, "COLUMNS": str(COLUMNS)})
    except subprocess.TimeoutExpired:
        raise CostModelError(f"example `{printable(command)}` ran past {EXAMPLE_SECONDS} s")
    return tuple(line.rstrip() for line in (done.stdout + done.stderr).splitlines())


def matches(shown: tuple[str, ...], printed: tuple[str, ...]) -> bool:
    """Whether ``printed`` is ``shown`` with each ``...`` line standing for any lines."""
    pieces: list[list[str]] = [[]]
    for line in shown:
        if line.strip() == ELISION:
            pieces.append([])
        else:
            pieces[-1].append(line.rstrip())
    if len(pieces) == 1:
        return list(printed) == pieces[0]
    head, *middle, tail = pieces
    if list(printed[:len(head)]) != head or (tail and list(printed[-len(tail):]) != tail):
        return False
    at, end = len(head), len(printed) - len(tail)
    for piece in middle:
        while at + len(piece) <= end and list(printed[at:at + len(piece)]) != piece:
            at += 1
        if at + len(piece) > end:
            return False
        at += len(piece)
    return True


def rewrite(readme: Path, python_examples: bool = False,
            say=lambda line: print(line, file=sys.stderr)) -> int:
    """Rewrite each example of ``readme`` whose output changed and that elides nothing, all
    or nothing; ``say`` a line for each; return how many are stale and left as they were
    (elided, or not run)."""
    data = read_bounded(readme, limits.MAX_FILE_BYTES, "README", "MAX_FILE_BYTES")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CostModelError(f"{printable(str(readme))}: not UTF-8 text ({error.reason} at "
                             f"byte {error.start}); a README is a UTF-8 Markdown file") from None
    stale, at = 0, 0
    for example in examples(text):
        start = text.find(f"$ {example.command}", at)
        try:
            printed = run(example.command, readme.parent, python_examples)
        except CostModelError as error:
            say(f"left as is: {error}")
            stale += 1
            at = start + 1
            continue
        old = "\n".join([text[start:].split("\n", 1)[0], *example.shown])
        if matches(example.shown, printed):
            at = start + len(old)
            continue
        if any(line.strip() == ELISION for line in example.shown):
            say(f"update by hand (it elides lines): $ {printable(example.command)}")
            stale += 1
            at = start + len(old)
            continue
        new = "\n".join([text[start:].split("\n", 1)[0], *printed])
        text = text[:start] + new + text[start + len(old):]
        at = start + len(new)
        say(f"rewrote: $ {printable(example.command)}")
    write_atomic(readme, text, "README")
    return stale
