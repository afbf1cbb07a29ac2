"""Blocks for repeated structure: groups that differ only in their numbers share one
``block``, whose parameters are the numbers that differ.

Each group (a named scope: a ResNet unit ``layer2.0``, an Inception module) is written as text
with its numbers taken out (a template). Groups with equal templates are instances of one
block; a number that is the same in every instance stays a literal, the others become
parameters (numbers that vary together share one). Innermost groups go first, so an outer
block can call inner ones. A ``residual:`` whose shortcut appears in some instances only (the
projection of a stage's first unit) is one block too: the language runs a shortcut only where
the body changes the shape, which is exactly where the instances have it.

Names stay as they were: a block instance scopes its layers as the group did.
"""

from __future__ import annotations

import keyword
import re
from collections import Counter
from dataclasses import dataclass

from sympy import Integer

from ..core.expr import HELPERS
from ..core.ops import OPS
from .graph_tree import Line
from .spec_text import IDENT, Branches, Call, Group, Residual, Writer

_WORDS = {"n", "name", "cin", "hin", "win", "resolution", "bn", "none", "identity",
          "let", "if", "elif", "else", "group", "branch", "residual", "shortcut", "add",
          "concat", "mul", "block", "model", "input", "knob", "note", "paper", "defaults",
          *HELPERS}


def _reserved() -> set[str]:
    """Names a written block may not take: the language's words and every registered op
    (activations included; read when a network is written, so a new op is reserved too)."""
    return _WORDS | set(OPS)


@dataclass(frozen=True)
class Block:
    name: str
    lines: tuple[str, ...]


class _Recorder(Writer):
    """A writer whose numbers become placeholders: body values in one list, each residual's
    shortcut values (and text) apart, so instances with and without a shortcut line up."""

    def __init__(self):
        super().__init__(self.record)
        self.values: list[tuple[str, object, str]] = []  # (attribute, value, layer)
        self.shortcuts: list[tuple[str, list]] = []  # per residual: (text, values) or ("", [])
        self.sink = self.values
        self.tag = "b"
        self.template = True
        self.omissible: dict[str, object] = {}  # placeholder -> the default it may leave out

    def record(self, key, value, where) -> str:
        # with the name of the layer it sizes, to name a parameter after it
        self.sink.append((key, value, self.current if where.startswith("layer ") else ""))
        return f"\x00{self.tag}{len(self.sink) - 1}\x00"

    def attr_text(self, key, value, where, default) -> str:
        text = self.fmt(key, value, where)
        if default is not None:
            self.omissible[text.strip("\x00")] = default
        return text

    def shortcut(self, item: Residual, prefix: str, indent: int) -> None:
        """A marker line where the shortcut goes; its text and numbers kept apart."""
        index = len(self.shortcuts)
        self.emit(indent, f"\x01{index}\x01")
        if item.shortcut is None:
            self.shortcuts.append(("", []))
            return
        outer = self.lines, self.sink, self.tag
        self.lines, self.sink, self.tag = [], [], f"s{index}."
        super().shortcut(item, prefix, indent)
        self.shortcuts.append(("\n".join(self.lines), self.sink))
        self.lines, self.sink, self.tag = outer


def _render(group: Group, prefix: str) -> _Recorder:
    recorder = _Recorder()
    recorder.anonymous = int(group.anonymous)
    recorder.items(group.items, f"{prefix}{group.name}.", 1)
    return recorder


def _height(item) -> int:
    inner = _children(item)
    below = max((_height(x) for x in inner), default=0)
    return below + 1 if isinstance(item, Group) else below


def _children(item) -> tuple:
    if isinstance(item, Group):
        return item.items
    if isinstance(item, Residual):
        return item.body + (item.shortcut or ())
    if isinstance(item, Branches):
        return tuple(x for _, body in item.branches for x in body)
    return ()


def _groups_at(items: tuple, prefix: str, height: int, out: list) -> None:
    """Every group of ``height`` with the prefix its layers are named under, in order."""
    for item in items:
        if isinstance(item, Group):
            if _height(item) <= height:  # lower ones again: they may match new ones now
                out.append((item, prefix))
            else:
                _groups_at(item.items, f"{prefix}{item.name}.", height, out)
        elif isinstance(item, Residual):
            _groups_at(item.body, prefix, height, out)
            _groups_at(item.shortcut or (), f"{prefix}shortcut.", height, out)
        elif isinstance(item, Branches):
            for name, body in item.branches:
                _groups_at(body, f"{prefix}{name or 'branch'}.", height, out)


def shape_in(item):
    """The feature map an item reads."""
    if isinstance(item, Line):
        return item.layer.inputs[0]
    if isinstance(item, Call):
        return item.shape_in
    if isinstance(item, Branches):
        body = next((b for _, b in item.branches if b), None)
        return shape_in(body[0]) if body else item.merge.inputs[0]
    return shape_in(item.items[0] if isinstance(item, Group) else item.body[0])


def shape_out(item):
    """The feature map an item writes."""
    if isinstance(item, Line):
        return item.layers[-1].output
    if isinstance(item, Call):
        return item.shape_out
    if isinstance(item, Group):
        return shape_out(item.items[-1])
    return (item.merge if isinstance(item, Branches) else item.add).output


def _as_residual(group: Group) -> Group | None:
    """The group as a ``residual:`` around its layers, which adds nothing because the shape
    changes (MobileNet v2's stride-2 units are its stride-1 units without the add); None
    where a residual would add."""
    x, y = shape_in(group), shape_out(group)
    if (x.c, x.h, x.w) == (y.c, y.h, y.w):
        return None
    return Group(group.name, (Residual(None, group.items, None),), group.anonymous)


def _replace(items: tuple, calls: dict[int, Call]) -> tuple:
    out = []
    for item in items:
        if id(item) in calls:
            out.append(calls[id(item)])
        elif isinstance(item, Group):
            out.append(Group(item.name, _replace(item.items, calls), item.anonymous))
        elif isinstance(item, Residual):
            out.append(Residual(item.add, _replace(item.body, calls),
                                None if item.shortcut is None else
                                _replace(item.shortcut, calls)))
        elif isinstance(item, Branches):
            out.append(Branches(item.merge, tuple((name, _replace(body, calls))
                                                  for name, body in item.branches)))
        else:
            out.append(item)
    return tuple(out)


def _block_name(leaves: list[str], taken: set[str]) -> str:
    # inception3a, inception4b -> inception; unit1 -> unit; _0 -> unit
    bases = Counter(re.sub(r"_?\d+[a-z]?\Z", "", leaf).lstrip("_") for leaf in leaves)
    base = bases.most_common(1)[0][0]
    if not IDENT.match(base or "-") or base in _reserved() or keyword.iskeyword(base):
        base = f"{base}_unit" if IDENT.match(base or "-") else "unit"
    name, suffix = base, 0
    while name in taken:
        suffix += 1
        name = f"{base}_{chr(ord('a') + suffix)}" if suffix < 26 else f"{base}_{suffix}"
    taken.add(name)
    return name


def _make_block(instances: list[tuple[Group, _Recorder]], taken: set[str]
                ) -> tuple[Block, list[Call]]:
    recorders = [r for _, r in instances]
    first = recorders[0]
    # (placeholder, key, values per instance; None where an instance has no such shortcut)
    positions = [(f"b{i}", key, [r.values[i][1] for r in recorders])
                 for i, (key, *_) in enumerate(first.values)]
    shortcut_text = {}
    for index in range(len(first.shortcuts)):
        having = [r.shortcuts[index] for r in recorders if r.shortcuts[index][0]]
        if not having:
            continue
        shortcut_text[index] = having[0][0]
        for j, (key, *_) in enumerate(having[0][1]):
            positions.append((f"s{index}.{j}", key,
                              [r.shortcuts[index][1][j][1] if r.shortcuts[index][0] else None
                               for r in recorders]))
    params: list[tuple[str, list]] = []  # param name, values per instance
    text_of: dict[str, str] = {}
    for tag, key, values in positions:
        known = [v for v in values if v is not None]
        match = next((name for name, pv in params
                      if all(v is None or v == p for v, p in zip(values, pv))), None)
        if match is None and all(v == known[0] for v in known):
            # a default that never varies is left out (None)
            omissible = first.omissible.get(tag) if tag.startswith("b") else _shortcut_default(
                recorders, tag)
            text_of[tag] = None if omissible is not None and known[0] == omissible \
                else _literal(known[0])
            continue
        if match is None:
            # a width is named after its layer (expand, project), where that is a plain name
            hint = first.values[int(tag[1:])][2] if tag.startswith("b") else ""
            readable = key == "c" and IDENT.match(hint or "-") and not hint.startswith("_") \
                and hint not in _reserved() and not keyword.iskeyword(hint) \
                and all(r.values[int(tag[1:])][2] == hint for r in recorders)
            match = _param_name(hint if readable else key, {name for name, _ in params})
            fill = Counter(known).most_common(1)[0][0]
            params.append((match, [fill if v is None else v for v in values]))
        text_of[tag] = match
    defaults = {name: Integer(1) for name, vals in params if name == "s" and 1 in vals}
    params.sort(key=lambda p: p[0] in defaults)  # parameters with a default go last
    name = _block_name([group.name for group, _ in instances], taken)
    header = ", ".join(p if p not in defaults else f"{p}={defaults[p]}" for p, _ in params)
    body: list[str] = []
    for line in first.lines:
        marker = re.fullmatch(r"\s*\x01(\d+)\x01", line)
        if marker is None:
            body.append(line)
        elif int(marker.group(1)) in shortcut_text:
            body.extend(shortcut_text[int(marker.group(1))].split("\n"))
    body = [re.sub(r" \w+=\x00([^\x00]+)\x00",
                   lambda m: "" if text_of[m.group(1)] is None else m.group(0), line)
            for line in body]
    lines = (f"block {name}({header}):",) + tuple(
        re.sub(r"\x00([^\x00]+)\x00", lambda m: text_of[m.group(1)], line) for line in body)
    calls = [Call(name, tuple((p, vals[k]) for p, vals in params),
                  tuple(defaults.items()), group.name, shape_in(group), shape_out(group))
             for k, (group, _) in enumerate(instances)]
    return Block(name, lines), calls


def _shortcut_default(recorders: list[_Recorder], tag: str):
    """The default a shortcut's placeholder may leave out (from an instance that has it)."""
    return next((r.omissible[tag] for r in recorders if tag in r.omissible), None)


def _literal(value) -> str:
    from .spec_text import number
    return number(value, "a block's number")


def _param_name(key: str, taken: set[str]) -> str:
    base = key if key not in _reserved() and not keyword.iskeyword(key) else f"{key}_"
    name, i = base, 1
    while name in taken:
        i += 1
        name = f"{base}{'_' if base[-1].isdigit() else ''}{i}"  # conv1_2, not conv12
    return name


def find_blocks(tree: tuple, flat_names: bool = False) -> tuple[list[Block], tuple]:
    """Blocks for the groups that repeat, and ``tree`` with their instances as calls. With
    ``flat_names`` (the names show no structure), repeated runs of the graph's own units are
    found first (:func:`~.spec_runs.repeated_runs`)."""
    blocks: list[Block] = []
    taken = _reserved()
    if flat_names:
        from .spec_runs import inline_groups, repeated_runs

        tree = repeated_runs(tree, lambda item: "\n".join(_render(Group("unit", (item,), True),
                                                                    "").lines))
    tree = _cluster(tree, blocks, taken)
    if flat_names:
        tree = inline_groups(tree)  # runs that found no partner are plain lines again
    return blocks, tree


def _cluster(tree: tuple, blocks: list[Block], taken: set[str]) -> tuple:
    height, highest = 1, max((_height(item) for item in tree), default=0)
    while height <= highest:
        found: list = []
        _groups_at(tree, "", height, found)
        clusters: dict[str, list] = {}
        lifted = []
        for group, prefix in found:
            recorder = _render(group, prefix)
            key = "\n".join(recorder.lines)
            clusters.setdefault(key, []).append((group, recorder))
            wrapped = _as_residual(group)
            if wrapped is not None:
                lifted.append((group, key, _render(wrapped, prefix)))
        for group, key, recorder in lifted:
            residual_key = "\n".join(recorder.lines)
            if residual_key in clusters and residual_key != key:
                clusters[key] = [x for x in clusters[key] if x[0] is not group]
                clusters[residual_key].append((group, recorder))
        calls: dict[int, Call] = {}
        for key, instances in clusters.items():
            if len(instances) < 2 or len(key.split("\n")) < 2:
                continue
            if not _shortcuts_agree([r for _, r in instances]):
                continue
            block, made = _make_block(instances, taken)
            blocks.append(block)
            calls.update((id(group), call) for (group, _), call in zip(instances, made))
        tree = _replace(tree, calls)
        height += 1
    return tree


def _shortcuts_agree(recorders: list[_Recorder]) -> bool:
    """Whether every residual's shortcut, where instances have one, is the same text."""
    for index in range(len(recorders[0].shortcuts)):
        texts = {r.shortcuts[index][0] for r in recorders} - {""}
        if len(texts) > 1:
            return False
    return True
