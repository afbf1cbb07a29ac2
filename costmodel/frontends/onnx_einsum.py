"""An ONNX Einsum node's equation, read as the file's text (it is a string attribute): split
defensively and, where it is one, grouped as a batched matrix product.

Used twice: :mod:`.onnx_graph` checks every Einsum's equation *before* ``onnx``'s own checker
and shape inference see it (onnx's shape inference of an Einsum whose equation is
``"ij,jk-->ik"`` never returns: a crafted file would hang the reader), and
:mod:`.onnx_ops_attention` reads a well-formed one as costmodel's ``matmul``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..limits import MAX_EINSUM_EQUATION_CHARS
from ..safe_io import printable

#: The characters an ONNX Einsum equation is written in (ONNX's operator spec): letters name
#: axes, commas separate operands, ``->`` precedes the output, ``...`` broadcasts.
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ALLOWED = _LETTERS | frozenset(" ,->.")


class MalformedEquation(ValueError):
    """An Einsum equation that is not one ONNX allows (or that does not fit its inputs)."""


@dataclass(frozen=True)
class Contraction:
    """A two-operand einsum read as a matmul: each group's letters, and whether the operands
    were swapped so that the output's last axis is the second operand's free index."""

    batch: str
    m: str
    k: str
    n: str
    swapped: bool = False


def split_equation(equation, operands: int,
                   ranks: list[int | None]) -> tuple[list[str], str | None]:
    """The letters of each operand and of the output (None without ``->``) of an Einsum
    ``equation`` read by a node of ``operands`` inputs of ``ranks`` (None where unknown).
    Spaces are dropped; an operand with ``...`` keeps it as ``.``. Raises
    :class:`MalformedEquation` for anything ONNX does not allow."""
    if isinstance(equation, bytes):  # the attribute as the file holds it
        try:
            equation = equation.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedEquation("its equation is not UTF-8 text") from None
    if not isinstance(equation, str):
        raise MalformedEquation("its equation attribute is not text")
    if len(equation) > MAX_EINSUM_EQUATION_CHARS:
        raise MalformedEquation(f"its equation has {len(equation):,} characters, more than "
                                f"the {MAX_EINSUM_EQUATION_CHARS} read")
    bad = next((c for c in equation if c not in _ALLOWED), None)
    if bad is not None:
        raise MalformedEquation(f"its equation holds {printable(repr(bad), 12)}, not only "
                                "letters, commas, spaces, '->' and '...'")
    compact = equation.replace(" ", "")
    if compact.count("->") > 1 or compact.replace("->", "").count("-") or \
            compact.replace("->", "").count(">"):
        raise MalformedEquation("its equation has a '-' or '>' that is not one '->'")
    inputs, arrow, output = compact.partition("->")
    terms = [_term(t) for t in inputs.split(",")]
    if len(terms) != operands:
        raise MalformedEquation(f"its equation names {len(terms)} operands but the node has "
                                f"{operands} inputs")
    for index, (term, rank) in enumerate(zip(terms, ranks)):
        if rank is not None and "." not in term and len(term) != rank:
            raise MalformedEquation(f"its equation gives operand {index + 1} {len(term)} "
                                    f"axes but that input has {rank}")
    if not arrow:
        return terms, None
    out = _term(output)
    named = set("".join(terms))
    if any(c not in named for c in out.replace(".", "")) or \
            len(set(out.replace(".", ""))) != len(out.replace(".", "")):
        raise MalformedEquation("its output names an axis twice or one no operand has")
    return terms, out


def _term(term: str) -> str:
    """One operand's (or the output's) letters, ``...`` kept as one ``.``."""
    if term.count(".") not in (0, 3) or (term.count(".") == 3 and "..." not in term):
        raise MalformedEquation("its equation has a '.' that is not one '...'")
    return term.replace("...", ".")


def contraction(terms: list[str], out: str | None) -> Contraction | str:
    """The batched matmul an einsum of ``terms`` to ``out`` is, or why it is none."""
    if len(terms) != 2:
        return f"an einsum of {len(terms)} operands, not a product of two"
    if out is None:
        return "an implicit output (no '->')"
    if "." in "".join(terms) + out:
        return "an ellipsis ('...')"
    a, b = terms
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        return "an axis repeated within one operand (a diagonal)"
    both = set(a) & set(b)
    if any(c not in out and c not in both for c in a + b):
        return "an axis summed within one operand"
    batch = "".join(c for c in out if c in both)
    m = "".join(c for c in a if c not in both)
    n = "".join(c for c in b if c not in both)
    k = "".join(c for c in a if c in both and c not in out)
    swapped = False
    if len(m) == 1 and out[-1:] == m and out[-1:] != n:  # b·a: the output ends with a's
        m, n, swapped = n, m, True
    if len(n) != 1 or out[-1:] != n:
        return "an output whose last axis is not one operand's only free axis"
    return Contraction(batch, m, k, n, swapped)
