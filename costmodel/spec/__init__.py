"""The layer-spec language: architectures as compact, indentation-structured text tables.

:mod:`.source` reads a file and cuts it into lines (size, encoding, BOM, NUL, tabs);
:mod:`.parser` turns those lines into the immutable syntax tree of :mod:`.syntax` (it never
executes anything); :mod:`.builder` walks that tree with knob values and produces a
:class:`~costmodel.core.network.Network`.
The grammar is documented in :mod:`.parser` and in the README.
"""

from .builder import build, load_model
from .parser import parse_file, parse_text
from .syntax import ModelSpec

__all__ = ["ModelSpec", "build", "load_model", "parse_file", "parse_text"]
