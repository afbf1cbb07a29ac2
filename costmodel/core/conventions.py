"""Counting conventions: which raw counts a reported MAC or parameter number includes.

Counters disagree mostly because each silently picks a convention. costmodel names them, and
every output states the one in use. Add a convention by adding an entry to
:data:`CONVENTIONS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import CostModelError

if TYPE_CHECKING:  # sympy is imported by the code that counts, not by `costmodel --help`
    from sympy import Expr

    from .ops import Counts


@dataclass(frozen=True)
class Convention:
    """How to turn raw :class:`~costmodel.core.ops.Counts` into reported MACs and params."""

    name: str
    description: str
    macs: Callable[["Counts"], "Expr"]
    params: Callable[["Counts"], "Expr"]


CONVENTIONS: dict[str, Convention] = {
    c.name: c for c in (
        Convention(
            "paper",
            "MACs: conv and FC multiply-accumulates only (bias, BN, activation, pooling, add "
            "not counted), as the papers count; params: conv/FC weights and biases, BN folded "
            "away",
            macs=lambda c: c.macs,
            params=lambda c: c.weights,
        ),
        Convention(
            "torch",
            "MACs: conv and FC multiply-accumulates only; params: as PyTorch's "
            "sum(p.numel() for p in model.parameters()), BN scale and shift included",
            macs=lambda c: c.macs,
            params=lambda c: c.weights + c.norm_params,
        ),
    )
}

DEFAULT = "paper"


def convention(name: str) -> Convention:
    """The convention called ``name``; an unknown name is a user error listing the known."""
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise CostModelError(f"unknown convention {name!r}; choose one of: "
                             f"{', '.join(CONVENTIONS)}") from None
