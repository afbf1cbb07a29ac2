"""The model zoo: built-in architectures, each a layer-spec file in this folder.

A model is data, in the same format users write: ``costmodel/zoo/<name>.cm``, whose docstring
cites the paper and explains where the exact count differs from the published one. Adding a
model is adding a file. This module is also the front end of every *layer-spec* SPEC
(:mod:`costmodel.spec.ref` parses the string): a zoo name (``mobilenet_v1``,
``mobilenet_v1:alpha=0.5,resolution=160``) or an architecture file (``path/to/arch.cm``,
``path/to/arch.cm:alpha=0.5``); :func:`resolve` and :func:`build` take only those. Any SPEC,
``.py`` and ``.onnx`` files too, goes through :func:`costmodel.frontends.resolve`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..core.network import Network
from ..errors import CostModelError
from ..limits import excerpt
from ..safe_io import printable
from ..spec.builder import build as build_spec, resolve_knobs, shown_knobs
from ..spec.parser import parse_file, parse_text
from ..spec.ref import SpecRef, parse_ref, path_exists
from ..spec.syntax import ModelSpec

SUFFIX = ".cm"

@lru_cache(maxsize=1)
def names() -> tuple[str, ...]:
    """The zoo's model names, sorted."""
    folder = resources.files(__name__)
    return tuple(sorted(e.name[:-len(SUFFIX)] for e in folder.iterdir()
                        if e.name.endswith(SUFFIX)))


@lru_cache(maxsize=None)
def spec(name: str) -> ModelSpec:
    """The parsed spec of zoo model ``name``; an unknown name suggests the nearest ones."""
    if name not in names():
        near = difflib.get_close_matches(name, names(), n=3, cutoff=0.5)
        hint = f"did you mean {', '.join(near)}?" if near else \
            f"known models: {', '.join(names())}"
        if path_exists(name):
            hint += f" (a file of that name exists: write ./{printable(name)} to read it)"
        raise CostModelError(f"unknown model {printable(name)!r}; {hint} (or give the path of an "
                             f"architecture file ending in {SUFFIX})")
    text = resources.files(__name__).joinpath(name + SUFFIX).read_text(encoding="utf-8")
    return parse_text(text, f"costmodel/zoo/{name}{SUFFIX}")


@dataclass(frozen=True)
class ModelRef:
    """A resolved spec string: the parsed spec, its name and the knob values asked for."""

    spec: ModelSpec
    name: str
    values: tuple[tuple[str, str], ...]
    #: a zoo model: its layers take the PyTorch calls of its reference implementation
    #: (core/calls.py REFERENCE_CALLS), which the tool conventions count by
    zoo: bool = False

    #: the SPEC as written, for messages ("" where the ref was made by hand: its name)
    text: str = ""

    def build(self, input_shape: Sequence[int] | None = None, **overrides: Any) -> Network:
        """The network at the SPEC's knob values and ``overrides``. ``input_shape`` N,C,H,W
        (``--input``) sets the input size: ``resolution`` when H = W, else the ``height`` and
        ``width`` knobs; a size the SPEC sets itself wins. The model must take C channels."""
        values = {**dict(self.values), **overrides}
        if input_shape is not None:
            values.update(self._input_size(input_shape, values))
        network = build_spec(self.spec, values, self.name)
        if self.zoo:
            from ..core.calls import with_reference_calls
            network = with_reference_calls(network, self.name)
        if input_shape is not None and network.input.c != input_shape[1]:
            raise CostModelError(f"{self.shown} takes {network.input.c}-channel input; "
                                 f"--input gives C={input_shape[1]}")
        return network

    @property
    def shown(self) -> str:
        return self.text or self.name

    def _input_size(self, input_shape: Sequence[int], values: Mapping[str, Any]) -> dict:
        """The knob values ``--input``'s H×W sets (none where the SPEC sets a size)."""
        if len(input_shape) != 4:
            raise CostModelError(f"{self.shown} sets its input size by knobs (resolution, "
                                 f"height, width): --input takes N,C,H,W for it, not "
                                 f"{len(input_shape)} numbers; write the sizes in the file's "
                                 "input line for a sequence or a video")
        _, _, h, w = input_shape
        knobs = {knob.name for knob in self.spec.knobs}
        if values.keys() & {"resolution", "height", "width"}:
            return {}  # the SPEC's own size wins
        if h == w and "resolution" in knobs:
            return {"resolution": str(h)}
        if {"height", "width"} <= knobs:
            return {"height": str(h), "width": str(w)}
        if "resolution" in knobs:
            raise CostModelError(f"{self.shown} takes a square input (its resolution knob; it "
                                 f"has no height and width knobs); --input gives H={h}, W={w}")
        raise CostModelError(f"{self.shown} has no resolution knob, so --input cannot set its "
                             "input size")

    def config(self) -> dict[str, Any]:
        """Every knob's value, defaults filled in, checked; a knob that follows another and
        was not set (``height`` of a square input) is left out, so that it keeps following
        when the other is changed."""
        values = dict(self.values)
        return dict(shown_knobs(self.spec, resolve_knobs(self.spec, values, self.name), values))


def load(ref: SpecRef) -> ModelRef:
    """The front end of layer-spec SPECs (:mod:`costmodel.frontends.registry`): a zoo model,
    or a ``.cm`` file (a path: it ends in ``.cm`` or holds a ``/``), with its knob values."""
    if ref.kind == "cm":
        parsed = parse_file(ref.target)
        # a file's name is text from outside: printed in tables, so made printable here
        return ModelRef(parsed, parsed.name or printable(Path(ref.target).stem), ref.settings,
                        text=ref.text)
    if ref.kind != "zoo":
        raise CostModelError(f"{printable(ref.text)}: not a layer-spec SPEC")
    return ModelRef(spec(ref.target), ref.target, ref.settings, zoo=True, text=ref.text)


def resolve(text: str, purpose: str = "zoo.resolve and zoo.build") -> ModelRef:
    """The layer-spec model ``text`` names (a zoo name or a ``.cm`` file, with knob values),
    where ``purpose`` needs its knobs (closed forms, budgets, sweeps): a front end's file
    (``.py``, ``.onnx``), counted at numbers only, is refused with the way to write it as a
    spec file (any SPEC: :func:`costmodel.frontends.resolve`)."""
    ref = parse_ref_naming_models(text)
    if not ref.is_layer_spec:
        stem = Path(ref.target).stem
        raise CostModelError(f"{text}: {purpose} need a layer-spec model, and this file is "
                             f"counted at one input size; write it as one first: costmodel "
                             f"import {text} -o {stem}.cm, then use {stem}.cm")
    return load(ref)


def build(name: str, values: Mapping[str, Any] | None = None, **knobs: Any) -> Network:
    """Build zoo model (or layer-spec SPEC) ``name`` with knob values (numbers, strings, or sympy
    symbols to keep a knob symbolic)."""
    return resolve(name).build(**{**dict(values or {}), **knobs})


def parse_ref_naming_models(text: str) -> SpecRef:
    """:func:`~costmodel.spec.ref.parse_ref`, where an unknown name with a bare word after
    its colon (``torchvision:mobilenet_v2``) is named as an unknown model first, with the
    way to count a library's model, rather than as knob syntax."""
    try:
        return parse_ref(text)
    except CostModelError:
        base, colon, settings = text.partition(":")
        if not colon or "=" in settings or not settings.strip() or "/" in base \
                or "." in base or base in names():
            raise
        first = settings.split(",")[0].strip()
        library = f"unknown model {excerpt(base)!r} in {excerpt(text)!r}"
        traced = ("a library's model counts through a .py file: def build(): return "
                  f"{excerpt(base)}.models.{excerpt(first)}(), then my_net.py:build")
        if first in names():
            raise CostModelError(f"{library}; {first} is built in (costmodel compare {first}), "
                                 f"or {traced}") from None
        raise CostModelError(f"{library}; {traced}") from None


def knob_records(knobs) -> list[dict]:
    """A model's knobs as ``list --format json`` gives them, with the names of the Python
    API's :class:`~costmodel.spec.syntax.Knob`: ``default``, ``min`` and ``max`` as numbers (a
    fraction such as 1/3 as text), a choice's default as its name; a knob that ``follows``
    another has that knob's default."""
    from ..core.numbers import plain, read_number

    def number(text, knob):
        return None if text is None else plain(read_number(text, knob.name),
                                                exact_fractions=True)

    defaults = {}
    records = []
    for knob in knobs:
        default = (knob.default if knob.type == "choice" else
                   defaults.get(knob.follows) if knob.follows else number(knob.default, knob))
        defaults[knob.name] = default
        records.append({"name": knob.name, "type": knob.type, "default": default,
                        "follows": knob.follows, "choices": list(knob.choices),
                        "min": number(knob.min, knob), "max": number(knob.max, knob),
                        "help": knob.help})
    return records
