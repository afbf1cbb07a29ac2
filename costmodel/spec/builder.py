"""Build a :class:`~costmodel.core.network.Network` from a parsed spec and knob values.

The builder walks the statement tree keeping the running feature-map shape, as timm's
``EfficientNetBuilder`` tracks channels and stride. Expressions are evaluated with
:mod:`costmodel.core.expr` in an environment of knob values, ``let`` bindings, block parameters
and ``cin``/``hin``/``win`` (the current input's channels, height and width). Knob values may be
sympy symbols: the network then carries closed forms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import sympy
from sympy import Integer, Rational

from .. import limits
from ..core import ops
from ..core.assumptions import assume_different, equal_if_decidable, recording_assumptions
from ..core.expr import bind_let, counting_steps, describe, is_number, spend
from ..core.numbers import beyond_max_number, is_number_text, read_number
from ..core.network import Layer, Network
from ..core.ops import OPS, Shape, activations
from ..core.warnings import from_note
from ..errors import CostModelError, InputTooSmall, SpecError
from ..safe_io import printable
from .parser import parse_file, parse_text
from .syntax import (IDENT, MODIFIER_KEYS, BlockDef, Group, If, Knob, LayerLine, Let, Merge,
                     ModelSpec, Node, Residual)

def _constants() -> dict[str, str]:
    """Names every expression can use for activation ops, so that ``act=relu6`` reads
    naturally: every registered activation (core/ops.py), and none."""
    return {name: name for name in (*activations(), "none")}


# --- the standard block library ---------------------------------------------------------------

@lru_cache(maxsize=1)
def library() -> dict[str, tuple[BlockDef, dict[str, Any]]]:
    """The blocks of ``costmodel/blocks/*.cm``, available to every spec, each with the
    environment (the ``let`` bindings) of the file that defines it."""
    found: dict[str, tuple[BlockDef, dict[str, Any]]] = {}
    folder = resources.files("costmodel.blocks")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".cm"):
            spec = parse_text(entry.read_text(encoding="utf-8"), f"costmodel/blocks/{entry.name}")
            env = _file_env(spec, {})
            for block in spec.blocks:
                if block.name in found:
                    raise RuntimeError(f"block {block.name!r} is defined twice in the library")
                found[block.name] = (block, env)
    return found


def _file_env(spec: ModelSpec, knobs: Mapping[str, Any]) -> dict[str, Any]:
    env: dict[str, Any] = {**_constants(), **knobs}
    for node in spec.body:
        if isinstance(node, Let):
            _bind(node, env)
    return env


def _bind(node: Let, env: dict[str, Any]) -> None:
    bind_let(node.name, node.params, node.expr, env)


# --- knobs ------------------------------------------------------------------------------------

def parse_knob_value(knob: Knob, value: Any, model: str) -> Any:
    """Check and convert a knob value (a string from the command line, a number, or a sympy
    symbol or expression to keep the knob symbolic); errors end with what was received."""
    if isinstance(value, sympy.Expr) and value.free_symbols:  # symbolic: R, or 32*q + 3
        if knob.type == "choice" and not all(is_number_text(c) for c in knob.choices):
            raise CostModelError(f"{model}: knob {knob.name} takes one of "
                                 f"{'|'.join(knob.choices)} and cannot stay symbolic")
        return value
    if isinstance(value, (bool, sympy.logic.boolalg.BooleanAtom)) or not isinstance(
            value, (str, int, float, sympy.Rational)):
        raise CostModelError(f"{model}: {knob.name} takes a number or a string, not "
                             f"{describe(value)}")
    text = str(value).strip()
    shown = limits.excerpt(text)
    if knob.type == "choice":
        for choice in knob.choices:
            if text == choice or (is_number_text(text) and is_number_text(choice)
                                  and _read(text, knob, model) == _read(choice, knob, model)):
                return _number_or_text(choice, knob, model)
        raise CostModelError(f"{model}: {knob.name} must be one of {', '.join(knob.choices)}; "
                             f"received {knob.name}={shown}")
    if not is_number_text(text):
        what = "a finite number > 0" if knob.type == "positive" else \
            "a whole number" if knob.type == "int" else "a finite number"
        raise CostModelError(f"{model}: {knob.name} must be {what}; received "
                             f"{knob.name}={shown}")
    number = _read(text, knob, model)
    if knob.type == "positive" and number <= 0:
        raise CostModelError(f"{model}: {knob.name} must be a finite number > 0; received "
                             f"{knob.name}={text}")
    if knob.type == "int" and not number.is_Integer:
        raise CostModelError(f"{model}: {knob.name} must be a whole number; received "
                             f"{knob.name}={text}")
    for bound, bad in ((knob.min, lambda b: number < b), (knob.max, lambda b: number > b)):
        if bound is not None and bad(_read(bound, knob, model)):
            side = "at least" if bound == knob.min else "at most"
            raise CostModelError(f"{model}: {knob.name} must be {side} {bound}; received "
                                 f"{knob.name}={text}")
    return number


def _read(text: str, knob: Knob, model: str) -> Rational:
    """A knob's number, read exactly within the literal limits (never ``sympify``)."""
    return read_number(text, f"{model}: {knob.name}")


def _number_or_text(text: str, knob: Knob, model: str) -> Any:
    return _read(text, knob, model) if is_number_text(text) else text


# --- building ---------------------------------------------------------------------------------

@dataclass
class _Scope:
    prefix: str
    counters: dict[str, int] = field(default_factory=dict)

    def name(self, base: str, explicit: bool) -> str:
        if not explicit:
            self.counters[base] = self.counters.get(base, 0) + 1
            joint = "_" if base[-1].isdigit() else ""  # relu6 -> relu6_1, not relu61
            base = f"{base}{joint}{self.counters[base]}"
        return f"{self.prefix}{base}"


class _Builder:
    def __init__(self, spec: ModelSpec, model_name: str):
        self.spec, self.model = spec, model_name
        self.blocks = dict(library())
        self.layers: list[Layer] = []
        self.names: set[str] = set()
        self.calls: list[str] = []  # the blocks being built, outermost first
        self.depth = 0  # sections inside sections, through block calls

        # the product of the strides up to each feature map, by producer; their largest is
        # the network's total stride (as timm's EfficientNetBuilder tracks it)
        self.strides: dict[str, int] = {"input": 1}

    def error(self, message: str, node: Node, source: str | None = None,
              token: str | None = None) -> SpecError:
        return SpecError(message, source or self.spec.source, node.line, token)

    def run(self, body: tuple[Node, ...], x: Shape, env: dict[str, Any], scope: _Scope,
            source: str) -> Shape:
        env = dict(env)  # `let` inside a body binds for the rest of that body only
        if self.depth >= limits.MAX_NESTING:
            raise SpecError(f"sections nest deeper than {limits.MAX_NESTING} levels, counting "
                            "through block calls (limit MAX_NESTING)", source,
                            body[0].line if body else None)
        self.depth += 1
        try:
            for node in body:
                if isinstance(node, Let):
                    env.update(env_at({}, x))
                    _bind(node, env)
                else:
                    x = self.node(node, x, env, scope, source)
        finally:
            self.depth -= 1
        return x

    def node(self, node: Node, x: Shape, env: dict[str, Any], scope: _Scope,
             source: str) -> Shape:
        env = env_at(env, x)
        if isinstance(node, If):
            for condition, body in node.cases:
                if condition is None or condition.decide(env):
                    return self.run(body, x, env, scope, source)
            return x
        if isinstance(node, Group):
            return self.run(node.body, x, env, _Scope(scope.name(node.name, True) + "."), source)
        if isinstance(node, Residual):
            return self.residual(node, x, env, scope, source)
        if isinstance(node, Merge):
            outs = [self.run(branch.body, x, env,
                             _Scope(scope.name(branch.name or "branch", bool(branch.name)) + "."),
                             source) for branch in node.branches]
            return self.primitive(node.op, outs, {}, scope.name(node.op, False), node, source)
        assert isinstance(node, LayerLine), node
        return self.layer_line(node, x, env, scope, source)

    def residual(self, node: Residual, x: Shape, env, scope: _Scope, source: str) -> Shape:
        out = self.run(node.body, x, env, scope, source)
        if _same_shape(out, x):
            return self.primitive("add", [out, x], {}, scope.name("add", False), node, source)
        if node.shortcut is None:
            return out  # MobileNet v2's rule: no residual where the shape changes
        projected = self.run(node.shortcut, x, env, _Scope(scope.name("shortcut", True) + "."),
                             source)
        if not _same_shape(projected, out):
            raise self.error(f"the shortcut gives {projected} but the body gives {out}", node,
                             source, "shortcut")
        return self.primitive("add", [out, projected], {}, scope.name("add", False), node,
                              source)

    def layer_line(self, node: LayerLine, x: Shape, env, scope: _Scope, source: str) -> Shape:
        given = dict(node.kwargs)
        repeat = given.pop("n").evaluate(env) if "n" in given else Integer(1)
        label = given.pop("name").text if "name" in given else None
        if not (isinstance(repeat, sympy.Integer) and repeat >= 1):
            raise self.error(f"n= must be a whole number >= 1, got n={describe(repeat)}", node,
                             source, "n")
        if repeat > limits.MAX_REPEAT:
            raise self.error(f"n={repeat} repeats more than {limits.MAX_REPEAT:,} times (limit "
                             "MAX_REPEAT)", node, source, "n")
        if label is not None and not IDENT.match(label):
            raise self.error(f"name= must be a plain name, got {label!r}", node, source, label)
        if node.op not in OPS and node.op not in self.blocks:
            raise self.error(f"unknown op or block {node.op!r}"
                             f"{_suggest(node.op, [*OPS, *self.blocks])}", node, source, node.op)
        for i in range(int(repeat)):
            here = env_at(env, x)  # cin, hin, win follow the running shape between repeats
            values = {key: value.evaluate(here) for key, value in given.items()}
            args = [value.evaluate(here) for value in node.args]
            if i > 0 and "s" in values:
                values["s"] = Integer(1)  # the stride applies to the first repetition only
            if label is None:
                name = scope.name(node.op, False)
            else:
                name = scope.name(f"{label}{i + 1}" if repeat > 1 else label, True)
            if node.op in OPS:
                x = self.primitive_line(node, args, values, x, name, source)
            else:
                x = self.block(node, args, values, x, name, source)
        return x

    def primitive_line(self, node: LayerLine, args, values, x: Shape, name: str,
                       source: str) -> Shape:
        definition = OPS[node.op]
        modifiers = {k: values.pop(k) for k in MODIFIER_KEYS
                     if k in values and k not in definition.attr_names}
        if len(args) > len(definition.attrs):
            raise self.error(f"{node.op} takes at most {len(definition.attrs)} positional "
                             f"arguments ({', '.join(definition.attr_names)}), got {len(args)}",
                             node, source, node.op)
        attrs = dict(zip(definition.attr_names, args))
        for key in values:
            if key in attrs:
                raise self.error(f"{key} given both by position and as {key}=", node, source,
                                 key)
        attrs.update(values)
        self.check_literal_channels(node, definition, attrs, source)
        x = self.primitive(node.op, [x], attrs, name, node, source)
        stem = name.rsplit(".", 1)
        parent = stem[0] + "." if len(stem) == 2 else ""
        leaf = stem[-1]
        bn = modifiers.get("bn", Integer(0))
        if not (is_number(bn) and bn in (0, 1)):
            raise self.error(f"bn= must be 0 or 1, got bn={describe(bn)}", node, source, "bn")
        if bn == 1:
            x = self.primitive("bn", [x], {}, f"{parent}{leaf}.bn", node, source)
        act = modifiers.get("act", "none")
        if not (isinstance(act, str) and act in (*activations(), "none")):
            raise self.error(f"act= must be one of {', '.join(activations())} or none, "
                             f"got act={describe(act)}", node, source, "act")
        if act != "none":
            x = self.primitive(act, [x], {}, f"{parent}{leaf}.{act}", node, source)
        return x

    def check_literal_channels(self, node: LayerLine, definition, attrs: dict[str, Any],
                               source: str) -> None:
        """Refuse a channel count written as a fractional number (``conv 2.5``, ``fc 7/2``):
        no layer has half a channel. Fractional widths are the papers' idealized c·alpha
        (``rounding=none``), so a count is allowed to be fractional only where its expression
        names something (a knob, a let, a block parameter, ``cin``)."""
        written = {**dict(zip(definition.attr_names, node.args)), **dict(node.kwargs)}
        for attribute in definition.attributes:
            expression = written.get(attribute.name)
            value = attrs.get(attribute.name)
            if (attribute.domain == "channels" and expression is not None
                    and not expression.names and isinstance(value, Rational)
                    and not value.is_Integer):
                raise self.error(
                    f"{node.op}: {attribute.name}={limits.excerpt(expression.text)} is a "
                    f"fractional channel count written as a number ({describe(value)}); write "
                    "a whole number (fractional widths come only from knob values, such as "
                    "c*alpha with rounding=none)", node, source, limits.excerpt(expression.text))

    def primitive(self, op: str, inputs: list[Shape], attrs: dict[str, Any], name: str,
                  node: Node, source: str) -> Shape:
        for key, value in attrs.items():
            if not (is_number(value) or isinstance(value, tuple)):  # per-axis: expr.visit_Tuple
                raise self.error(f"{op}: {key}= must be a number, got {key}={describe(value)}",
                                 node, source, key)
        if not spend():
            raise self.error(f"building takes more than {limits.MAX_BUILD_STEPS:,} steps of "
                             "work (limit MAX_BUILD_STEPS)", node, source, op)
        if len(self.layers) >= limits.MAX_LAYERS:
            raise self.error(f"the network has more than {limits.MAX_LAYERS:,} layers (limit "
                             "MAX_LAYERS)", node, source, op)
        if name in self.names:
            raise self.error(f"two layers are named {name!r}; give one another name=", node,
                             source, name)
        self.names.add(name)
        try:
            result = ops.apply(op, inputs, attrs)
        except CostModelError as exc:
            # chained: build() explains a too-small input from the op's own error
            raise self.error(f"layer {name}: {exc}", node, source, op) from exc
        output = replace(result.shape, producer=name)
        for side in (output.c, *output.sizes):
            if beyond_max_number(side):
                raise self.error(f"layer {name}: its output {output} grows beyond "
                                 f"10^{limits.MAX_NUMBER_DIGITS} (limit MAX_NUMBER)", node,
                                 source, op)
        self.strides[name] = max(self.strides.get(x.producer, 1) for x in inputs) * \
            _stride(op, attrs)
        self.layers.append(Layer(name, op, result.kind, tuple(attrs.items()), tuple(inputs),
                                 output, result.counts))
        return output

    def block(self, node: LayerLine, args, values, x: Shape, name: str, source: str) -> Shape:
        block, block_env = self.blocks[node.op]
        names = block.param_names
        if len(args) > len(names):
            raise self.error(f"block {block.name} takes at most {len(names)} positional "
                             f"arguments ({', '.join(names)}), got {len(args)}", node, source,
                             node.op)
        bound = dict(zip(names, args))
        for key, value in values.items():
            if key not in names:
                raise self.error(f"block {block.name} has no parameter {key!r} (parameters: "
                                 f"{', '.join(names)})", node, source, key)
            if key in bound:
                raise self.error(f"{key} given both by position and as {key}=", node, source, key)
            bound[key] = value
        env = env_at(block_env, x)
        for pname, default in block.params:
            if pname not in bound:
                if default is None:
                    raise self.error(f"block {block.name} needs {pname}= (parameters: "
                                     f"{', '.join(names)})", node, source, pname)
                bound[pname] = default.evaluate({**env, **bound})
        env.update(bound)
        if len(self.calls) >= limits.MAX_BLOCK_DEPTH:
            chain = " -> ".join([*self.calls, block.name])
            hint = f"; block {block.name} calls itself" if block.name in self.calls else ""
            raise self.error(f"blocks call blocks more than {limits.MAX_BLOCK_DEPTH} deep "
                             f"(limit MAX_BLOCK_DEPTH){hint}: {limits.excerpt(chain, 200)}", node,
                             source, node.op)
        self.calls.append(block.name)
        try:
            return self.run(block.body, x, env, _Scope(name + "."), block.source)
        finally:
            self.calls.pop()


def _stride(op: str, attrs: Mapping[str, Any]) -> int:
    """A layer's stride: its ``s=`` (a pooling layer's defaults to its kernel ``k``); 1 for an
    op without one, or while it is symbolic."""
    if "s" not in ops.OPS[op].attr_names:
        return 1
    default = dict(ops.OPS[op].attrs)["s"]
    stride = attrs.get("s", default)
    stride = attrs.get("k") if stride is None else stride
    strides = stride if isinstance(stride, tuple) else (stride,)  # per axis: the largest
    return max(int(s) if getattr(s, "is_Integer", isinstance(s, int)) else 1 for s in strides)


def _same_shape(a: Shape, b: Shape) -> bool:
    """Whether two feature maps have the same shape. A side that differs for certain settles
    it with nothing to assume (a stride-2 block never gets a residual add, whatever its
    widths); otherwise the undecidable sides are assumed to differ, and that is recorded."""
    if a.rank != b.rank:
        return False
    pairs = (*zip(a.sizes, b.sizes), (a.c, b.c))
    decided = [equal_if_decidable(p, q) for p, q in pairs]
    if False in decided:
        return False
    undecided = [pair for pair, equal in zip(pairs, decided) if equal is None]
    return assume_different(*undecided) if undecided else True


def env_at(env: Mapping[str, Any], x: Shape) -> dict[str, Any]:
    """``env`` plus the running shape: ``cin``, ``hin``, ``win``."""
    return {**env, "cin": x.c, "hin": x.h, "win": x.w}


def _suggest(word: str, known: list[str]) -> str:
    import difflib
    near = difflib.get_close_matches(word, known, n=3)
    return f"; did you mean {', '.join(near)}?" if near else ""


# --- the public entry points --------------------------------------------------------------------

def require_knob(spec: ModelSpec, name: str, model: str) -> Knob:
    """The declaration of knob ``name``; a name the spec does not declare is a user error
    that lists the knobs it does."""
    knob = spec.knob(name)
    if knob is None:
        raise CostModelError(f"{model} has no knob {name!r}; its knobs are: "
                             f"{', '.join(k.name for k in spec.knobs) or 'none'}")
    return knob


def resolve_knobs(spec: ModelSpec, values: Mapping[str, Any], model: str) -> dict[str, Any]:
    """Knob values for a build: the defaults overridden by ``values``, each checked."""
    for key in values:
        require_knob(spec, key, model)
    resolved: dict[str, Any] = {}
    for knob in spec.knobs:  # in file order: a knob that follows another comes after it
        if knob.name in values or knob.follows is None:
            resolved[knob.name] = parse_knob_value(knob, values.get(knob.name, knob.default),
                                                   model)
        else:
            resolved[knob.name] = resolved[knob.follows]
    return resolved


def shown_knobs(spec: ModelSpec, knobs: Mapping[str, Any],
                values: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The knob settings a network reports (its ``config``): every knob but one that follows
    another and was not set (the height of a square input is its resolution), so that a
    rebuild from the config, at another resolution, moves the height with it."""
    followers = {knob.name for knob in spec.knobs if knob.follows is not None}
    overridden = {leader for leader in {k.follows for k in spec.knobs} - {None}
                  if leader not in values
                  and all(k.name in values for k in spec.knobs if k.follows == leader)}
    return tuple((name, value) for name, value in knobs.items()
                 if (name not in followers or name in values) and name not in overridden)


def build(spec: ModelSpec, values: Mapping[str, Any] | None = None,
          name: str | None = None) -> Network:
    """Build ``spec`` at knob ``values`` (strings, numbers, or sympy symbols to stay symbolic).

    A resolution too small for the network's strides is reported with the smallest that
    works.
    """
    model = name or spec.name or printable(Path(spec.source).stem)
    values = values or {}
    knobs = resolve_knobs(spec, values, model)
    try:
        with counting_steps():
            return _build(spec, knobs, model, shown_knobs(spec, knobs, values))
    except RecursionError:  # a safety net: the limits keep every build far from it
        raise SpecError("the file nests too deeply to build (see the limits in the README's "
                        "Safety section)", spec.source) from None
    except SpecError as exc:
        followers_set = any(k.follows == "resolution" and k.name in values for k in spec.knobs)
        if isinstance(exc.__cause__, InputTooSmall) and "resolution" in knobs \
                and not followers_set:
            with counting_steps():
                smallest = _smallest_resolution(spec, knobs, model)
            hint = f"; the smallest resolution that works is {smallest}" if smallest else ""
            raise CostModelError(f"{model}: resolution={knobs['resolution']} is too small for "
                                 f"the network's strides ({exc.reason}){hint}") from None
        if isinstance(exc.__cause__, InputTooSmall) and followers_set:
            sides = ", ".join(f"{k.name}={knobs[k.name]}" for k in spec.knobs
                              if k.follows == "resolution")
            raise CostModelError(f"{model}: the input ({sides}) is too small for the network's "
                                 f"strides ({exc.reason})") from None
        raise


def _build(spec: ModelSpec, knobs: dict[str, Any], model: str,
           config: tuple[tuple[str, Any], ...] | None = None) -> Network:
    if spec.input is None:
        raise SpecError("the file has no 'input C H W' line", spec.source)
    builder = _Builder(spec, model)
    env = {**_constants(), **knobs}
    x = input_shape = _input_shape(spec, env)
    file_env = dict(env)
    for block in spec.blocks:
        builder.blocks[block.name] = (block, file_env)  # blocks see knobs and top-level lets
    scope = _Scope("")
    with recording_assumptions() as assumed:
        for node in spec.body:
            if isinstance(node, Let):
                file_env.update(env_at({}, x))
                _bind(node, file_env)
            else:
                x = builder.node(node, x, file_env, scope, spec.source)
    if not builder.layers:
        raise SpecError("the file defines no layers", spec.source)
    carried = tuple(from_note(note) for note in spec.notes)  # `note warning: ...` lines
    return Network(model, tuple(knobs.items()) if config is None else config, input_shape,
                   tuple(builder.layers), spec.doc,
                   tuple(n for n, w in zip(spec.notes, carried) if w is None),
                   tuple(dict.fromkeys(assumed)), max(builder.strides.values()),
                   tuple(w for w in carried if w is not None))


def _input_shape(spec: ModelSpec, env: dict[str, Any]) -> Shape:
    """The ``input C H W`` line's shape (``C L``, ``C T H W``): positive whole numbers (or
    symbols)."""
    names = {2: ("C", "L"), 3: ("C", "H", "W"), 4: ("C", "T", "H", "W")}[len(spec.input)]
    sides = []
    for what, expr in zip(names, spec.input):
        value = expr.evaluate(env)
        if not ops.in_domain(value, "positive int"):
            raise SpecError(f"input {what} must be a whole number >= 1, got "
                            f"{describe(value)}", spec.source, expr.line, expr.text)
        sides.append(value)
    return Shape(sides[0], tuple(sides[1:]), producer="input")


def _smallest_resolution(spec: ModelSpec, knobs: dict[str, Any], model: str,
                         limit: int = 4096) -> int | None:
    """The smallest resolution at which the network builds: doubling until one works, then
    bisecting (a handful of builds, not one per pixel)."""
    def works(resolution: int) -> bool:
        try:
            side = Integer(resolution)
            _build(spec, {**knobs, "resolution": side, **{k.name: side for k in spec.knobs
                                                          if k.follows == "resolution"}}, model)
            return True
        except SpecError:
            return False

    failing = int(knobs["resolution"]) if knobs["resolution"].is_number else 0
    # the build at ``failing`` is the one that just failed: the doubling starts above it
    working = 2 * failing if failing else 1
    while not works(working):
        failing, working = working, working * 2
        if working > limit:
            return None
    while working - failing > 1:
        middle = (failing + working) // 2
        failing, working = (failing, middle) if works(middle) else (middle, working)
    return working


def load_model(path: str | Path, values: Mapping[str, Any] | None = None) -> Network:
    """Parse the architecture file at ``path`` and build it."""
    return build(parse_file(path), values)
