"""costmodel: exact, symbolic cost models of convolutional networks.

Describe an architecture in the layer-spec language (or pick one from the zoo) and get the
multiply-accumulates (MACs; 1 MAC = 2 FLOPs), parameters and activations of every layer as
exact sympy expressions, evaluated at any width multiplier, group count and resolution.

>>> from costmodel import zoo
>>> zoo.build("mobilenet_v1").macs()
568740352
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``costmodel.to_torch`` and ``costmodel.count_torch``, imported on first use so that
    ``import costmodel`` never imports torch."""
    if name in ("to_torch", "count_torch"):
        from . import frontends
        return getattr(frontends, name)
    raise AttributeError(f"module 'costmodel' has no attribute {name!r}")
