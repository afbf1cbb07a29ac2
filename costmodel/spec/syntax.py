"""The syntax tree of the layer-spec language: what :mod:`.parser` makes of a file.

Frozen dataclasses only; every expression in them is a validated
:class:`~costmodel.core.expr.Expression`, never evaluated here. :mod:`.builder` walks the
tree with knob values to make a :class:`~costmodel.core.network.Network`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.expr import Expression

#: A name in the language: an op, a block, a knob, a ``let`` name, a parameter, a group.
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: Keys of a primitive's line that append a batch norm or an activation layer.
MODIFIER_KEYS = ("bn", "act")
#: The types a knob may declare (``Knob.type``).
KNOB_TYPES = ("positive", "int", "choice")


@dataclass(frozen=True)
class Node:
    line: int


@dataclass(frozen=True)
class LayerLine(Node):
    op: str
    args: tuple[Expression, ...]
    kwargs: tuple[tuple[str, Expression], ...]


@dataclass(frozen=True)
class Let(Node):
    name: str
    params: tuple[str, ...] | None  # None for a variable, a tuple for a function
    expr: Expression


@dataclass(frozen=True)
class If(Node):
    cases: tuple[tuple[Expression | None, tuple[Node, ...]], ...]  # None: the else case


@dataclass(frozen=True)
class Residual(Node):
    body: tuple[Node, ...]
    shortcut: tuple[Node, ...] | None


@dataclass(frozen=True)
class Branch(Node):
    name: str | None
    body: tuple[Node, ...]


@dataclass(frozen=True)
class Merge(Node):
    op: str  # add, concat or mul
    branches: tuple[Branch, ...]


@dataclass(frozen=True)
class Group(Node):
    name: str
    body: tuple[Node, ...]


@dataclass(frozen=True)
class Knob:
    """A setting of a model: name, default, type and bounds, and a help text."""

    name: str
    default: str
    type: str
    choices: tuple[str, ...] = ()
    min: str | None = None
    max: str | None = None
    help: str = ""
    line: int = 0
    #: The earlier knob whose value this one takes unless it is set (``knob height resolution
    #: int``: the height follows the resolution), or None for a knob with its own default.
    follows: str | None = None


@dataclass(frozen=True)
class BlockDef:
    name: str
    params: tuple[tuple[str, Expression | None], ...]
    body: tuple[Node, ...]
    source: str
    line: int

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.params)


@dataclass(frozen=True)
class ModelSpec:
    """A parsed file: header, knobs, blocks it defines and the body that builds the network."""

    source: str
    name: str | None
    doc: str
    paper: str
    notes: tuple[str, ...]
    knobs: tuple[Knob, ...]
    input: tuple[Expression, ...] | None  # C, then 1 to 3 spatial sizes
    blocks: tuple[BlockDef, ...]
    body: tuple[Node, ...]

    def knob(self, name: str) -> Knob | None:
        return next((k for k in self.knobs if k.name == name), None)
