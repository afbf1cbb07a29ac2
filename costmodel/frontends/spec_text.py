"""Rendering nested items (:mod:`.graph_tree`) as layer-spec lines, keeping the layer names.

The builder names a layer ``<scope><leaf>``: the scope comes from ``group``, ``branch`` and
block sections, the leaf from ``name=`` or, without it, from the op and a per-scope counter
(``conv1``, ``conv2``...; merges are always named that way: ``add1``). :class:`Writer` follows
the same rules while it writes, so it can leave out every ``name=`` the builder would produce
anyway, and fold consecutive equal lines into ``n=`` only where the names come out the same.
A name the language cannot reproduce (a merge named otherwise, a layer in an unnamed branch)
takes the nearest name it can; the counts never depend on names.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass

from sympy import Integer, Rational

from ..core.network import Layer
from ..core.ops import OPS, REQUIRED, same_padding
from ..errors import CostModelError
from .graph_tree import Line

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# --- the items as the writer sees them ------------------------------------------------------

@dataclass(frozen=True)
class Group:
    """``group NAME:``: a naming scope. An anonymous group is a repeated run the graph
    showed, not the names: its layers take the builder's own names."""

    name: str
    items: tuple
    anonymous: bool = False


@dataclass(frozen=True)
class Residual:
    """``residual:`` (body + input), with a ``shortcut:`` section where the shapes differ."""

    add: Layer
    body: tuple
    shortcut: tuple | None


@dataclass(frozen=True)
class Branches:
    """``add:``/``concat:``/``mul:`` with ``branch [NAME]:`` sections (None: unnamed)."""

    merge: Layer
    branches: tuple[tuple[str | None, tuple], ...]


@dataclass(frozen=True)
class Call:
    """A line calling block ``block``: every parameter's value in order, the defaults of
    those that have one (a stride ``s`` defaults to 1), and the leaf name of the instance."""

    block: str
    values: tuple[tuple[str, object], ...]
    defaults: tuple[tuple[str, object], ...]
    leaf: str
    shape_in: object = None   # the feature maps the instance reads and writes
    shape_out: object = None

    def written(self) -> list[tuple[str, object, bool]]:
        """(param, value, positional) for the arguments the line states."""
        defaults = dict(self.defaults)
        return [(key, value, key not in defaults) for key, value in self.values
                if key not in defaults or value != defaults[key]]


def sanitize(name: str) -> str:
    """A dotted layer name whose every part is a plain name (``features.0`` ->
    ``features._0``): the language's names are identifiers."""
    parts = []
    for part in name.split("."):
        part = re.sub(r"\W", "_", part) or "_"
        if part[0].isdigit() or keyword.iskeyword(part):
            part = "_" + part
        parts.append(part)
    return ".".join(parts)


def auto_name(base: str, count: int) -> str:
    """The builder's name for the ``count``-th unnamed ``base`` in a scope."""
    return f"{base}{'_' if base[-1].isdigit() else ''}{count}"


# --- attributes -------------------------------------------------------------------------------

def full_attrs(layer: Layer) -> dict:
    """Every attribute of ``layer``'s op, defaults filled in as the formula resolves them."""
    values = {}
    given = dict(layer.attrs)
    for name, default in OPS[layer.op].attrs:
        values[name] = given.get(name, None if default is REQUIRED else default)
    if layer.op in ("conv", "dw") and values.get("p") is None:
        values["p"] = same_padding(values["k"], values["d"], layer.inputs[0].rank)
    if layer.op in ("maxpool", "avgpool") and values.get("s") is None:
        values["s"] = values["k"]
    return values


def written_attrs(layer: Layer) -> list[tuple[str, object]]:
    """The attributes a line must state, in the op's order: the required ones and those that
    differ from their defaults."""
    values = full_attrs(layer)
    out = []
    for name, default in OPS[layer.op].attrs:
        if name == "p" and layer.op in ("conv", "dw"):
            default = same_padding(values["k"], values["d"], layer.inputs[0].rank)
        elif name == "s" and layer.op in ("maxpool", "avgpool"):
            default = values["k"]
        if default is REQUIRED or values[name] != default:
            out.append((name, values[name]))
    return out


def number(value, where: str) -> str:
    """A number as the language writes it; anything else cannot be written as data."""
    if isinstance(value, str) and IDENT.match(value):  # an activation's name
        return value
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, tuple):  # per axis: 1x7, or (1, 3/2) where a size is not whole
        texts = [number(v, where) for v in value]
        return "x".join(texts) if all(t.isdigit() for t in texts) else f"({', '.join(texts)})"
    if isinstance(value, int) or getattr(value, "is_Integer", False):
        return str(int(value))
    if isinstance(value, Rational) or getattr(value, "is_Rational", False):
        return f"({value.p}/{value.q})"
    raise CostModelError(f"{where} is {value!r}, not a number: only networks built at numeric "
                         "settings can be written as a layer-spec file")


#: The helper a written file wraps a fractional channel count in (``conv idealized(56/5)``):
#: the builder refuses a fraction written as a bare number there, so an idealized network
#: (``rounding=none``) is written with the width marked as such. The file defines it as the
#: identity (:data:`IDEALIZED_LET`).
IDEALIZED = "idealized"
IDEALIZED_LET = (f"let {IDEALIZED}(c) = c    # an idealized width (rounding=none): a "
                 "fractional channel count, kept exact")


def attribute_text(key: str, value, where: str) -> str:
    """:func:`number`, with a fractional channel count (``c=``) marked :data:`IDEALIZED`."""
    text = number(value, where)
    return f"{IDEALIZED}{text}" if key == "c" and text.startswith("(") else text


def repeat_of(first: Layer, later: Layer) -> bool:
    """Whether ``later`` is what ``n=`` makes of ``first``'s line (the stride applies to the
    first repetition only)."""
    if first.op != later.op:
        return False
    expected = full_attrs(first)
    if "s" in dict(written_attrs(first)):
        expected["s"] = Integer(1)
    return full_attrs(later) == expected


#: Attributes a block template states even at their default, so that instances that differ
#: only there (a stride, a depthwise kernel) can share one block: (op, attribute) -> default.
TEMPLATE_DEFAULTS = {("conv", "s"): Integer(1), ("dw", "s"): Integer(1), ("dw", "k"): Integer(3)}


# --- the writer -------------------------------------------------------------------------------

Format = Callable[[str, object, str], str]  # (attribute, value, where) -> text


class Writer:
    """Writes items as indented lines, simulating the builder's names."""

    def __init__(self, fmt: Format | None = None):
        self.fmt = fmt or attribute_text
        self.lines: list[str] = []
        self.homes: list[str] = []  # the enclosing scopes, innermost first
        self.anonymous = 0  # inside an anonymous group: every layer takes the builder's name
        self.current = ""  # the scope name of the line being written
        self.template = False  # write TEMPLATE_DEFAULTS too (a block template)

    def attr_text(self, key: str, value, where: str, default) -> str:
        """An attribute's value as text; ``default`` is what leaving it out would give."""
        return self.fmt(key, value, where)

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def leaf(self, line: Line, prefix: str) -> str:
        """The ``name=`` that gives ``line``'s layer its name under ``prefix``; where none can
        (a layer in an unnamed branch), its name relative to the nearest scope that matches."""
        name = line.rename or sanitize(line.layer.name)
        for home in (prefix, *self.homes):
            if name.startswith(home):
                return name[len(home):].replace(".", "_")
        return name.replace(".", "_")

    def items(self, items: tuple, prefix: str, indent: int,
              counters: dict[str, int] | None = None) -> None:
        counters = {} if counters is None else counters
        i = 0
        while i < len(items):
            item = items[i]
            if isinstance(item, (Line, Call)):
                run = self.run_length(items, i, prefix, counters)
                self.line(item, run, prefix, indent, counters)
                i += run
                continue
            if isinstance(item, Group):
                self.emit(indent, f"group {item.name}:")
                self.anonymous += item.anonymous
                self.items(item.items, f"{prefix}{item.name}.", indent + 1)
                self.anonymous -= item.anonymous
            elif isinstance(item, Residual):
                self.emit(indent, "residual:")
                self.items(item.body, prefix, indent + 1, counters)
                self.shortcut(item, prefix, indent + 1)
                self.bump(counters, "add")
            else:
                assert isinstance(item, Branches), item
                self.emit(indent, f"{item.merge.op}:")
                for name, body in item.branches:
                    if name is None:
                        scope = auto_name("branch", self.bump(counters, "branch"))
                        self.emit(indent + 1, "branch:")
                    else:
                        scope = name
                        self.emit(indent + 1, f"branch {name}:")
                    if body:
                        self.homes.insert(0, prefix)  # names in an unnamed branch
                        self.items(body, f"{prefix}{scope}.", indent + 2)
                        self.homes.pop(0)
                    else:
                        self.emit(indent + 2, "identity")
                self.bump(counters, item.merge.op)
            i += 1

    def shortcut(self, item: Residual, prefix: str, indent: int) -> None:
        if item.shortcut is not None:
            self.emit(indent, "shortcut:")
            self.items(item.shortcut, f"{prefix}shortcut.", indent + 1)

    @staticmethod
    def bump(counters: dict[str, int], base: str) -> int:
        counters[base] = counters.get(base, 0) + 1
        return counters[base]

    def _base_and_leaf(self, item, prefix: str) -> tuple[str, str]:
        if isinstance(item, Call):
            return item.block, item.leaf
        return item.layer.op, self.leaf(item, prefix)

    def run_length(self, items: tuple, i: int, prefix: str, counters: dict[str, int]) -> int:
        """How many items from ``i`` on one ``n=`` line writes with the same names."""
        first = items[i]
        base, leaf = self._base_and_leaf(first, prefix)
        count = counters.get(base, 0)
        automatic = leaf == auto_name(base, count + 1) or self.anonymous > 0
        label = leaf[:-1] if leaf.endswith("1") and IDENT.match(leaf[:-1] or "-") else None
        n = 1
        while i + n < len(items) and self.repeats(first, items[i + n]):
            _, later = self._base_and_leaf(items[i + n], prefix)
            if automatic and (later == auto_name(base, count + n + 1) or self.anonymous):
                n += 1
            elif not automatic and label and later == f"{label}{n + 1}":
                n += 1
            else:
                break
        return n

    @staticmethod
    def repeats(first, later) -> bool:
        if isinstance(first, Line) and isinstance(later, Line):
            return (repeat_of(first.layer, later.layer)
                    and (first.bn is None) == (later.bn is None)
                    and (first.act and first.act.op) == (later.act and later.act.op))
        if isinstance(first, Call) and isinstance(later, Call) and first.block == later.block:
            expected = dict(first.values)
            if "s" in {key for key, _, _ in first.written()}:
                expected["s"] = Integer(1)  # the builder's n= rule, for a parameter named s
            return dict(later.values) == expected
        return False

    def line(self, item, run: int, prefix: str, indent: int, counters: dict[str, int]) -> None:
        base, leaf = self._base_and_leaf(item, prefix)
        automatic = leaf == auto_name(base, counters.get(base, 0) + 1) or self.anonymous > 0
        # the name given to this line's layer (a block template names its widths so)
        self.current = "" if automatic else leaf
        if isinstance(item, Call):
            words = [item.block] + self.call_args(item)
        else:
            where = f"layer {item.layer.name}"
            attrs = dict(written_attrs(item.layer))
            if self.template:  # state the defaults a block may want to vary
                attrs.update({key: value for (op, key), value in TEMPLATE_DEFAULTS.items()
                              if op == item.layer.op and key not in attrs})
            order = OPS[item.layer.op].attr_names
            required = {n for n, d in OPS[item.layer.op].attrs if d is REQUIRED}
            words = [item.layer.op]
            for position, key in enumerate(sorted(attrs, key=order.index)):
                # a pool's stride defaults to its window, not 1: kept apart from conv strides
                fkey = "pool_s" if key == "s" and item.layer.op not in ("conv", "dw") else key
                text = self.attr_text(fkey, attrs[key], f"{where}: {key}",
                                      TEMPLATE_DEFAULTS.get((item.layer.op, key)))
                words.append(text if position == 0 and key in required
                             else f"{key}={text}")
            if item.bn is not None:
                words.append("bn=1")
            if item.act is not None:
                words.append(f"act={self.attr_text('act', item.act.op, where, None)}")
        if run > 1:
            words.append(f"n={run}")
        if automatic:
            for _ in range(run):
                self.bump(counters, base)
        else:
            words.append(f"name={leaf[:-1] if run > 1 else leaf}")
        self.emit(indent, " ".join(words))

    def call_args(self, call: Call) -> list[str]:
        return [text if positional else f"{key}={text}"
                for key, value, positional in call.written()
                for text in [self.fmt(key, value, f"block {call.block}: {key}")]]
