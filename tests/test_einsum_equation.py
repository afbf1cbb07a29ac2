"""The ONNX reader's Einsum equations (costmodel/frontends/onnx_einsum.py), read as
the file's text: split defensively, and grouped as a batched matmul's batch, M, K and N
where they are one. (No onnx needed: the functions read the equation and the ranks only;
tests/test_onnx_einsum.py reads whole graphs.)"""

from __future__ import annotations

import pytest

from costmodel.frontends.onnx_einsum import (Contraction, MalformedEquation, contraction,
                                             split_equation)
from costmodel.limits import MAX_EINSUM_EQUATION_CHARS


def read(equation, ranks):
    terms, out = split_equation(equation, len(ranks), ranks)
    return contraction(terms, out)


def test_maxvits_two_einsums_are_batched_matmuls():
    # q·kᵀ over (B, G, H): I×D by D×J; the weights times v: I×J by J×D (torch's spacing)
    assert read("B G H I D, B G H J D -> B G H I J", [5, 5]) == \
        Contraction(batch="BGH", m="I", k="D", n="J")
    assert read("B G H I J, B G H J D -> B G H I D", [5, 5]) == \
        Contraction(batch="BGH", m="I", k="J", n="D")


def test_the_operands_are_swapped_where_the_output_ends_with_the_firsts_free_axis():
    assert read("bjd,bij->bid", [3, 3]) == Contraction("b", "i", "j", "d", swapped=True)
    assert read("ik,kj->ij", [2, 2]) == Contraction("", "i", "k", "j")  # no batch at all
    assert read("ik,kj->ji", [2, 2]) == Contraction("", "j", "k", "i", swapped=True)  # (ab)ᵀ
    assert read("ij,j->i", [2, 1]) == Contraction("", "", "j", "i", swapped=True)  # b·a, M = 1


@pytest.mark.parametrize("equation,ranks,why", [
    ("bij->bji", [3], "of 1 operands"),
    ("ij,jk,kl->il", [2, 2, 2], "of 3 operands"),
    ("ij,jk", [2, 2], "implicit output"),
    ("...ij,...jk->...ik", [3, 3], "ellipsis"),
    ("iij,jk->ik", [3, 2], "diagonal"),
    ("ijx,jk->ik", [3, 2], "summed within one operand"),
    ("ij,jkl->ikl", [2, 3], "last axis"),  # N of two axes: the output's last is one
    ("ijl,jk->ikl", [3, 2], "last axis"),
])
def test_a_well_formed_einsum_that_is_no_batched_matmul_is_said_why(equation, ranks, why):
    found = read(equation, ranks)
    assert isinstance(found, str) and why in found


@pytest.mark.parametrize("equation,ranks,says", [
    ("ij;jk->ik", [2, 2], "';'"),
    ("ij,jk->ik\n", [2, 2], r"'\n'"),
    ("ij,jk->i\u202ek", [2, 2], "not only letters"),  # a bidi override, shown escaped
    ("ij,jé->ié", [2, 2], "not only letters"),
    ("ij,jk-ik", [2, 2], "'->'"),
    ("ij,jk->>ik", [2, 2], "'->'"),
    ("ij,jk->i->k", [2, 2], "'->'"),
    ("i.j,jk->ik", [2, 2], "'...'"),
    ("ij,jk->ik", [2, 2, 2], "names 2 operands but the node has 3"),
    ("ijk,jk->ik", [2, 2], "operand 1 3 axes but that input has 2"),
    ("ij,jk->iz", [2, 2], "one no operand has"),
    ("ij,jk->ii", [2, 2], "names an axis twice"),
    (b"ij,jk->i\xffk", [2, 2], "not UTF-8"),  # the file's bytes (UTF-8 ones are read)
    (7, [2, 2], "not text"),
    ("i" * (MAX_EINSUM_EQUATION_CHARS + 1), [2], "more than the"),
])
def test_an_equation_onnx_does_not_allow_is_refused_before_it_is_read(equation, ranks, says):
    with pytest.raises(MalformedEquation) as refused:
        split_equation(equation, len(ranks), ranks)
    assert says in str(refused.value)
    assert "\n" not in str(refused.value) and "\u202e" not in str(refused.value)


def test_the_longest_equation_read_is_read_and_unknown_ranks_are_not_checked():
    assert split_equation(b"ij,jk->ik", 2, [2, 2]) == (["ij", "jk"], "ik")
    pad = " " * (MAX_EINSUM_EQUATION_CHARS - len("ij,jk->ik"))
    assert split_equation("ij,jk->ik" + pad, 2, [2, 2]) == (["ij", "jk"], "ik")
    assert split_equation("ijk,k->ij", 2, [None, None]) == (["ijk", "k"], "ij")
