r"""Parser of the layer-spec language.

A file is a list of statements, one per line; ``#`` starts a comment and indentation groups
lines under a header ending in ``:``. A leading triple-quoted block is the model's docstring.

Header statements (top level)::

    model NAME                          # the name shown in tables
    paper Author et al., Title, arXiv 1704.04861
    note  free text shown by `costmodel summary` (several allowed)
    knob  NAME DEFAULT TYPE [min=X] [max=Y]   # help text
          TYPE is `positive` (a finite real > 0), `int`, or `choice A|B|C`; DEFAULT may
          name an earlier knob, whose value this one takes unless it is set itself
          (`knob height resolution int`: a square input unless height= is given)
    input C H W                         # expressions, e.g. `input 3 resolution resolution`
                                        # (`input C L`: a sequence; `input C T H W`: video)
    defaults OP key=value ...           # default attributes for OP lines of this file
    block NAME(param, param=default):   # a reusable block; its body is indented below

Body statements (top level or inside blocks)::

    OP [arg ...] [key=value ...]        # a primitive op or a block, positional arguments in
                                        # the op's declared order; values are expressions
    let NAME = EXPR                     # a variable
    let NAME(a, b) = EXPR               # a function, e.g. let ch(c) = make_divisible(c*alpha, 8)
    if EXPR: / elif EXPR: / else:       # decided on numbers (e.g. stride, a choice knob)
    residual:                           # out = body(x) + x when the shapes agree, else body(x),
        ...                             # unless a `shortcut:` section inside gives the
        shortcut:                       # projection used when they do not
            ...
    add: / concat: / mul:               # merge of `branch [NAME]:` sections, each fed the same
        branch:                         # input; `identity` is an empty branch
            ...
    group NAME:                         # a naming scope: the layers below are NAME.<layer>
    identity                            # no layer at all

Every layer line also takes ``n=N`` (repeat N times; a stride ``s`` applies to the first
repetition only, as in the ``t, c, n, s`` tables of MobileNet v2) and ``name=NAME``; lines of a
primitive also take ``bn=1`` and ``act=relu`` (or relu6, hswish...), which append a batch norm
and an activation layer. Items are separated by spaces, so an expression holds no spaces
outside parentheses: ``c=64*alpha``, or ``c=(64 * alpha)``.

Parsing builds frozen dataclasses only; expressions are validated by
:func:`costmodel.core.expr.compile_expr`, which never evaluates code.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Sequence
from pathlib import Path

from .. import limits
from ..core.expr import Expression, compile_expr
from ..core.numbers import is_number_text, read_number
from ..errors import CostModelError, SpecError
from .source import Line, read_spec_file, split_commas, split_items, split_lines
from .syntax import (IDENT, KNOB_TYPES, BlockDef, Branch, Group, If, Knob, LayerLine, Let, Merge,
                     ModelSpec, Node, Residual)


class _Parser:
    """Reads one run of lines, statement by statement: a whole file (``depth`` 0), or the
    body of a section (:meth:`parse_body` makes a parser one level deeper for it, sharing the
    file's name and its ``defaults``)."""

    def __init__(self, source: str, lines: Sequence[Line], depth: int = 0,
                 defaults: dict[str, tuple[tuple[str, Expression], ...]] | None = None):
        self.source = source
        self.lines = lines
        self.pos = 0  # the next line to read
        self.depth = depth
        self.defaults = {} if defaults is None else defaults

    def error(self, message: str, line: Line, token: str | None = None) -> SpecError:
        return SpecError(message, self.source, line.number, token)

    def expr(self, text: str, line: Line) -> Expression:
        return compile_expr(text, self.source, line.number)

    def ident(self, text: str, line: Line, what: str) -> str:
        if not IDENT.match(text):
            raise self.error(f"{what} must be a name (letters, digits, _), got "
                             f"{limits.excerpt(text)!r}", line, limits.excerpt(text))
        if keyword.iskeyword(text):
            raise self.error(f"{what} cannot be {text!r}, a keyword of expressions; choose "
                             "another name", line, text)
        return text

    # structure

    def children(self, header: Line) -> list[Line]:
        """The lines indented under ``header`` (which must end in ':')."""
        start = self.pos
        while self.pos < len(self.lines) and self.lines[self.pos].indent > header.indent:
            self.pos += 1
        block = self.lines[start:self.pos]
        if not block:
            raise self.error(f"{header.text!r} opens a section but nothing is indented "
                             "below it", header, header.text)
        indent = block[0].indent
        for line in block:
            if line.indent < indent:
                raise self.error("inconsistent indentation", line, line.text)
        return block

    def parse_body(self, lines: Sequence[Line]) -> tuple[Node, ...]:
        """The statements of a section's body (``lines``, not empty), one level deeper."""
        if self.depth + 1 > limits.MAX_NESTING:
            raise self.error(f"sections nest deeper than {limits.MAX_NESTING} levels (limit "
                             "MAX_NESTING)", lines[0], limits.excerpt(lines[0].text))
        # the same `defaults` dict: file-wide defaults reach nested lines too
        return _Parser(self.source, lines, self.depth + 1, self.defaults).statements()

    def statements(self) -> tuple[Node, ...]:
        """Every line, at the indentation of the first, as a statement."""
        nodes = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent != self.lines[0].indent:
                raise self.error("unexpected indentation", line, line.text)
            self.pos += 1
            nodes.append(self.statement(line))
        return tuple(node for node in nodes if node is not None)

    def statement(self, line: Line) -> Node | None:
        word = line.text.split(None, 1)[0].rstrip(":")
        if word == "let":
            return self.let(line)
        if word == "if":
            return self.if_chain(line)
        if word in ("elif", "else"):
            raise self.error(f"{word!r} without a preceding 'if'", line, word)
        if word == "residual":
            return self.residual(line)
        if word in ("add", "concat", "mul") and line.text.endswith(":"):
            return self.merge(line, word)
        if word == "group":
            name = self.ident(line.text[len("group"):].rstrip(":").strip(), line, "a group name")
            return Group(line.number, name, self.parse_body(self.children(line)))
        if word == "identity":
            return None
        if word in ("shortcut", "branch"):
            raise self.error(f"{word!r} sections belong inside "
                             f"{'residual' if word == 'shortcut' else 'add/concat/mul'}:",
                             line, word)
        if word in ("model", "paper", "note", "knob", "input", "block", "defaults"):
            raise self.error(f"{word!r} is only allowed at the top level of a file", line, word)
        if line.text.endswith(":"):
            raise self.error(f"unknown section {word!r} (sections: residual, add, concat, mul, "
                             "group, if)", line, word)
        return self.layer(line)

    def layer(self, line: Line) -> LayerLine:
        items = split_items(line.text, self.source, line.number)
        op = self.ident(items[0], line, "an op")
        args, kwargs, seen = [], [], set()
        for item in items[1:]:
            key, eq, value = item.partition("=")
            if eq and IDENT.match(key) and value and not value.startswith("="):
                if key in seen:
                    raise self.error(f"{key}= given twice", line, item)
                seen.add(key)
                kwargs.append((key, self.expr(value, line)))
            elif eq and not ("==" in item or "!=" in item or "<=" in item or ">=" in item):
                raise self.error(f"cannot read {item!r}: write key=value with no spaces "
                                 "around '=' (or put the expression in parentheses)", line, item)
            elif kwargs:
                raise self.error(f"positional argument {item!r} after key=value ones", line,
                                 item)
            else:
                args.append(self.expr(item, line))
        defaults = self.defaults.get(op, ())
        kwargs += [(key, value) for key, value in defaults if key not in seen]
        return LayerLine(line.number, op, tuple(args), tuple(kwargs))

    def let(self, line: Line) -> Let:
        match = re.match(r"let\s+([A-Za-z_]\w*)\s*(?:\(([^)]*)\))?\s*=(.*)\Z", line.text)
        if not match or not match.group(3).strip():
            raise self.error("write 'let NAME = EXPR' or 'let NAME(a, b) = EXPR'", line,
                             line.text)
        name, params, value = match.groups()
        self.ident(name, line, "a let name")
        params = None if params is None else tuple(
            self.ident(p, line, "a parameter") for p in split_commas(params))
        if params is not None and len(set(params)) != len(params):
            raise self.error(f"let {name}() names a parameter twice", line, line.text)
        return Let(line.number, name, params, self.expr(value, line))

    def if_chain(self, line: Line) -> If:
        cases = []
        current = line
        while True:
            head = current.text
            if head.startswith("else"):
                if head.rstrip(":").strip() != "else" or not head.endswith(":"):
                    raise self.error("write 'else:'", current, head)
                cases.append((None, self.parse_body(self.children(current))))
                break
            keyword = "if" if head.startswith("if") else "elif"
            if not head.endswith(":"):
                raise self.error(f"'{keyword}' needs a ':' at the end", current, head)
            condition = self.expr(head[len(keyword):-1], current)
            cases.append((condition, self.parse_body(self.children(current))))
            if self.pos < len(self.lines):
                nxt = self.lines[self.pos]
                if nxt.indent == line.indent and nxt.text.split(None, 1)[0].rstrip(":") in (
                        "elif", "else"):
                    self.pos += 1
                    current = nxt
                    continue
            break
        return If(line.number, tuple(cases))

    def _sections(self, lines: list[Line], keyword: str) -> list[tuple[Line, list[Line]] |
                                                                   Line]:
        """Split ``lines`` into plain lines and ``keyword[ NAME]:`` sections."""
        out, i, indent = [], 0, lines[0].indent
        while i < len(lines):
            line = lines[i]
            i += 1
            if line.indent == indent and line.text.split(None, 1)[0].rstrip(":") == keyword:
                start = i
                while i < len(lines) and lines[i].indent > indent:
                    i += 1
                if start == i:
                    raise self.error(f"{keyword!r} section is empty; write 'identity' in it "
                                     "for a branch that passes its input through", line, keyword)
                out.append((line, lines[start:i]))
            elif line.indent == indent:
                start = i - 1
                while i < len(lines) and lines[i].indent > indent:
                    i += 1
                out.append(lines[start:i])
            else:
                raise self.error("unexpected indentation", line, line.text)
        return out

    def residual(self, line: Line) -> Residual:
        if line.text.rstrip(":").strip() != "residual" or not line.text.endswith(":"):
            raise self.error("write 'residual:'", line, line.text)
        body_lines, shortcut = [], None
        for part in self._sections(self.children(line), "shortcut"):
            if isinstance(part, tuple):
                if shortcut is not None:
                    raise self.error("a residual takes one 'shortcut:' section", part[0],
                                     "shortcut")
                shortcut = self.parse_body(part[1])
            else:
                body_lines.extend(part)
        if not body_lines:
            raise self.error("a residual needs layers besides its shortcut", line, "residual")
        return Residual(line.number, self.parse_body(body_lines), shortcut)

    def merge(self, line: Line, op: str) -> Merge:
        branches = []
        for part in self._sections(self.children(line), "branch"):
            if not isinstance(part, tuple):
                raise self.error(f"inside {op}:, every line belongs to a 'branch:' section",
                                 part[0], part[0].text)
            header, body = part
            name = header.text.rstrip(":").split(None, 1)[1:] or [None]
            if not header.text.endswith(":"):
                raise self.error("write 'branch:' or 'branch NAME:'", header, header.text)
            branch_name = None if name[0] is None else self.ident(name[0].strip(), header,
                                                                  "a branch name")
            branches.append(Branch(header.number, branch_name, self.parse_body(body)))
        if len(branches) < 2:
            raise self.error(f"{op}: needs at least two 'branch:' sections", line, op)
        return Merge(line.number, op, tuple(branches))

    # the top level

    def parse(self, doc: str) -> ModelSpec:
        """The whole file (this parser's lines, at the top level) with its docstring."""
        name, paper, notes, knobs, inp, blocks, body = None, "", [], [], None, [], []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent != 0:
                raise self.error("unexpected indentation", line, line.text)
            self.pos += 1
            word, _, rest = line.text.partition(" ")
            rest = rest.strip()
            if word in ("model", "input") and (name if word == "model" else inp) is not None:
                raise self.error(f"a second '{word}' line", line, word)
            if word == "model":
                name = self.ident(rest, line, "the model name")
            elif word == "paper":
                paper = rest
            elif word == "note":
                notes.append(rest)
            elif word == "knob":
                knobs.append(self.knob(line, rest))
            elif word == "input":
                items = split_items(rest, self.source, line.number)
                if not 2 <= len(items) <= 4:
                    raise self.error("write 'input C H W' (e.g. 'input 3 resolution "
                                     "resolution'), 'input C L' for a sequence or "
                                     "'input C T H W' for a video clip", line, rest)
                inp = tuple(self.expr(item, line) for item in items)
            elif word == "defaults":
                layer = self.layer(Line(line.number, 0, rest, ""))
                if layer.args:
                    raise self.error("defaults take key=value items only", line, rest)
                merged = dict(self.defaults.get(layer.op, ()))
                merged.update(layer.kwargs)
                self.defaults[layer.op] = tuple(merged.items())
            elif word == "block":
                block = self.block(line)
                if any(b.name == block.name for b in blocks):
                    raise self.error(f"block {block.name!r} is defined twice", line, block.name)
                blocks.append(block)
            else:
                body.extend(n for n in [self.statement(line)] if n is not None)
        seen = {}
        for knob in knobs:
            if knob.name in seen:
                raise self.error(f"knob {knob.name!r} declared twice", Line(knob.line, 0, "", ""),
                                 knob.name)
            if knob.follows is not None:
                leader = seen.get(knob.follows)
                if leader is None or leader.type == "choice" or leader.follows is not None:
                    raise self.error(
                        f"the default of knob {knob.name} must be a number or the name of an "
                        "earlier number knob that has a default of its own, got "
                        f"{limits.excerpt(knob.follows)!r}", Line(knob.line, 0, "", ""),
                        knob.follows)
            seen[knob.name] = knob
        return ModelSpec(self.source, name, doc, paper, tuple(notes), tuple(knobs), inp,
                         tuple(blocks), tuple(body))

    def knob(self, line: Line, rest: str) -> Knob:
        items = rest.split()
        if len(items) < 3:
            raise self.error("write 'knob NAME DEFAULT TYPE', TYPE one of "
                             f"{', '.join(KNOB_TYPES)}", line, rest)
        name, default, kind, *extra = items
        self.ident(name, line, "a knob name")
        if kind not in KNOB_TYPES:
            raise self.error(f"unknown knob type {kind!r}; use one of {', '.join(KNOB_TYPES)}",
                             line, kind)
        choices, bounds, follows = (), {}, None
        if kind == "choice":
            if not extra:
                raise self.error("a choice knob lists its values: 'choice a|b|c'", line, rest)
            choices = tuple(extra.pop(0).split("|"))
            if len(set(choices)) != len(choices) or not all(choices):
                raise self.error("a choice knob lists distinct, non-empty values", line, rest)
            if default not in choices:
                raise self.error(f"default {default!r} is not among the choices "
                                 f"{'|'.join(choices)}", line, default)
            for choice in choices:
                if is_number_text(choice):
                    self.number(choice, line, f"choice {choice}")
        elif re.fullmatch(r"[A-Za-z_]\w*", default):
            follows = default  # another knob's name: checked once every knob is known
        else:
            self.number(default, line, f"the default of knob {name}")
        for item in extra:
            key, eq, value = item.partition("=")
            if key not in ("min", "max") or not eq:
                raise self.error(f"unknown knob option {item!r} (options: min=, max=)", line,
                                 item)
            if key in bounds:
                raise self.error(f"{key}= given twice", line, item)
            self.number(value, line, f"{key}= of knob {name}")
            bounds[key] = value
        return Knob(name, default, kind, choices, bounds.get("min"), bounds.get("max"),
                    line.help, line.number, follows)

    def number(self, text: str, line: Line, what: str) -> None:
        """Check that ``text`` is a number within the literal limits."""
        if not is_number_text(text):
            raise self.error(f"{what} must be a number, got {limits.excerpt(text)!r}", line,
                             limits.excerpt(text))
        try:
            read_number(text, what)
        except CostModelError as exc:
            raise self.error(str(exc), line, limits.excerpt(text)) from None

    def block(self, line: Line) -> BlockDef:
        match = re.match(r"block\s+([A-Za-z_]\w*)\s*\((.*)\)\s*:\Z", line.text)
        if not match:
            raise self.error("write 'block NAME(param, param=default):'", line, line.text)
        params = []
        for part in split_commas(match.group(2)):
            pname, eq, default = part.partition("=")
            pname = self.ident(pname.strip(), line, "a block parameter")
            if any(pname == other for other, _ in params):
                raise self.error(f"block {match.group(1)} names parameter {pname!r} twice",
                                 line, pname)
            params.append((pname, self.expr(default, line) if eq else None))
        if match.group(1) in _primitive_ops():
            raise self.error(f"block {match.group(1)!r} has the name of a primitive op; choose "
                             "another name", line, match.group(1))
        body = self.parse_body(self.children(line))
        return BlockDef(match.group(1), tuple(params), body, self.source, line.number)


def parse_text(text: str, source: str = "<spec>") -> ModelSpec:
    """Parse layer-spec ``text``; ``source`` names it in error messages."""
    doc, lines = split_lines(text, source)
    return _Parser(source, lines).parse(doc)


def _primitive_ops() -> frozenset[str]:
    from ..core.ops import OPS
    return frozenset(OPS)


def parse_file(path: str | Path) -> ModelSpec:
    """Parse an architecture file; a missing, unreadable, oversized or binary file is a clear
    user error."""
    return parse_text(read_spec_file(path), str(path))
