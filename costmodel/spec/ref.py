"""The SPEC string: how the command line and the API name a network.

:func:`spec_string` writes a model and its knob values as one
(``mobilenet_v1:alpha=0.75,resolution=224``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def spec_string(model: str, config: Mapping[str, Any]) -> str:
    """``mobilenet_v1:alpha=0.75,resolution=224``: a model and knob values as a SPEC
    (``1.0`` is written ``1``; ``0.75`` is read back exactly as 3/4)."""
    if not config:
        return model
    return model + ":" + ",".join(f"{key}={_knob_text(value)}" for key, value in config.items())


def _knob_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
