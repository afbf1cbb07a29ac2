"""Front ends: networks from other sources, and networks to other frameworks.

* :func:`to_torch` (``torch_build``): a SPEC as a PyTorch ``nn.Module``, layer for layer;
* :func:`count_torch` (``torch_trace``): a user's ``nn.Module`` traced into a Network, the
  same value a spec builds, so every analysis works on it; also the ``file.py:factory`` SPEC;
* :mod:`.to_spec`: any network written back as a layer-spec file (``costmodel import``);
* :mod:`.onnx_file`: an ONNX file as a Network, the ``model.onnx[:resolution=R]`` SPEC
  (imports onnx only when a SPEC names one);
* :mod:`.registry`: every kind of SPEC behind one protocol, :func:`resolve` (SPEC -> a model
  with ``build(input_shape=None, **overrides)``) and :func:`build_spec`.

Nothing here imports torch until one of these is called: ``import costmodel`` and every command
that does not need torch stay free of it.
"""

from __future__ import annotations

from typing import Any

from ..errors import CostModelError
from ..limits import MAX_NUMBER_DIGITS, excerpt
from .registry import FRONT_ENDS, FrontEnd, Model, build_spec, resolve

__all__ = ["FRONT_ENDS", "FrontEnd", "Model", "build_spec", "count_torch", "first_input",
           "is_several", "parse_input_shape", "per_sample", "resolve", "to_torch"]


def to_torch(spec: Any, **kwargs: Any):
    """See :func:`costmodel.frontends.torch_build.to_torch`."""
    from .torch_build import to_torch as build
    return build(spec, **kwargs)


def count_torch(module: Any, input_shape: Any = (1, 3, 224, 224), **kwargs: Any):
    """See :func:`costmodel.frontends.torch_trace.count_torch`."""
    from .torch_trace import count_torch as count
    return count(module, input_shape, **kwargs)


def parse_input_shape(text: str) -> tuple[int, ...]:
    """``1,3,224,224`` (N,C,H,W; N,C,L for a sequence, N,C,T,H,W for video, N,F for
    features: N and 1 to MAX_INPUT_RANK − 1 sizes) as ints; anything else is a user error
    saying so."""
    from ..limits import MAX_INPUT_RANK

    parts = [part.strip() for part in text.replace("x", ",").replace("×", ",").split(",")]
    if not 2 <= len(parts) <= MAX_INPUT_RANK or not all(
            part.isascii() and part.isdigit() and len(part) <= MAX_NUMBER_DIGITS
            and int(part) > 0 for part in parts):
        raise CostModelError(f"--input takes N,C,H,W as positive whole numbers (at most "
                             f"{MAX_NUMBER_DIGITS} digits each), e.g. 1,3,224,224 (N,C,L "
                             f"for a sequence, N,C,T,H,W for video; N and up to "
                             f"{MAX_INPUT_RANK - 1} sizes for a traced module); received "
                             f"--input {excerpt(text)}")
    return tuple(int(part) for part in parts)


def is_several(shape: Any) -> bool:
    """Whether ``shape`` (an ``input_shape``) is several shapes, not one."""
    return bool(shape) and isinstance(shape[0], (tuple, list))


def first_input(shape: Any) -> tuple[int, ...] | None:
    """The first of several shapes, or the one shape (None stays None)."""
    return tuple(shape[0]) if is_several(shape) else shape


def per_sample(shape: Any) -> Any:
    """``shape`` (one or several) with each input's batch N set to 1."""
    if shape is None:
        return None
    if is_several(shape):
        return tuple((1, *s[1:]) for s in shape)
    return (1, *shape[1:])
