"""The one error type users see.

Every mistake a user can make (an unknown model, a bad knob value, a malformed architecture
file) raises :class:`CostModelError` with a message that names the bad token and says what
would be right. The CLI turns it into one line on stderr and exit status 2; ``assert`` is kept
for internal invariants only.
"""

from __future__ import annotations


class CostModelError(ValueError):
    """A user-facing error: the message names what is wrong and what was expected."""


class SpecError(CostModelError):
    """An error in layer-spec text, located by source, line and (optionally) column."""

    def __init__(self, message: str, source: str = "<spec>", line: int | None = None,
                 token: str | None = None):
        self.source, self.line, self.token, self.reason = source, line, token, message
        from .limits import MAX_QUOTED_PATH_CHARS, excerpt

        shown = excerpt(source, MAX_QUOTED_PATH_CHARS)  # a 4 kB path must not hide the cause
        where = shown if line is None else f"{shown}:{line}"
        super().__init__(f"{where}: {message}")


class InputTooSmall(CostModelError):
    """A layer's output would be empty: the feature map reaching it is smaller than its window.
    For a whole network this usually means the resolution is too small for its strides."""
