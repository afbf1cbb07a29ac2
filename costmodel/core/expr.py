"""Safe arithmetic expressions for architecture files.

An architecture file is data, never code: ``eval``, ``sympify`` and ``parse_expr`` (the last
two call ``eval``) never see its text. :func:`compile_expr` parses one expression with
``ast.parse(mode="eval")`` -- which only builds a syntax tree -- and accepts a small whitelist:

* numbers (``0.75`` becomes the exact rational 3/4) and quoted strings (for choice knobs),
* names bound in the environment (knobs, ``let`` variables, block parameters, ``cin``),
* ``+ - * / // % **``, comparisons, ``and``/``or``/``not``, ``a if cond else b``,
* calls of named helpers (:data:`HELPERS`) and of ``let`` functions of the same file,
* a dict literal with constant keys indexed by a value: ``{1: 144, 2: 200}[g]``.

Anything else (attributes, lambdas, comprehensions, imports...) is refused with an error that
quotes the offending piece of text. Evaluation builds sympy objects directly.
"""

from __future__ import annotations

import ast
import difflib
import math
import operator
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy
from sympy import Integer, Rational

from ..errors import SpecError

#: Largest exponent accepted, so that ``2**10**10`` cannot hang the parser's caller.
MAX_EXPONENT = 64


def round_to_multiple(value, divisor, min_value, denominator=1):
    """``value / denominator`` rounded to the nearest multiple of ``divisor`` (halves up), never
    below ``min_value`` and never more than 10% below the value: the channel rounding of the
    MobileNet v2/v3 reference code (TF-slim's and torchvision's ``_make_divisible``).

    The one definition of that rounding. It uses only ``+ - * //`` and comparisons, so the
    same lines serve Python ints and Fractions (exact), int64 or object numpy arrays of
    numerators over one ``denominator`` (costmodel's exact grid evaluator) and float arrays
    (numpy code printed from :class:`MakeDivisible`); a comparison counts as 0 or 1.

    >>> round_to_multiple(Fraction(7, 20) * 32, 8, 8), round_to_multiple(44, 8, 8)
    (16, 48)
    """
    # floor(v + d/2) // d * d, as floor((2v + d) / 2d) * d: no division of the divisor
    rounded = (2 * value + divisor * denominator) // (2 * divisor * denominator) * divisor
    rounded = rounded + (min_value - rounded) * (rounded < min_value)
    return rounded + divisor * (10 * rounded * denominator < 9 * value)


class MakeDivisible(sympy.Function):
    """``MakeDivisible(v, d, m)``: :func:`round_to_multiple` as a sympy function.

    With numbers it evaluates to an Integer; with a free symbol (a symbolic alpha) it stays an
    unevaluated function, so a closed form under reference rounding is still exact. It knows
    it is an integer, and prints itself for numpy (``lambdify(..., "numpy")``).
    """

    is_positive = True

    @classmethod
    def eval(cls, value, divisor, min_value):
        if value.is_Rational and divisor.is_Rational and min_value.is_Rational:
            rounded = round_to_multiple(Fraction(int(value.p), int(value.q)),
                                        Fraction(int(divisor.p), int(divisor.q)),
                                        Fraction(int(min_value.p), int(min_value.q)))
            return Rational(rounded.numerator, rounded.denominator) \
                if isinstance(rounded, Fraction) else Integer(rounded)
        return None

    def _eval_is_integer(self):
        divisor, min_value = self.args[1:]
        if divisor.is_integer and min_value.is_integer:
            return True
        return None

    def _numpycode(self, printer):
        function = printer._module_format("costmodel.core.expr.round_to_multiple")
        return f"{function}({', '.join(printer._print(a) for a in self.args)})"


def make_divisible(value, divisor=8, min_value=None):
    """The ``make_divisible(v, d[, m])`` helper of spec expressions (``m`` defaults to ``d``)."""
    return MakeDivisible(value, divisor, divisor if min_value is None else min_value)


_ASSUMED: ContextVar[list | None] = ContextVar("costmodel_assumed", default=None)


@contextmanager
def recording_assumptions() -> Iterator[list]:
    """Collect, while building one network, the conditions its closed form relies on."""
    token = _ASSUMED.set([])
    try:
        yield _ASSUMED.get()
    finally:
        _ASSUMED.reset(token)


def equal_if_decidable(a: Any, b: Any) -> bool | None:
    """True or False where ``a == b`` is settled whatever the free symbols; None where it
    depends on their values."""
    if isinstance(a, str) or isinstance(b, str) or isinstance(a, dict) or isinstance(b, dict):
        return a == b
    if a == b:
        return True
    relation = sympy.Eq(a, b)
    if relation in (sympy.true, sympy.false):
        return bool(relation)
    if sympy.expand(a - b) == 0:  # not simplify(): it is slow on nested floors
        return True
    return None


def assume_different(*pairs: tuple[Any, Any]) -> bool:
    """Take undecidable pairs as different, recording that at least one pair differs
    (``Ne(a, b)``, or ``Or`` of several) as the condition the closed form relies on; False."""
    assumed = _ASSUMED.get()
    if assumed is not None and pairs:
        assumed.append(sympy.Or(*(sympy.Ne(a, b) for a, b in pairs)))
    return False


def decide_equal(a: Any, b: Any) -> bool:
    """Whether ``a`` equals ``b``, for a spec's ``==`` and ``!=``.

    Equal-looking values are equal. Values that differ by their free symbols (``t`` and 1, two
    rounded widths such as ``MakeDivisible(24*alpha, 8, 8)`` and ``MakeDivisible(32*alpha, 8,
    8)``) may still coincide at some values; they are taken as different, and the condition
    ``Ne(a, b)`` is recorded (see :func:`recording_assumptions`), so that a closed form states
    where it holds instead of being silently wrong there.
    """
    equal = equal_if_decidable(a, b)
    return assume_different((a, b)) if equal is None else equal


#: The named helpers an expression may call.
HELPERS: dict[str, Callable[..., Any]] = {
    "min": sympy.Min,
    "max": sympy.Max,
    "floor": sympy.floor,
    "ceil": sympy.ceiling,
    "int": sympy.floor,  # Python's int() on the positive values channels take: truncation
    "make_divisible": make_divisible,
}

_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: lambda a, b: sympy.floor(a / b),
    ast.Mod: lambda a, b: sympy.Mod(a, b),
    ast.Pow: operator.pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_ALLOWED = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp,
            ast.Compare, ast.BoolOp, ast.IfExp, ast.Call, ast.Dict, ast.Subscript,
            ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or, *_BINOPS, *_CMPOPS)


@dataclass(frozen=True)
class Expression:
    """A validated expression: its text and syntax tree, ready to evaluate in an environment."""

    text: str
    tree: ast.Expression
    source: str = "<spec>"
    line: int | None = None

    @property
    def names(self) -> frozenset[str]:
        """Every bare name the expression refers to (variables and called functions)."""
        return frozenset(n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name))

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """The value, built from sympy numbers and symbols; ``env`` maps names to values and
        ``let`` functions (callables) to use alongside :data:`HELPERS`."""
        try:
            return _Evaluator(self, env).visit(self.tree.body)
        except SpecError:
            raise
        except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            raise self.error(f"cannot evaluate: {exc}") from None

    def error(self, message: str, node: ast.AST | None = None) -> SpecError:
        piece = ast.get_source_segment(self.text, node) if node is not None else None
        token = piece if piece is not None else self.text
        text = message if repr(token) in message else f"{message} in {token!r}"
        return SpecError(text, self.source, self.line, token)


def compile_expr(text: str, source: str = "<spec>", line: int | None = None) -> Expression:
    """Parse and validate ``text``; raise :class:`SpecError` naming the first refused piece."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"cannot read expression {text.strip()!r}: {exc.msg}", source, line,
                        text) from None
    expr = Expression(text.strip(), tree, source, line)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise expr.error(f"{type(node).__name__.lower()} is not allowed (expressions may "
                             "use numbers, names, + - * / // % **, comparisons and "
                             f"{', '.join(HELPERS)}())", node)
        if isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func, ast.Name)):
            raise expr.error("only plain calls of named helpers are allowed", node)
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str)) \
                or isinstance(node, ast.Constant) and isinstance(node.value, bool):
            raise expr.error("only numbers and strings are allowed as constants", node)
        if isinstance(node, ast.Dict) and not all(isinstance(k, ast.Constant) for k in node.keys):
            raise expr.error("dict keys must be constants", node)
    return expr


def evaluate_text(text: str, env: Mapping[str, Any], source: str = "<spec>",
                  line: int | None = None) -> Any:
    """Compile and evaluate ``text`` in one step."""
    return compile_expr(text, source, line).evaluate(env)


class _Evaluator:
    def __init__(self, expr: Expression, env: Mapping[str, Any]):
        self.expr, self.env = expr, env

    def visit(self, node: ast.AST) -> Any:
        return getattr(self, "visit_" + type(node).__name__)(node)

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, str):
            return node.value
        if isinstance(node.value, float):
            if not math.isfinite(node.value):
                raise self.expr.error("numbers must be finite", node)
            return Rational(ast.get_source_segment(self.expr.text, node) or repr(node.value))
        return Integer(node.value)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in self.env and not callable(self.env[node.id]):
            return self.env[node.id]
        known = sorted(n for n, v in self.env.items() if not callable(v))
        near = difflib.get_close_matches(node.id, known, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else \
            f"; known names: {', '.join(known)}" if known else ""
        raise self.expr.error(f"unknown name {node.id!r}{hint}", node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        for side in (left, right):
            if isinstance(side, str):
                raise self.expr.error("strings cannot take part in arithmetic", node)
        if isinstance(node.op, ast.Pow) and getattr(right, "is_number", False) \
                and abs(right) > MAX_EXPONENT:
            raise self.expr.error(f"exponent larger than {MAX_EXPONENT}", node)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise self.expr.error("division by zero", node)
        return _BINOPS[type(node.op)](left, right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not self._truth(value, node)
        if isinstance(value, str):
            raise self.expr.error("strings cannot take part in arithmetic", node)
        return -value if isinstance(node.op, ast.USub) else value

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.visit(right_node)
            if isinstance(op, (ast.Eq, ast.NotEq)):
                ok = decide_equal(left, right) == isinstance(op, ast.Eq)
            elif isinstance(left, str) or isinstance(right, str):
                raise self.expr.error("strings can only be compared with == and !=", node)
            else:
                ok = self._truth(_CMPOPS[type(op)](left, right), node)
            if not ok:
                return False
            left = right
        return True

    def visit_BoolOp(self, node: ast.BoolOp) -> bool:
        values = (self._truth(self.visit(v), node) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body if self._truth(self.visit(node.test), node) else node.orelse)

    def visit_Call(self, node: ast.Call) -> Any:
        name = node.func.id  # validated: a plain Name
        func = self.env.get(name) if callable(self.env.get(name)) else HELPERS.get(name)
        if func is None:
            known = sorted([*HELPERS, *(n for n, v in self.env.items() if callable(v))])
            raise self.expr.error(f"unknown function {name!r}; known: {', '.join(known)}", node)
        args = [self.visit(a) for a in node.args]
        try:
            return func(*args)
        except (TypeError, ValueError) as exc:
            raise self.expr.error(str(exc), node) from None

    def visit_Dict(self, node: ast.Dict) -> dict:
        return {self.visit(k): self.visit(v) for k, v in zip(node.keys, node.values)}

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        table, key = self.visit(node.value), self.visit(node.slice)
        if not isinstance(table, dict):
            raise self.expr.error("only a {key: value} table can be indexed", node)
        if key not in table:
            choices = ", ".join(str(k) for k in table)
            raise self.expr.error(f"no entry for {key} (entries: {choices})", node)
        return table[key]

    def _truth(self, value: Any, node: ast.AST) -> bool:
        try:
            return bool(value)
        except TypeError:
            raise self.expr.error(f"cannot decide {value} while it depends on free symbols; "
                                  "give the knobs it uses a number", node) from None
