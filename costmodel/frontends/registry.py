"""Every source of a network behind one protocol: a SPEC string names it, a front end reads it.

:func:`costmodel.spec.ref.parse_ref` parses the string (the one grammar) into a
:class:`~costmodel.spec.ref.SpecRef` of some ``kind``; the :class:`FrontEnd` of that kind
loads it into a :class:`Model`: a ``name``, its settings (``config()``) and
``build(input_shape=None, **overrides) -> Network``, where ``input_shape`` is ``--input``'s
N,C,H,W (a layer-spec model takes H×W as its size knobs; a traced module or an ONNX file runs
at it) and ``overrides`` are knob or input-size values. Every front end takes both, so no
caller asks which one it has.

The ``.py`` and ``.onnx`` front ends import torch or onnx, so they are imported when a SPEC
names such a file, not before: ``import costmodel`` and the layer-spec commands stay free of
them; a missing one is one line saying what to install.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..core.network import Network
from ..spec.ref import SpecRef, parse_ref


class Model(Protocol):
    """What a front end makes of a SPEC."""

    @property
    def name(self) -> str: ...

    def config(self) -> dict[str, Any]:
        """The settings the model is counted at (knob values, defaults filled in)."""

    def build(self, input_shape: Sequence[int] | None = None, **overrides: Any) -> Network:
        """The network, at ``input_shape`` (N,C,H,W) where given; a size the SPEC or
        ``overrides`` set wins over it."""


@dataclass(frozen=True)
class FrontEnd:
    """The reader of one kind of SPEC (:data:`costmodel.spec.ref.KINDS`)."""

    kind: str
    #: what it reads, as the README and help say it
    reads: str
    load: Callable[[SpecRef], Model]
    #: what loading it is doing, for the one-line error when its optional dependency is
    #: missing ("" for the layer-spec front end, which needs none)
    doing: str = ""


def _layer_spec(ref: SpecRef) -> Model:
    from ..zoo import load
    return load(ref)


def _python(ref: SpecRef) -> Model:
    from .torch_file import load  # imports torch
    return load(ref)


def _onnx(ref: SpecRef) -> Model:
    from .onnx_file import load  # imports onnx when the file is read
    return load(ref)


#: by kind; every kind of :data:`costmodel.spec.ref.KINDS` has one (tests/test_spec_ref.py)
FRONT_ENDS: dict[str, FrontEnd] = {front_end.kind: front_end for front_end in (
    FrontEnd("zoo", "a built-in model by name, with knob values", _layer_spec),
    FrontEnd("cm", "an architecture file in the layer-spec language (data: never run)",
             _layer_spec),
    FrontEnd("python", "a function in the user's Python file returning an nn.Module, traced "
             "(the file runs; needs torch)", _python, "counting a PyTorch module"),
    FrontEnd("onnx", "an ONNX file, read as data (needs onnx)", _onnx,
             "reading an ONNX file"),
)}


def resolve(text: str) -> Model:
    """The model any SPEC string names (see :mod:`costmodel.spec.ref`)."""
    from ..zoo import parse_ref_naming_models

    ref = parse_ref_naming_models(text)
    front_end = FRONT_ENDS[ref.kind]
    if not front_end.doing:
        return front_end.load(ref)
    from ..extras import missing_from

    try:
        return front_end.load(ref)
    except ModuleNotFoundError as exc:  # an optional dependency not installed: one line
        error = missing_from(exc, f"{ref.target}: {front_end.doing}")
        if error is None:
            raise
        raise error from None


def build_spec(text: str, input_shape: Sequence[Any] | None = None) -> Network:
    """Resolve and build a SPEC, at ``--input`` N,C,H,W where given: one shape, or a tuple
    of shapes (``--input`` repeated) for a model whose ``several_inputs`` is true (a traced
    module's forward). Counts are per image whatever N is; N > 1 adds a ``per_image``
    warning saying so."""
    from dataclasses import replace

    from ..core.warnings import per_image
    from ..errors import CostModelError
    from ..limits import MAX_QUOTED_PATH_CHARS
    from ..safe_io import printable

    shape = None if input_shape is None else tuple(input_shape)
    several = bool(shape) and isinstance(shape[0], (tuple, list))
    if several and len(shape) == 1:
        shape, several = tuple(shape[0]), False
    model = resolve(text)
    if several and not getattr(model, "several_inputs", False):
        raise CostModelError(f"{printable(text, MAX_QUOTED_PATH_CHARS)} takes one input; "
                             f"--input was given {len(shape)} times (several inputs are for "
                             "a PyTorch module, my_net.py:factory, whose forward takes them)")
    if shape is not None and not several and not getattr(model, "several_inputs", False) \
            and not 3 <= len(shape) <= 5:
        raise CostModelError(f"{printable(text, MAX_QUOTED_PATH_CHARS)} takes --input N,C,H,W "
                             f"(N,C,L for a sequence, N,C,T,H,W for video), not "
                             f"{len(shape)} numbers")
    network = model.build(input_shape=shape)
    batch = (shape[0][0] if several else shape[0]) if shape is not None else 1
    if batch > 1:
        network = replace(network, warnings=(*network.warnings, per_image(batch)))
    return network
