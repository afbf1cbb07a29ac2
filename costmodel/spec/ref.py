"""The SPEC string: how the command line and the API name a network, parsed in this one place.

::

    mobilenet_v1                           a zoo model at its default knobs
    mobilenet_v1:alpha=0.5,resolution=160  with knob values
    path/to/net.cm[:key=value,...]         a layer-spec file (data: never run)
    ./net  dir/net                         a layer-spec file too: a path with a ``/``
    net.py:factory[:key=value,...]         a function in the user's Python returning a module
    model.onnx[:resolution=R]              an ONNX file (or :height=H,width=W)

A path ends at its suffix (``.cm``, ``.py``, ``.onnx``), so it may itself hold ``:``
(``a:b.cm:alpha=0.5``); where several cuts end in a suffix, the first naming an existing file
wins. Text with no suffix and no ``/`` before its settings is a zoo name, even where a file of
that name exists. :func:`parse_ref` returns a frozen :class:`SpecRef`; which front end reads
each kind is :mod:`costmodel.frontends.registry`'s business. :func:`parse_settings` reads the
``key=value,...`` part alone (also ``derive --at``); :func:`spec_string` writes a SPEC back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CostModelError
from ..limits import excerpt

#: The suffix that makes a path of each kind of file.
SUFFIXES = {".cm": "cm", ".py": "python", ".onnx": "onnx"}
#: Every kind of SPEC: a zoo name, then one per suffix.
KINDS = ("zoo", *SUFFIXES.values())
_EXAMPLE = "mobilenet_v1:alpha=0.5,resolution=160"


@dataclass(frozen=True)
class SpecRef:
    """A parsed SPEC: its ``kind`` (:data:`KINDS`), the zoo name or file path (``target``),
    the factory function of a ``.py`` file, and the ``key=value`` settings in order."""

    kind: str
    target: str
    factory: str = ""
    settings: tuple[tuple[str, str], ...] = ()
    #: the SPEC as written, for messages
    text: str = ""

    @property
    def is_layer_spec(self) -> bool:
        """A zoo model or a ``.cm`` file: knobs that may stay symbolic (closed forms, sweeps)."""
        return self.kind in ("zoo", "cm")

    @property
    def is_bare_name(self) -> bool:
        """A zoo name alone, with no settings (``derive`` also looks it up as a derivation)."""
        return self.kind == "zoo" and self.target == self.text


def parse_ref(text: str) -> SpecRef:
    """``text`` as a :class:`SpecRef`; a malformed setting or factory is a
    :class:`CostModelError` naming it."""
    target, rest = _split(text)
    kind = next((k for suffix, k in SUFFIXES.items() if target.endswith(suffix)),
                "cm" if "/" in target else "zoo")
    factory = ""
    if kind == "python":
        factory, _, settings = rest.partition(":")
        factory = factory.strip()
        if not factory.isidentifier():
            raise CostModelError(f"{target}: name the function that returns the module, as "
                                 f"{target}:build (got {rest!r})")
        rest = settings
    return SpecRef(kind, target, factory, parse_settings(rest, text), text)


def parse_settings(text: str, where: str) -> tuple[tuple[str, str], ...]:
    """``alpha=0.5,resolution=160`` as (key, value) pairs in order; an item without ``=``, an
    empty key or value, or a key set twice is named in the error."""
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip() or not value.strip():
            raise CostModelError(f"cannot read {excerpt(item)!r} in {excerpt(where)!r}: write "
                                 f"key=value, e.g. {_EXAMPLE}")
        if key.strip() in pairs:
            raise CostModelError(f"{key.strip()} is set twice in {excerpt(where)!r}")
        pairs[key.strip()] = value.strip()
    return tuple(pairs.items())


def spec_string(model: str, config: Mapping[str, Any]) -> str:
    """``mobilenet_v1:alpha=0.75,resolution=224``: a model and knob values as a SPEC, which
    :func:`parse_ref` reads back (``1.0`` is written ``1``; ``0.75`` is read exactly as 3/4)."""
    if not config:
        return model
    return model + ":" + ",".join(f"{key}={_knob_text(value)}" for key, value in config.items())


def _knob_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _split(text: str) -> tuple[str, str]:
    """(the model name or path, the text after its ``:``)."""
    cuts = [i for i in range(len(text) + 1)
            if (i == len(text) or text[i] == ":") and text[:i].endswith(tuple(SUFFIXES))]
    if cuts:
        existing = [i for i in cuts if is_file(text[:i])]
        cut = (existing or cuts)[0]
        return text[:cut], text[cut + 1:]
    base, _, settings = text.partition(":")
    if "/" in base and path_exists(text):  # a path holding ':', without settings
        return text, ""
    return base, settings


def path_exists(path: str) -> bool:
    try:
        return Path(path).exists()
    except (OSError, ValueError):  # a name too long for a path, or holding NUL
        return False


def is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False
