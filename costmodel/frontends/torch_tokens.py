"""The values ``count_torch`` reads the newer networks with, besides
:class:`.torch_rules.Value` (a tensor) and its rules' results:

* :class:`Param`: a parameter read directly in ``forward`` (a ``get_attr`` node: a layer
  scale, a class token, a position embedding, ``F.layer_norm``'s weight). A rule that reads
  one as part of an op names it in ``Emit.params``; views of it (``expand``, ``view``, an
  index into a relative-position table) are the same Param. Parameters no layer claims are
  counted by ``parameter`` layers at the end (frontends/torch_trace.py).
* tensors of the last layout (core/opdef.py ``Shape``): N×L×D tokens, N×H×W×C maps, and the
  N·windows×L×D or N×heads×L×d tensors inside attention, read from their torch sizes by
  :func:`as_last` (the batch axis divided by the input's batch N, :data:`BATCH`).
* :class:`Returned`: a module's tuple output.

The rules that use them: :mod:`.torch_rules_modern` (modules) and
:mod:`.torch_rules_tensors` (functions and methods).
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

from ..core.ops import Shape
from .torch_rules import Value

#: The batch N of the traced input: axes of N·k (windows folded into the batch) are k per
#: sample. Set by the tracer for the span of one trace.
BATCH: contextvars.ContextVar[int] = contextvars.ContextVar("batch", default=1)


@dataclass(frozen=True)
class Param:
    """A parameter read directly in ``forward``, or a view of one: its qualified name and
    the size of the tensor seen."""

    name: str
    size: tuple[int, ...]
    #: how many numbers the parameter itself holds (its size where it is read, kept by its
    #: views): a view of more (an index into a table, MaxViT's relative position bias) is
    #: no position embedding however many elements it has
    elements: int = -1

    def __post_init__(self) -> None:
        if self.elements < 0:
            object.__setattr__(self, "elements", numel(self.size))


@dataclass(frozen=True)
class Returned:
    """A module's tuple output: ``nn.MultiheadAttention`` returns (output, weights)."""

    items: tuple[Any, ...]


def as_last(size: tuple[int, ...], producer: str) -> Shape | None:
    """A tensor's torch ``size`` as a last-layout Shape: channels the last axis, the others
    its sizes, the batch axis per sample (dropped where it is the batch N, divided by N
    where it holds windows or RoIs as well)."""
    if len(size) < 2:
        return None
    batch, *rest, channels = (int(s) for s in size)
    n = BATCH.get()
    if batch % n:
        return None
    sizes = tuple(rest) if batch == n else (batch // n, *rest)
    from sympy import Integer

    return Shape(Integer(channels), tuple(Integer(s) for s in sizes), producer, "last")


def last_view(x: Value, size: tuple[int, ...] | None = None) -> Value:
    """``x`` (or a view of it of ``size``) as a last-layout Value; its shape None when the
    size does not split per sample."""
    size = tuple(x.size if size is None else size)
    return Value(as_last(size, x.shape.producer if x.shape is not None else "?"), size)


def is_last(x: Any) -> bool:
    return isinstance(x, Value) and x.shape is not None and x.shape.layout == "last"


def channel_dim(x: Value, dim: int) -> bool:
    rank = len(x.size)
    if is_last(x):
        return dim in (-1, rank - 1)
    return dim in (1, 1 - rank)


def features(x: Value) -> Value | None:
    """``x`` as a Value whose channels are its last axis: itself in the last layout, an
    N×F vector as it is; None for a channels-first map."""
    if is_last(x) or len(x.size) == 2:
        return x
    return None


def broadcasts(small, size) -> bool:
    """Whether a tensor of ``small`` size broadcasts to ``size`` without growing it."""
    if len(small) > len(size):
        return False
    return all(int(s) in (1, int(t)) for s, t in zip(reversed(small), reversed(size)))


def numel(size) -> int:
    total = 1
    for side in size:
        total *= int(side)
    return total
