"""Hostile Einsum equations (the ONNX reader reads them as text: onnx_einsum.py): escapes,
bidi overrides, bytes that are not UTF-8, an equation past the length read, the '-->' that
onnx's own shape inference never returns from, and well-formed ones that are no matmul (a
warning, exit 0). Ids start with ``einsum-``.
"""

from __future__ import annotations

from tests.hostile_paths import Case
from tests.hostile_paths.onnx import BIDI, ESC, NUL_NL, model, onnx

if onnx is not None:
    from onnx import helper


def _einsum(equation, operands=2, out_rank=4) -> bytes:
    """x (1×2×6×8) to tokens t, then one Einsum of ``operands`` copies of t."""
    return model([helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
                  helper.make_node("Einsum", ["t"] * operands, ["y"], equation=equation)],
                 shape=(1, 2, 6, 8), out_rank=out_rank)


def _cases() -> list[Case]:
    if onnx is None:
        return []
    cases: list[Case] = []

    def add(id_, equation, expect="error", says=(), operands=2, out_rank=4, command="summary"):
        cases.append(Case(f"einsum-{id_}", (command, "e.onnx"),
                          {"e.onnx": _einsum(equation, operands, out_rank)}, expect=expect,
                          says=says))

    add("arrow-hang", "bhid,bhjd-->bhij", says=("(Einsum)", "'->'", "refused"))
    add("arrow-hang-compare", "ij,jk-->ik", says=("'->'",), command="compare")
    add("double-gt", "bhid,bhjd->>bhij", says=("'->'",))
    add("two-arrows", "bhid,bhjd->bh->ij", says=("'->'",))
    add("semicolon", "bhid;bhjd->bhij", says=("';'",))
    add("esc", "bhid,bhjd->bhij" + ESC, says=("not only letters",))
    add("bidi", "bhid,bhjd->bhij" + BIDI, says=("not only letters",))
    add("control", "bhid,bhjd->" + NUL_NL, says=("not only letters",))
    add("digits", "bhi1,bhj1->bhij", says=("'1'",))
    add("long", "bhid,bhjd->bhij" + " " * 5000, says=("more than the 200",))
    add("long-esc", ESC * 400, says=("more than the 200",))
    add("not-utf8", b"bhid,bhjd->bh\xff\xfeij", says=("UTF-8",))
    add("two-dots", "..id,..jd->..ij", says=("'...'",))
    add("many-commas", "," * 150 + "->", says=("operands",))
    add("three-ops-declared", "bhid,bhjd,bhkd->bhij", says=("3 operands",))
    add("fullwidth", "ｂhid,bhjd->bhij", says=("not only letters",))
    add("implicit-output", "bhid,bhjd")  # implicit output "ij": not the graph's rank 4
    add("ellipsis-ok", "...id,...jd->...ij", expect="ok")
    add("diagonal-sizes", "bhdd,bhdd->bhd")  # d is 8 and 2: shape inference refuses
    add("outer-ok", "bhid,bhje->bhidje", expect="ok", out_rank=6)
    add("one-operand-ok", "bhid->bhdi", expect="ok", operands=1)
    add("three-operands-ok", "bhid,bhjd,bhje->bhie", expect="ok", operands=3)
    return cases


CASES = _cases()
