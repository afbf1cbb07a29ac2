"""The ``model.onnx[:resolution=R]`` SPEC: an ONNX file counted at an input size.

:mod:`.onnx_graph` reads and checks the file and infers its shapes at the chosen size;
:mod:`.onnx_translate` turns the inferred graph into an ordinary
:class:`~costmodel.core.network.Network`. Closed forms in the resolution go through a written
spec file (``costmodel import model.onnx -o net.cm``, then ``costmodel derive net.cm``): an
ONNX file is counted at a numeric input size.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.network import Network
from ..errors import CostModelError
from ..limits import excerpt
from ..safe_io import printable
from ..spec.ref import SpecRef, parse_settings
from .onnx_graph import MAX_SIDE, infer_shapes, input_dims, read_model, shown_path
from .onnx_translate import translate

#: The knobs a SPEC may set for an ONNX file: the input side(s) in pixels.
KNOBS = ("resolution", "height", "width")


#: The input side an import uses for a file whose input height and width are dynamic, when
#: the SPEC gives none (the written file keeps the side as its knob ``resolution``).
IMPORT_RESOLUTION = 224


def load(ref: SpecRef) -> OnnxModelRef:
    """The front end of ``.onnx`` SPECs (:mod:`.registry`): the file, read and checked, and
    the settings after ``path:`` (``resolution=160``, or ``height=..,width=..``)."""
    path = ref.target
    shown = shown_path(path)
    for key, _ in ref.settings:
        if key not in KNOBS:
            raise CostModelError(f"{shown}: an ONNX file has no knob '{printable(key)}'; set "
                                 f"the input size with resolution= (or height= and width=)")
    model = read_model(path)
    # the file name is the model's name in tables: one printable line
    return OnnxModelRef(path, printable(Path(path).stem), ref.settings, model, shown)


def load_spec(path: str | Path, rest: str = "") -> OnnxModelRef:
    """:func:`load` of the file ``path`` with the settings ``rest`` (``resolution=160``),
    read by the SPEC grammar's :func:`~costmodel.spec.ref.parse_settings`."""
    text = f"{path}:{rest}" if rest else str(path)
    return load(SpecRef("onnx", str(path), "", parse_settings(rest, text), text))


@dataclass(frozen=True)
class OnnxModelRef:
    """A resolved ``model.onnx[:resolution=R]`` SPEC, as :class:`costmodel.zoo.ModelRef`:
    ``name``, ``build(**overrides)`` and ``config()``."""

    path: str
    name: str
    values: tuple[tuple[str, str], ...]
    model: Any  # onnx.ModelProto, checked by read_model
    shown: str = ""  # the path as messages quote it

    @property
    def quoted(self) -> str:
        return self.shown or shown_path(self.path)

    def config(self) -> dict[str, Any]:
        """The input size the file will be counted at: ``resolution`` for a square input,
        else ``height`` and ``width``."""
        fixed = input_dims(self.model, self.quoted)
        if len(fixed) == 3:
            return {"length": self._sizes(dict(self.values), fixed)[0]}
        height, width = self._input_size(dict(self.values), fixed[-2:])
        return {"resolution": height} if height == width else {"height": height,
                                                               "width": width}

    def dynamic_axes(self) -> list[str]:
        """The input's sides ("height", "width") that the file leaves dynamic and the SPEC
        does not set."""
        fixed, settings = input_dims(self.model, self.quoted)[-2:], dict(self.values)
        return [key for key, dim in zip(("height", "width"), fixed)
                if not isinstance(dim, int) and key not in settings
                and "resolution" not in settings]

    def build_for_import(self) -> tuple[Network, str]:
        """The network ``costmodel import`` writes, and what its file says it came from: a
        dynamic input side the SPEC leaves open is taken as :data:`IMPORT_RESOLUTION`, and
        the origin says so (the written file keeps the side as its knob)."""
        dynamic = self.dynamic_axes()
        if not dynamic:
            return self.build(), ""
        size = {key: IMPORT_RESOLUTION for key in dynamic}
        origin = (f"its dynamic input {' and '.join(dynamic)} taken as {IMPORT_RESOLUTION}, "
                  f"costmodel's default; give :resolution=R to check the file at another size")
        return self.build(**size), origin

    def build(self, input_shape: tuple[int, ...] | None = None, **overrides: Any) -> Network:
        """The network at the SPEC's input size, ``overrides`` (resolution, height, width),
        or ``input_shape`` N,C,H,W (the ``--input`` option; a size the SPEC sets wins, and
        counts are per sample whatever N is). A sequence (N×C×L) or video (N×C×T×H×W) file
        is counted at its own fixed sizes, or at an ``--input`` of its rank; for video,
        resolution/height/width set the last two axes."""
        settings = {**dict(self.values), **overrides}
        fixed = input_dims(self.model, self.quoted)
        if input_shape is not None:
            if len(input_shape) != len(fixed):
                raise CostModelError(f"{self.quoted} takes a {len(fixed)}-dimensional input "
                                     f"({_layout(len(fixed))}); --input gives "
                                     f"{len(input_shape)} numbers")
            channels = input_shape[1]
            if channels != fixed[1]:
                raise CostModelError(f"{self.quoted} takes {fixed[1]}-channel input; --input "
                                     f"gives C={channels}")
            if not set(KNOBS) & set(settings):
                fixed = [*fixed[:2], *input_shape[2:]]
                if len(fixed) >= 4:
                    settings.update(height=input_shape[-2], width=input_shape[-1])
        for key in settings:
            if key not in KNOBS:
                raise CostModelError(f"{self.name}: an ONNX file has no knob "
                                     f"'{printable(key)}'; its knobs are: {', '.join(KNOBS)}")
        sizes = self._sizes(settings, fixed)
        inferred = infer_shapes(self.model, self.quoted, sizes)
        return translate(inferred, self.quoted, self.name, self.config_for(*sizes[-2:])
                         if len(sizes) >= 2 else (), Path(self.path).parent)

    def _sizes(self, settings: dict[str, Any], fixed: list[Any]) -> tuple[int, ...]:
        """Every spatial size: the image's height and width by :meth:`_input_size`, and
        for a sequence or the time axis of a video, the file's (or ``--input``'s) number."""
        if len(fixed) == 4:
            return self._input_size(settings, fixed[2:])
        if len(fixed) == 3 and settings:
            raise CostModelError(f"{self.quoted}: a sequence input (N×C×L) has no height or "
                                 "width; give its length with --input 1,C,L")
        leading = fixed[2:3] if len(fixed) == 5 else fixed[2:]
        for dim in leading:
            if not isinstance(dim, int):
                raise CostModelError(f"{self.quoted}: the input's length is dynamic "
                                     f"('{printable(dim)}' in the file); give the input size "
                                     f"with --input ({_layout(len(fixed))})")
        sides = tuple(_side(dim, "length", self.quoted) for dim in leading)
        return sides + (self._input_size(settings, fixed[3:]) if len(fixed) == 5 else ())

    @staticmethod
    def config_for(height: int, width: int) -> tuple[tuple[str, Any], ...]:
        from sympy import Integer

        if height == width:
            return (("resolution", Integer(height)),)
        return (("height", Integer(height)), ("width", Integer(width)))

    def _input_size(self, settings: dict[str, Any], fixed: list[Any]) -> tuple[int, int]:
        """Height and width: from the SPEC's values, else ``fixed``, the file's (or
        ``--input``'s) last two input dims."""
        sides = []
        for axis, key in enumerate(("height", "width")):
            given = settings.get(key, settings.get("resolution"))
            if given is None:
                if not isinstance(fixed[axis], int):
                    raise CostModelError(
                        f"{self.quoted}: the input's {key} is dynamic "
                        f"('{printable(fixed[axis])}' in the file); give the input size, e.g. "
                        f"{self.quoted}:resolution=224 or --input 1,C,224,224")
                given = fixed[axis]
            sides.append(_side(given, key if key in settings else "resolution", self.quoted))
        return sides[0], sides[1]


def _layout(dims: int) -> str:
    return {3: "N,C,L", 4: "N,C,H,W", 5: "N,C,T,H,W"}[dims]


def _side(value: Any, key: str, path: str) -> int:
    """An input side in pixels: a whole number >= 1 (text from the command line, or a
    number). A sympy symbol asks for a closed form, which goes through a spec file."""
    if getattr(value, "free_symbols", None):
        raise CostModelError(f"{path}: an ONNX file is counted at a numeric input size; for "
                             f"a closed form in the resolution write it as a spec file "
                             f"(costmodel import {path} -o net.cm) and derive that")
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text[:20]) < 1:
        raise CostModelError(f"{path}: {key} must be a whole number >= 1; received "
                             f"{key}={excerpt(text)}")
    if len(text.lstrip("0")) > len(str(MAX_SIDE)) or int(text) > MAX_SIDE:
        raise CostModelError(f"{path}: {key} must be at most {MAX_SIDE:,} (ONNX's 64-bit "
                             f"dims must hold H×W); received {key}={excerpt(text)}")
    return int(text)
