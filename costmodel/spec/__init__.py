"""The layer-spec language: architectures as compact, indentation-structured text tables.

:mod:`.parser` turns text into an immutable syntax tree (it never executes anything);
:mod:`.builder` walks that tree with knob values and produces a :class:`~costmodel.core.network.Network`.
The grammar is documented in :mod:`.parser` and in the README.
"""

from .builder import build, load_model
from .parser import ModelSpec, parse_file, parse_text

__all__ = ["ModelSpec", "build", "load_model", "parse_file", "parse_text"]
