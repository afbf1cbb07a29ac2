"""Front ends: networks from other sources, and networks to other frameworks.

* :func:`to_torch` (``torch_build``): a SPEC as a PyTorch ``nn.Module``, layer for layer;
* :func:`count_torch` (``torch_trace``): a user's ``nn.Module`` traced into a Network, the
  same value a spec builds, so every analysis works on it; also the ``file.py:factory`` SPEC;
* :mod:`.to_spec`: any network written back as a layer-spec file (``costmodel import``).

Nothing here imports torch until one of these is called: ``import costmodel`` and every command
that does not need torch stay free of it.
"""

from __future__ import annotations

from typing import Any


def to_torch(spec: Any, **kwargs: Any):
    """See :func:`costmodel.frontends.torch_build.to_torch`."""
    from .torch_build import to_torch as build
    return build(spec, **kwargs)


def count_torch(module: Any, input_shape: Any = (1, 3, 224, 224), **kwargs: Any):
    """See :func:`costmodel.frontends.torch_trace.count_torch`."""
    from .torch_trace import count_torch as count
    return count(module, input_shape, **kwargs)
