"""count_torch's reading of a window partition written as views and a permute, as
torchvision's MaxViT writes it (``WindowPartition`` and ``WindowDepartition`` in
``models/maxvit.py``), into the registry's ``window`` and ``unwindow`` ops:

* partition, of an N×C×H×W map: ``reshape(N, C, H/P, P, W/P, P)``, then
  ``permute(0, 2, 4, 3, 5, 1)`` (the ``window`` layer, k = P: N×(H/P)×(W/P)×P×P×C is its
  windows of P² tokens), then ``reshape(N, nW, P², C)``, a free view of the windows;
* departition, of N×nW×P²×C windows: ``reshape(N, HP, WP, P, P, C)`` (the ``unwindow``
  layer to the HP·P × WP·P map, channels last), ``permute(0, 5, 1, 3, 2, 4)``, then
  ``reshape(N, C, H, W)`` (the ``channels_first`` layer).

The steps between are pending layouts of a :class:`~.torch_rules.Value` (as a channel
shuffle's are in :func:`.torch_rules.reshape`): the map's shape with its torch size and a tag.
MaxViT's grid partition is this partition with P = H/7, then ``swapaxes(-2, -3)``, a free
move of the windows' axes: attention then runs over the 7×7 tokens P apart. Nothing here
computes: every layer is data movement.
"""

from __future__ import annotations

from math import isqrt

from .torch_rules import Alias, Emit, Value

SPLIT = "window_split"  # N×C×H/P×P×W/P×P: a map's sides cut in P-long pieces
TO_FIRST = "to_channels_first"  # N×C×HP×P×WP×P: the map, channels first, sides still cut


def _last(x: Value) -> bool:
    return x.shape is not None and x.shape.layout == "last"


def partition_step(x: Value, out_size: tuple[int, ...], how: str,
                   dims: tuple[int, ...]) -> Alias | Emit | None:
    """The step of a partition or departition ``x`` → ``out_size`` takes, or None when this
    view or permute is not one (``dims``: a permute's order, each in range)."""
    if x.shape is None:
        return None
    tag = x.layout[0] if x.layout else None
    if how in ("view", "reshape"):
        return _viewed(x, tuple(int(s) for s in out_size), tag)
    if how == "permute" and len(x.size) == 6:
        if tag == SPLIT and dims == (0, 2, 4, 3, 5, 1):
            source, p = x.layout[1], x.layout[2]
            return Emit("window", (Value(x.shape, source),), {"k": p})
        size = tuple(int(s) for s in x.size)
        if tag is None and _last(x) and x.shape.rank == 2 and dims == (0, 5, 1, 3, 2, 4) \
                and (int(x.shape.sizes[0]), int(x.shape.sizes[1])) == \
                (size[1] * size[3], size[2] * size[4]):  # the unwindow layer's output
            flat = (size[0], size[1] * size[3], size[2] * size[4], size[5])
            return Alias(Value(x.shape, tuple(out_size), (TO_FIRST, flat)))
    return None


def _viewed(x: Value, out: tuple[int, ...], tag: str | None) -> Alias | Emit | None:
    size = tuple(int(s) for s in x.size)
    if tag is None and not _last(x) and len(size) == 4 and len(out) == 6 \
            and out[:2] == size[:2] and out[3] == out[5] \
            and out[2] * out[3] == size[2] and out[4] * out[5] == size[3]:
        return Alias(Value(x.shape, out, (SPLIT, size, out[3])))
    if tag is None and _last(x) and x.shape.rank == 2 and len(size) == 4 and len(out) == 6 \
            and out[0] == size[0] and out[5] == size[3] and out[3] == out[4] \
            and out[1] * out[2] == size[1] and out[3] * out[4] == size[2] \
            and isqrt(size[2]) ** 2 == size[2]:
        h, w = out[1] * out[3], out[2] * out[4]
        return Emit("unwindow", (x,), {"size": (h, w) if h != w else h})
    if tag == TO_FIRST and len(out) == 4 and out[:2] == size[:2] \
            and (out[2], out[3]) == (size[2] * size[3], size[4] * size[5]):
        source = x.layout[1]
        return Emit("channels_first", (Value(x.shape, source),))
    return None
