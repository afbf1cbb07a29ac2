"""Front ends: networks from other sources, and networks to other frameworks.

* :func:`to_torch` (``torch_build``): a SPEC as a PyTorch ``nn.Module``, layer for layer;
* :func:`count_torch` (``torch_trace``): a user's ``nn.Module`` traced into a Network, the
  same value a spec builds, so every analysis works on it; also the ``file.py:factory`` SPEC;
* :mod:`.to_spec`: any network written back as a layer-spec file (``costmodel import``);
* :mod:`.onnx_file`: an ONNX file as a Network, the ``model.onnx[:resolution=R]`` SPEC
  (registered in :data:`costmodel.zoo.FRONT_ENDS`; imports onnx only when a SPEC names one).

Nothing here imports torch until one of these is called: ``import costmodel`` and every command
that does not need torch stay free of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import CostModelError
from ..limits import MAX_NUMBER_DIGITS, excerpt


def to_torch(spec: Any, **kwargs: Any):
    """See :func:`costmodel.frontends.torch_build.to_torch`."""
    from .torch_build import to_torch as build
    return build(spec, **kwargs)


def count_torch(module: Any, input_shape: Any = (1, 3, 224, 224), **kwargs: Any):
    """See :func:`costmodel.frontends.torch_trace.count_torch`."""
    from .torch_trace import count_torch as count
    return count(module, input_shape, **kwargs)


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``1,3,224,224`` (N,C,H,W; N,C,L for a sequence, N,C,T,H,W for video) as ints;
    anything else is a user error saying so."""
    parts = [part.strip() for part in text.replace("x", ",").replace("×", ",").split(",")]
    if not 3 <= len(parts) <= 5 or not all(part.isascii() and part.isdigit() and
                                           len(part) <= MAX_NUMBER_DIGITS and int(part) > 0
                                           for part in parts):
        raise CostModelError(f"--input takes N,C,H,W as four positive whole numbers (at most "
                             f"{MAX_NUMBER_DIGITS} digits each), e.g. 1,3,224,224 (N,C,L "
                             f"for a sequence, N,C,T,H,W for video); received --input "
                             f"{excerpt(text)}")
    return tuple(int(part) for part in parts)


def build_spec(text: str, input_shape: Sequence[int] | None = None):
    """Resolve and build a SPEC, with ``--input`` N,C,H,W where given: a traced module is run
    on that input; a spec (zoo model or ``.cm`` file) takes H×W as its input (its
    ``resolution`` when H = W, else its ``height`` and ``width`` knobs; a size the SPEC sets
    itself wins) and must take C input channels.
    Counts are per image whatever N is; N > 1 adds a ``per_image`` warning saying so."""
    from dataclasses import replace

    from ..core.warnings import per_image

    network = _build_spec(text, input_shape)
    if input_shape is not None and input_shape[0] > 1:
        network = replace(network, warnings=(*network.warnings, per_image(input_shape[0])))
    return network


def _build_spec(text: str, input_shape: Sequence[int] | None):
    import inspect

    from ..zoo import ModelRef, resolve

    ref = resolve(text)
    if input_shape is None:
        return ref.build()
    if isinstance(ref, ModelRef) and len(input_shape) != 4:
        raise CostModelError(f"{text} sets its input size by knobs (resolution, height, "
                             f"width): --input takes N,C,H,W for it, not "
                             f"{len(input_shape)} numbers; write the sizes in the file's "
                             "input line for a sequence or a video")
    if isinstance(ref, ModelRef):
        n, c, h, w = input_shape
        knobs = {knob.name for knob in ref.spec.knobs}
        given = dict(ref.values)
        if given.keys() & {"resolution", "height", "width"}:
            network = ref.build()  # the SPEC's own size wins
        elif h == w and "resolution" in knobs:
            network = ref.build(resolution=str(h))
        elif {"height", "width"} <= knobs:
            network = ref.build(height=str(h), width=str(w))
        elif "resolution" in knobs:
            raise CostModelError(f"{text} takes a square input (its resolution knob; it has no "
                                 f"height and width knobs); --input gives H={h}, W={w}")
        else:
            raise CostModelError(f"{text} has no resolution knob, so --input cannot set its "
                                 "input size")
        if network.input.c != c:
            raise CostModelError(f"{text} takes {network.input.c}-channel input; --input "
                                 f"gives C={c}")
        return network
    if "input_shape" in inspect.signature(ref.build).parameters:
        return ref.build(input_shape=tuple(input_shape))
    raise CostModelError(f"{text}: this kind of SPEC does not take --input")
