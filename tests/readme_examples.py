"""The README's console examples, run as a reader would run them.

Each ```console block holds one or more ``$ costmodel ...`` lines, each followed by what the
command prints (stdout and stderr, as a terminal shows them) in a 100-column terminal. A line
``...`` in a block stands for any number of lines the README leaves out; trailing spaces are
not compared (an editor strips them).

``python -m tests.readme_examples`` checks them; ``--write`` rewrites every block without a
``...`` to what the commands print now (a block with one says what to update by hand).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
COLUMNS = 100
ELISION = "..."
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


@dataclass(frozen=True)
class Example:
    command: str        # as typed after "$ ", a trailing "# comment" removed
    shown: tuple[str, ...]   # the lines the README shows after it


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
    return found


def run(command: str) -> tuple[str, ...]:
    """What ``command`` prints in a 100-column terminal, stdout then stderr, from the
    repository's root (the examples name files under examples/)."""
    words = shlex.split(command)
    assert words[0] == "costmodel", command
    done = subprocess.run([sys.executable, "-m", "costmodel", *words[1:]], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": str(COLUMNS)})
    return tuple(line.rstrip() for line in (done.stdout + done.stderr).splitlines())


def matches(shown: tuple[str, ...], printed: tuple[str, ...]) -> bool:
    """Whether ``printed`` is ``shown`` with each ``...`` line standing for any lines."""
    pieces = [[]]
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


def write() -> int:
    text = README.read_text(encoding="utf-8")
    stale = 0
    for example in examples(text):
        printed = run(example.command)
        if matches(example.shown, printed):
            continue
        if any(line.strip() == ELISION for line in example.shown):
            print(f"update by hand (it elides lines): $ {example.command}", file=sys.stderr)
            stale += 1
            continue
        start = text.find(f"$ {example.command}")
        end = start + len("\n".join([text[start:].split("\n", 1)[0], *example.shown])) + 1
        text = text[:start] + "\n".join([text[start:].split("\n", 1)[0], *printed]) + "\n" \
            + text[end:]
        print(f"rewrote: $ {example.command}", file=sys.stderr)
    tmp = README.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(README)
    return stale


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        sys.exit(1 if write() else 0)
    bad = [e.command for e in examples(README.read_text(encoding="utf-8"))
           if not matches(e.shown, run(e.command))]
    print("\n".join(f"stale: $ {c}" for c in bad) or "every example is what it prints")
    sys.exit(1 if bad else 0)
