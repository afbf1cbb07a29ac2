"""The project README's console examples (costmodel/cli/readme_examples.py runs them).

``python -m tests.readme_examples`` checks them; ``costmodel report --readme README.md
--python-examples`` rewrites them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from costmodel.cli import readme_examples as _examples

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
matches = _examples.matches


def examples(source: Path | str = README) -> list[_examples.Example]:
    """The examples of a README file (a Path) or of its text (a str)."""
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
    return _examples.examples(text)


def run(command: str) -> tuple[str, ...]:
    """What the project README's example ``command`` prints, run from the repository root."""
    return _examples.run(command, ROOT, python_examples=True)


if __name__ == "__main__":
    bad = [e.command for e in examples() if not matches(e.shown, run(e.command))]
    print("\n".join(f"stale: $ {c}" for c in bad) or "every example is what it prints")
    sys.exit(1 if bad else 0)
