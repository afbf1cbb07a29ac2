"""The model zoo: built-in architectures, each a layer-spec file in this folder.

A model is data, in the same format users write: ``costmodel/zoo/<name>.cm``, whose docstring
cites the paper and explains where the exact count differs from the published one. Adding a
model is adding a file. A *spec string* names a model for the CLI and the API:

* ``mobilenet_v1`` -- a zoo model at its default knobs;
* ``mobilenet_v1:alpha=0.5,resolution=160`` -- with knob values;
* ``path/to/arch.cm`` (or ``path/to/arch.cm:alpha=0.5``) -- a user's architecture file;
* a file another front end reads, chosen by its suffix in :data:`FRONT_ENDS` (``net.py:build``,
  ``model.onnx``): everything after the path is that front end's to read.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
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
from ..spec.syntax import ModelSpec

SUFFIX = ".cm"

#: Front ends for other kinds of file, by suffix: "module:function" of a loader called as
#: ``loader(path, rest)`` with ``rest`` the text after ``path:`` (may be empty), returning an
#: object with ``name``, ``build(**overrides) -> Network`` and ``config()``, as ModelRef has.
#: Loaders are imported only when a SPEC names such a file (they import torch or onnx).
FRONT_ENDS: dict[str, str] = {
    # file.py:factory -- the user's own Python, imported (it runs); only the file named
    ".py": "costmodel.frontends.torch_file:load_spec",
    ".onnx": "costmodel.frontends.onnx_graph:load_spec",
}


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
        if _exists(name):
            hint += f" (a file of that name exists: write ./{printable(name)} to read it)"
        raise CostModelError(f"unknown model {printable(name)!r}; {hint} (or give the path of an "
                             f"architecture file ending in {SUFFIX})")
    text = resources.files(__name__).joinpath(name + SUFFIX).read_text(encoding="utf-8")
    return parse_text(text, f"costmodel/zoo/{name}{SUFFIX}")


def _exists(path: str) -> bool:
    try:
        return Path(path).exists()
    except (OSError, ValueError):  # a name too long for a path, or holding NUL
        return False


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class ModelRef:
    """A resolved spec string: the parsed spec, its name and the knob values asked for."""

    spec: ModelSpec
    name: str
    values: tuple[tuple[str, str], ...]
    #: a zoo model: its layers take the PyTorch calls of its reference implementation
    #: (core/calls.py REFERENCE_CALLS), which the tool conventions count by
    zoo: bool = False

    def build(self, **overrides: Any) -> Network:
        network = build_spec(self.spec, {**dict(self.values), **overrides}, self.name)
        if self.zoo:
            from ..core.calls import with_reference_calls
            network = with_reference_calls(network, self.name)
        return network

    def config(self) -> dict[str, Any]:
        """Every knob's value, defaults filled in, checked; a knob that follows another and
        was not set (``height`` of a square input) is left out, so that it keeps following
        when the other is changed."""
        values = dict(self.values)
        return dict(shown_knobs(self.spec, resolve_knobs(self.spec, values, self.name), values))


def parse_values(text: str, where: str) -> tuple[tuple[str, str], ...]:
    """``alpha=0.5,resolution=160`` as pairs; a malformed or repeated item is named in the
    error."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise CostModelError(f"cannot read {excerpt(item)!r} in {excerpt(where)!r}: write "
                                 "key=value, e.g. mobilenet_v1:alpha=0.5,resolution=160")
        if key.strip() in pairs:
            raise CostModelError(f"{key.strip()} is set twice in {excerpt(where)!r}")
        pairs[key.strip()] = value.strip()
    return tuple(pairs.items())


def split_spec(text: str) -> tuple[str, str]:
    """A spec string as (model name or path, settings). A path is text that ends in
    ``.cm`` (or a front end's suffix) before the settings, or that has a ``/`` before them;
    anything else is a model name, even where a file of that name exists. A path may itself
    hold ``:`` (``a:b.cm:alpha=0.5``): the split is after the suffix, preferring a file that
    exists."""
    suffixes = (SUFFIX, *FRONT_ENDS)
    cuts = [i for i in range(len(text) + 1)
            if (i == len(text) or text[i] == ":") and text[:i].endswith(suffixes)]
    if cuts:
        existing = [i for i in cuts if _is_file(text[:i])]
        cut = (existing or cuts)[0]
        return text[:cut], text[cut + 1:]
    base, _, settings = text.partition(":")
    if "/" in base and _exists(text):  # a path holding ':', without settings
        return text, ""
    return base, settings


#: What each front end's SPEC is, for the error when its optional dependency is missing.
_DOING = {".py": "counting a PyTorch module", ".onnx": "reading an ONNX file"}


def resolve(text: str):
    """Resolve a spec string (see the module docstring and :func:`split_spec`)."""
    base, settings = split_spec(text)
    front_end = next((f for suffix, f in FRONT_ENDS.items() if base.endswith(suffix)), None)
    if front_end is not None:
        import importlib

        from ..extras import missing_from

        module, _, function = front_end.partition(":")
        try:
            return getattr(importlib.import_module(module), function)(base, settings)
        except ModuleNotFoundError as exc:  # an optional dependency not installed: one line
            error = missing_from(exc, f"{base}: {_DOING.get(Path(base).suffix, 'this SPEC')}")
            if error is None:
                raise
            raise error from None
    if base.endswith(SUFFIX) or "/" in base:
        values = parse_values(settings, text)
        parsed = parse_file(base)
        # a file's name is text from outside: printed in tables, so made printable here
        return ModelRef(parsed, parsed.name or printable(Path(base).stem), values)
    try:  # an unknown name is named first (torchvision:mobilenet_v2), not its knob syntax
        model = spec(base)
    except CostModelError as exc:
        if "=" in settings or not settings:
            raise
        first = settings.split(",")[0].strip()
        library = f"unknown model {excerpt(base)!r} in {excerpt(text)!r}"
        traced = ("a library's model counts through a .py file: def build(): return "
                  f"{excerpt(base)}.models.{excerpt(first)}(), then my_net.py:build")
        if first in names():
            raise CostModelError(f"{library}; {first} is built in (costmodel compare {first}), "
                                 f"or {traced}") from None
        raise CostModelError(f"{exc}; {traced}") from None
    return ModelRef(model, base, parse_values(settings, text), zoo=True)


def resolve_layer_spec(text: str, purpose: str) -> ModelRef:
    """Resolve ``text`` where ``purpose`` needs the knobs of a layer-spec model (closed forms,
    budgets, sweeps): a front end's file, counted at numbers only, is refused with the way to
    write it as a spec file."""
    ref = resolve(text)
    if not isinstance(ref, ModelRef):
        stem = Path(text.partition(":")[0]).stem
        raise CostModelError(f"{text}: {purpose} need a layer-spec model, and this file is "
                             f"counted at one input size; write it as one first: costmodel "
                             f"import {text} -o {stem}.cm, then use {stem}.cm")
    return ref


def build(name: str, values: Mapping[str, Any] | None = None, **knobs: Any) -> Network:
    """Build zoo model (or spec string) ``name`` with knob values (numbers, strings, or sympy
    symbols to keep a knob symbolic)."""
    return resolve(name).build(**{**dict(values or {}), **knobs})


def knob_records(knobs) -> list[dict]:
    """A model's knobs as ``list --format json`` gives them, with the names of the Python API's
    :class:`~costmodel.spec.syntax.Knob`: ``default``, ``min`` and ``max`` as numbers (a fraction such
    as 1/3 as text), a choice's default as its name; a knob that ``follows`` another has
    that knob's default."""
    from ..core.numbers import plain, read_number

    def number(text, knob):
        return None if text is None else plain(read_number(text, knob.name), exact_fractions=True)

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
