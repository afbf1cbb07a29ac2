"""Safe arithmetic expressions for architecture files.

An architecture file is data, never code: ``eval``, ``sympify`` and ``parse_expr`` (the last
two call ``eval``) never see its text. :func:`compile_expr` parses one expression with
``ast.parse(mode="eval")`` -- which only builds a syntax tree -- and accepts a small whitelist:

* numbers (``0.75`` becomes the exact rational 3/4) and quoted strings (for choice knobs),
* names bound in the environment (knobs, ``let`` variables, block parameters, ``cin``),
* ``+ - * / // % **``, comparisons, ``and``/``or``/``not``, ``a if cond else b``,
* calls of named helpers (:data:`HELPERS`; ``make_divisible`` is :mod:`.rounding`'s) and of
  ``let`` functions of the same file,
* a dict literal with constant keys indexed by a value: ``{1: 144, 2: 200}[g]``,
* sizes per spatial axis, for a kernel, stride or padding: ``1x7`` (whole numbers joined by
  ``x``) or, where a size is computed, a tuple ``(1, k)``; at most :data:`MAX_AXES` of them.

Anything else (attributes, lambdas, comprehensions, imports...) is refused with an error that
quotes the offending piece of text. Evaluation builds sympy objects directly.

One typed value model: an expression's values are numbers (sympy numbers and expressions),
truth values, strings, tables and ``let`` functions, and each use checks the type it needs
(:meth:`_Evaluator.number` before any arithmetic, helper call or comparison), so a string
can never reach sympy, whose functions would hand it to ``sympify`` and ``eval``. Strings
serve as names only: choice-knob values, activation names, ``==``/``!=`` between them.
Sizes are bounded before the work (:mod:`costmodel.limits`).
"""

from __future__ import annotations

import ast
import difflib
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy import Rational

from .. import limits
from ..errors import CostModelError, SpecError
from ..limits import excerpt
from .assumptions import decide_equal
from .numbers import _DECIMAL, beyond_max_number, read_number
from .rounding import make_divisible


# --- the typed values of the language ---------------------------------------------------------

def is_number(value: Any) -> bool:
    """Numbers of the language: sympy numbers and expressions (symbolic knobs), Python ints.
    Not strings, truth values, tables, functions, and not sympy's relations or booleans."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, sympy.Expr)  # sympy's relations and true/false are not Expr


#: The most spatial axes a per-axis value gives (a 3-D convolution's kernel: ``3x3x3``).
MAX_AXES = 3
#: ``1x7``, ``3x3x3``: whole numbers joined by ``x``, read as the tuple ``(1, 7)``.
_PER_AXIS = re.compile(r"\d+(?:\s*x\s*\d+)+")


def describe(value: Any) -> str:
    """A value as an error message names it: ``the string 'x'``, ``a table``..."""
    if isinstance(value, tuple):
        return "the per-axis sizes " + excerpt("x".join(map(str, value)))
    if isinstance(value, str):
        return f"the string {excerpt(value)!r}"
    if isinstance(value, (bool, sympy.logic.boolalg.BooleanAtom)):
        return f"the truth value {bool(value)}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, LetFunction):
        return f"the function {value.name}()"
    if isinstance(value, sympy.logic.boolalg.Boolean) and not is_number(value):
        return f"the condition {excerpt(str(value))}"
    return excerpt(str(value))


@dataclass(frozen=True)
class LetFunction:
    """A ``let NAME(params) = EXPR`` function: its expression and the names it sees, fixed
    where it is defined (so it cannot call itself: recursion is impossible by construction)."""

    name: str
    params: tuple[str, ...]
    expr: Expression
    env: Mapping[str, Any]


def bind_let(name: str, params: tuple[str, ...] | None, expr: Expression,
             env: dict[str, Any]) -> None:
    """Bind ``let name = expr`` (a value) or ``let name(params) = expr`` (a function) in
    ``env``, which later statements see."""
    if params is None:
        env[name] = expr.evaluate(env)
        return
    if name in expr.called and not isinstance(env.get(name), LetFunction):
        raise expr.error(f"let function {name}() calls itself; recursion is not allowed "
                         "(write the steps out, or use a table)")
    env[name] = LetFunction(name, params, expr, dict(env))


def _helper_arity(name: str, count: int) -> str | None:
    if name in ("floor", "ceil", "int") and count != 1:
        return f"{name}() takes 1 argument, got {count}"
    if name in ("min", "max") and count < 1:
        return f"{name}() needs at least 1 argument"
    if name == "make_divisible" and count not in (2, 3):
        return f"make_divisible() takes 2 or 3 arguments (value, divisor[, min]), got {count}"
    return None


#: The named helpers an expression may call. Every argument is checked to be a number first.
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
            ast.Compare, ast.BoolOp, ast.IfExp, ast.Call, ast.Dict, ast.Subscript, ast.Tuple,
            ast.USub, ast.UAdd, ast.Not, ast.And, ast.Or, *_BINOPS, *_CMPOPS)


@dataclass(frozen=True)
class Expression:
    """A validated expression: its text and syntax tree, ready to evaluate in an environment."""

    text: str
    tree: ast.Expression
    source: str = "<spec>"
    line: int | None = None
    #: the text ``tree`` was parsed from, where it differs from ``text`` (``1x7`` is parsed
    #: as ``(1,7,)``): node offsets point into it
    parsed: str | None = None

    @property
    def tree_text(self) -> str:
        return self.text if self.parsed is None else self.parsed

    @property
    def names(self) -> frozenset[str]:
        """Every bare name the expression refers to (variables and called functions)."""
        return frozenset(n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name))

    @property
    def called(self) -> frozenset[str]:
        """The names the expression calls as functions."""
        return frozenset(n.func.id for n in ast.walk(self.tree) if isinstance(n, ast.Call))

    def evaluate(self, env: Mapping[str, Any]) -> Any:
        """The value, built from sympy numbers and symbols; ``env`` maps names to values and
        ``let`` functions (:class:`LetFunction`) to use alongside :data:`HELPERS`."""
        return self.evaluate_in(env, _Budget())

    def decide(self, env: Mapping[str, Any]) -> bool:
        """The expression as a condition (``if``): a truth value, or a number (non-zero is
        true); anything else is an error."""
        evaluator = _Evaluator(self, env, _Budget())
        return evaluator.truth(self.evaluate(env), self.tree.body)

    def evaluate_in(self, env: Mapping[str, Any], budget: _Budget) -> Any:
        try:
            return _Evaluator(self, env, budget).visit(self.tree.body)
        except SpecError:
            raise
        except CostModelError as exc:
            raise self.error(str(exc)) from None
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise self.error(f"cannot evaluate: {excerpt(str(exc), 200)}") from None

    def error(self, message: str, node: ast.AST | None = None) -> SpecError:
        piece = ast.get_source_segment(self.tree_text, node) if node is not None else None
        token = piece if piece is not None else self.text
        text = message if repr(excerpt(token)) in message else \
            f"{message} in {excerpt(token)!r}"
        return SpecError(text, self.source, self.line, excerpt(token))


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def compile_expr(text: str, source: str = "<spec>", line: int | None = None) -> Expression:
    """Parse and validate ``text``; raise :class:`SpecError` naming the first refused piece.
    Its size and nesting are bounded before Python's parser sees it.

    >>> compile_expr("{1: 144, 2: 200}[g] * 0.75").evaluate({"g": 2})
    150
    >>> compile_expr("make_divisible(32*0.35, 8)").evaluate({})
    16
    """
    text = text.strip()
    if len(text) > limits.MAX_EXPRESSION_CHARS:
        raise SpecError(f"expression longer than {limits.MAX_EXPRESSION_CHARS} characters "
                        f"(limit MAX_EXPRESSION_CHARS): {excerpt(text)!r}", source, line,
                        excerpt(text))
    nesting = depth = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        nesting = max(nesting, depth)
    if nesting > limits.MAX_EXPRESSION_DEPTH:
        raise SpecError(f"brackets nested deeper than {limits.MAX_EXPRESSION_DEPTH} "
                        f"(limit MAX_EXPRESSION_DEPTH) in {excerpt(text)!r}", source, line,
                        excerpt(text))
    # `1x7` is read as the tuple (1, 7); offsets into the tree are offsets into `parsed`
    parsed = f"({text.replace('x', ',')},)" if _PER_AXIS.fullmatch(text) else text
    try:
        tree = ast.parse(parsed, mode="eval")
    except SyntaxError as exc:
        raise SpecError(f"cannot read expression {excerpt(text)!r}: {exc.msg}", source, line,
                        excerpt(text)) from None
    except (RecursionError, MemoryError, ValueError):
        raise SpecError(f"expression too deeply nested: {excerpt(text)!r}", source, line,
                        excerpt(text)) from None
    expr = Expression(text, tree, source, line, None if parsed == text else parsed)
    nodes = list(ast.walk(tree))
    if len(nodes) > limits.MAX_EXPRESSION_NODES or _depth(tree) > limits.MAX_EXPRESSION_DEPTH:
        raise expr.error(f"expression too large or too deeply nested (at most "
                         f"{limits.MAX_EXPRESSION_NODES} items, {limits.MAX_EXPRESSION_DEPTH} "
                         "levels; limits MAX_EXPRESSION_NODES, MAX_EXPRESSION_DEPTH)")
    for node in nodes:
        if not isinstance(node, _ALLOWED):
            raise expr.error(f"{type(node).__name__.lower()} is not allowed (expressions may "
                             "use numbers, names, + - * / // % **, comparisons and "
                             f"{', '.join(HELPERS)}())", node)
        if isinstance(node, ast.Call) and (node.keywords or not isinstance(node.func, ast.Name)):
            raise expr.error("only plain calls of named helpers are allowed", node)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float, str)):
                raise expr.error("only numbers and strings are allowed as constants", node)
            if not isinstance(node.value, str):
                written = ast.get_source_segment(parsed, node) or ""
                if not _DECIMAL.match(written) or written.startswith(("+", "-")):
                    raise expr.error(f"write numbers as plain decimals (14, 0.75, 1e-3), "
                                     f"not {excerpt(written)!r}", node)
                try:
                    read_number(written, "a number")
                except CostModelError as exc:
                    raise expr.error(str(exc), node) from None
        if isinstance(node, ast.Dict):
            if not all(isinstance(k, ast.Constant) for k in node.keys):
                raise expr.error("dict keys must be constants", node)
            keys = [k.value for k in node.keys]
            if len(set(keys)) != len(keys):
                raise expr.error("a table lists the same key twice", node)
    return expr


def evaluate_text(text: str, env: Mapping[str, Any], source: str = "<spec>",
                  line: int | None = None) -> Any:
    """Compile and evaluate ``text`` in one step."""
    return compile_expr(text, source, line).evaluate(env)


_STEPS: ContextVar[list[int] | None] = ContextVar("costmodel_steps", default=None)


@contextmanager
def counting_steps() -> Iterator[list[int]]:
    """Share one MAX_BUILD_STEPS budget among all evaluations inside (one build), so
    that many lines each close to the limit cannot add up to minutes."""
    token = _STEPS.set([0])
    try:
        yield _STEPS.get()
    finally:
        _STEPS.reset(token)


def spend(units: int = 1) -> bool:
    """Charge ``units`` of work (a layer built) to the current build's budget; False once it
    is spent."""
    counter = _STEPS.get()
    if counter is None:
        return True
    counter[0] += units
    return counter[0] <= limits.MAX_BUILD_STEPS


@dataclass
class _Budget:
    """Work done by one evaluation (and the ``let`` functions it calls), counted in a
    counter shared by the whole build where there is one."""

    steps: list[int] = field(default_factory=lambda: _STEPS.get() or [0])
    calls: list[str] = field(default_factory=list)


def _symbolic_too_large(value: Any) -> str | None:
    """Why a symbolic value is beyond the limits, or None; walks at most
    MAX_SYMBOLIC_NODES nodes."""
    for count, node in enumerate(sympy.preorder_traversal(value)):
        if count > limits.MAX_SYMBOLIC_NODES:
            return f"a formula of more than {limits.MAX_SYMBOLIC_NODES} terms"
        if beyond_max_number(node):
            return f"a number beyond 10^{limits.MAX_NUMBER_DIGITS}"
        if isinstance(node, sympy.Pow) and node.exp.is_Number and \
                abs(node.exp) > limits.MAX_EXPONENT:
            return f"a power beyond {limits.MAX_EXPONENT}"
    return None


class _Evaluator:
    def __init__(self, expr: Expression, env: Mapping[str, Any], budget: _Budget):
        self.expr, self.env, self.budget = expr, env, budget

    def visit(self, node: ast.AST) -> Any:
        self.budget.steps[0] += 1
        if self.budget.steps[0] > limits.MAX_BUILD_STEPS:
            chain = " -> ".join(self.budget.calls)
            raise self.expr.error(f"building takes more than {limits.MAX_BUILD_STEPS:,} "
                                  "steps of work (limit MAX_BUILD_STEPS)"
                                  + (f"; let functions call each other too often ({chain})"
                                     if chain else ""), node)
        return getattr(self, "visit_" + type(node).__name__)(node)

    # type checks, where values are used

    def number(self, value: Any, node: ast.AST, where: str = "") -> Any:
        if not is_number(value):
            raise self.expr.error(f"expected a number{where}, got {describe(value)}", node)
        return value

    def checked(self, value: Any, node: ast.AST) -> Any:
        """``value`` after an arithmetic step, if within the number limits."""
        if isinstance(value, Rational):
            if beyond_max_number(value):
                raise self.expr.error(f"the value grows beyond 10^{limits.MAX_NUMBER_DIGITS} "
                                      "(limit MAX_NUMBER)", node)
            return value
        if isinstance(value, sympy.Basic) and not value.is_Atom:
            reason = _symbolic_too_large(value)
            if reason:
                raise self.expr.error(f"the value grows into {reason} (limits MAX_NUMBER, "
                                      "MAX_EXPONENT, MAX_SYMBOLIC_NODES)", node)
        return value

    def truth(self, value: Any, node: ast.AST) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, sympy.logic.boolalg.BooleanAtom):
            return bool(value)
        if not (is_number(value) or isinstance(value, sympy.logic.boolalg.Boolean)):
            raise self.expr.error(f"expected a condition, got {describe(value)}", node)
        try:
            return bool(value != 0) if is_number(value) and value.is_number else bool(value)
        except TypeError:
            raise self.expr.error(f"cannot decide {excerpt(str(value))} while it depends on "
                                  "free symbols; give the knobs it uses a number", node) from None

    # the syntax

    def visit_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, str):
            return node.value
        return read_number(ast.get_source_segment(self.expr.tree_text, node), "a number")

    def visit_Name(self, node: ast.Name) -> Any:
        value = self.env.get(node.id)
        if node.id in self.env and not isinstance(value, LetFunction):
            return value
        if isinstance(value, LetFunction):
            raise self.expr.error(f"{node.id} is a function: call it, {node.id}(...)", node)
        known = sorted(n for n, v in self.env.items() if not isinstance(v, LetFunction))
        near = difflib.get_close_matches(node.id, known, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else \
            f"; known names: {', '.join(known)}" if known else ""
        raise self.expr.error(f"unknown name {node.id!r}{hint}", node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.visit(node.left), self.visit(node.right)
        symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
                  ast.Mod: "%", ast.Pow: "**"}[type(node.op)]
        self.number(left, node, f" on the left of {symbol}")
        self.number(right, node, f" on the right of {symbol}")
        if isinstance(node.op, ast.Pow):
            self.check_power(left, right, node)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise self.expr.error("division by zero", node)
        return self.checked(_BINOPS[type(node.op)](left, right), node)

    def check_power(self, base: Any, exponent: Any, node: ast.AST) -> None:
        """Refuse a power before computing it: whole exponents up to MAX_EXPONENT, and a
        result within MAX_NUMBER."""
        if not (getattr(exponent, "is_Integer", False) or isinstance(exponent, int)):
            raise self.expr.error("exponents must be whole numbers (no roots: counts stay "
                                  "rational)", node)
        if abs(exponent) > limits.MAX_EXPONENT:
            raise self.expr.error(f"exponent larger than {limits.MAX_EXPONENT} (limit "
                                  "MAX_EXPONENT)", node)
        if isinstance(base, Rational):
            if base == 0 and exponent < 0:
                raise self.expr.error("division by zero", node)
            size = max(abs(base.p), base.q).bit_length()
            if size > 1 and (size - 1) * abs(int(exponent)) > limits.MAX_NUMBER.bit_length():
                raise self.expr.error(f"the power grows beyond 10^{limits.MAX_NUMBER_DIGITS} "
                                      "(limit MAX_NUMBER)", node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return not self.truth(value, node)
        self.number(value, node, " after a sign")
        return -value if isinstance(node.op, ast.USub) else value

    def visit_Compare(self, node: ast.Compare) -> bool:
        left = self.visit(node.left)
        for op, right_node in zip(node.ops, node.comparators):
            right = self.visit(right_node)
            if isinstance(op, (ast.Eq, ast.NotEq)):
                ok = self.equal(left, right, node) == isinstance(op, ast.Eq)
            else:
                self.number(left, node, " to compare with < > <= >=")
                self.number(right, node, " to compare with < > <= >=")
                ok = self.truth(_CMPOPS[type(op)](left, right), node)
            if not ok:
                return False
            left = right
        return True

    def equal(self, left: Any, right: Any, node: ast.AST) -> bool:
        for side in (left, right):
            if isinstance(side, (dict, LetFunction)):
                raise self.expr.error(f"cannot compare {describe(side)} with ==", node)
        if is_number(left) and is_number(right):
            return decide_equal(left, right)
        if type(left) is not type(right):
            return False  # a string is never a number: "1" != 1
        return left == right

    def visit_BoolOp(self, node: ast.BoolOp) -> bool:
        values = (self.truth(self.visit(v), node) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)

    def visit_IfExp(self, node: ast.IfExp) -> Any:
        return self.visit(node.body if self.truth(self.visit(node.test), node) else node.orelse)

    def visit_Call(self, node: ast.Call) -> Any:
        name = node.func.id  # validated: a plain Name
        value = self.env.get(name)
        if isinstance(value, LetFunction):
            return self.call(value, [self.visit(a) for a in node.args], node)
        if name in self.env:
            raise self.expr.error(f"{name} is {describe(value)}, not a function", node)
        func = HELPERS.get(name)
        if func is None:
            known = sorted([*HELPERS, *(n for n, v in self.env.items()
                                        if isinstance(v, LetFunction))])
            raise self.expr.error(f"unknown function {name!r}; known: {', '.join(known)}", node)
        problem = _helper_arity(name, len(node.args))
        if problem:
            raise self.expr.error(problem, node)
        args = [self.number(self.visit(a), node, f" as an argument of {name}()")
                for a in node.args]
        try:
            return self.checked(func(*args), node)
        except (TypeError, ValueError) as exc:
            raise self.expr.error(excerpt(str(exc), 200), node) from None

    def call(self, function: LetFunction, args: list[Any], node: ast.AST) -> Any:
        if len(args) != len(function.params):
            raise self.expr.error(f"{function.name}() takes {len(function.params)} "
                                  f"argument{'s' if len(function.params) != 1 else ''}, got "
                                  f"{len(args)}", node)
        if len(self.budget.calls) >= limits.MAX_CALL_DEPTH:
            raise self.expr.error(f"let functions call each other more than "
                                  f"{limits.MAX_CALL_DEPTH} deep (limit MAX_CALL_DEPTH)", node)
        self.budget.calls.append(function.name)
        try:
            return function.expr.evaluate_in({**function.env, **dict(zip(function.params, args))},
                                             self.budget)
        finally:
            self.budget.calls.pop()

    def visit_Tuple(self, node: ast.Tuple) -> tuple:
        if not 1 <= len(node.elts) <= MAX_AXES:
            raise self.expr.error(f"per-axis sizes give 1 to {MAX_AXES} values (one per "
                                  f"spatial axis), not {len(node.elts)}", node)
        return tuple(self.number(self.visit(element), element, " per axis")
                     for element in node.elts)

    def visit_Dict(self, node: ast.Dict) -> dict:
        return {self.visit(k): self.visit(v) for k, v in zip(node.keys, node.values)}

    def visit_Subscript(self, node: ast.Subscript) -> Any:
        table, key = self.visit(node.value), self.visit(node.slice)
        if not isinstance(table, dict):
            raise self.expr.error(f"only a {{key: value}} table can be indexed, not "
                                  f"{describe(table)}", node)
        if isinstance(key, (dict, LetFunction, bool)):
            raise self.expr.error(f"a table is indexed by a number or a string, not "
                                  f"{describe(key)}", node)
        try:
            return table[key]
        except (KeyError, TypeError):
            choices = ", ".join(str(k) for k in table)
            raise self.expr.error(f"no entry for {excerpt(str(key))} (entries: "
                                  f"{excerpt(choices, 200)})", node) from None
