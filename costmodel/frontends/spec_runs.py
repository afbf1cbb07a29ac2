"""Repeated runs found from the graph alone, for networks whose layer names show no structure
(``conv_0``, ``relu_1``...: an ONNX file from a framework that keeps no module paths).

A chain of items is cut at every item boundary (each is a single feature map). From each
position, the shortest window of ``L`` items that repeats at once, the same up to its numbers
(``dw`` + ``pw`` of MobileNet v1, a residual unit and its ReLU), and its repeats become
anonymous groups, which the block finder
then writes as one block with parameters; a window that finds no partner is inlined again.
The layers inside take the builder's names (``unit3.conv1``): the original names carried no
structure to keep.
"""

from __future__ import annotations

from collections.abc import Callable

from .spec_text import Branches, Call, Group, Residual


#: The longest unit looked for, in items (a chain of n items costs O(n · MAX_WINDOW²)).
MAX_WINDOW = 32


def _substantial(window: tuple) -> bool:
    """Worth a block: two items or more, or one with branches (one repeated line is n=)."""
    return len(window) >= 2 or isinstance(window[0], (Residual, Branches))


def repeated_runs(items: tuple, key: Callable[[object], str]) -> tuple:
    """``items`` (and every chain inside them) with repeated runs as anonymous groups named
    ``unit1``, ``unit2``... in order; ``key`` is an item's text without its numbers. Shorter
    windows go first over the whole chain, so that a unit is found before runs of units."""
    items = tuple(_inside(item, key) for item in items)
    keys = [None if isinstance(item, (Group, Call)) else key(item) for item in items]
    used = [False] * len(items)
    runs: dict[int, tuple[int, int]] = {}  # start -> (windows, length)
    for length in range(1, min(len(items) // 2, MAX_WINDOW) + 1):
        i = 0
        while i + 2 * length <= len(items):
            window = keys[i:i + length]
            if any(used[i:i + length]) or None in window or \
                    not _substantial(items[i:i + length]):
                i += 1
                continue
            windows = 1
            while (keys[i + windows * length:i + (windows + 1) * length] == window
                   and not any(used[i + windows * length:i + (windows + 1) * length])):
                windows += 1
            if windows < 2:
                i += 1
                continue
            runs[i] = (windows, length)
            used[i:i + windows * length] = [True] * (windows * length)
            i += windows * length
    for i, item in enumerate(items):  # a lone unit with branches may match a run elsewhere
        if not used[i] and keys[i] is not None and _substantial((item,)):
            runs[i] = (1, 1)
    out, i, count = [], 0, 0
    while i < len(items):
        if i not in runs:
            out.append(items[i])
            i += 1
            continue
        windows, length = runs[i]
        for j in range(windows):
            count += 1
            out.append(Group(f"unit{count}", items[i + j * length:i + (j + 1) * length], True))
        i += windows * length
    return tuple(out)


def _inside(item, key):
    if isinstance(item, Residual):
        return Residual(item.add, repeated_runs(item.body, key),
                        None if item.shortcut is None else repeated_runs(item.shortcut, key))
    if isinstance(item, Branches):
        return Branches(item.merge, tuple((name, repeated_runs(body, key))
                                          for name, body in item.branches))
    if isinstance(item, Group) and not item.anonymous:
        return Group(item.name, repeated_runs(item.items, key))
    return item


def inline_groups(items: tuple) -> tuple:
    """Anonymous groups that became no block, replaced by their items."""
    out = []
    for item in items:
        if isinstance(item, Group) and item.anonymous:
            out.extend(inline_groups(item.items))
        elif isinstance(item, Group):
            out.append(Group(item.name, inline_groups(item.items)))
        elif isinstance(item, Residual):
            out.append(Residual(item.add, inline_groups(item.body),
                                None if item.shortcut is None else inline_groups(item.shortcut)))
        elif isinstance(item, Branches):
            out.append(Branches(item.merge, tuple((name, inline_groups(body))
                                                  for name, body in item.branches)))
        else:
            out.append(item)
    return tuple(out)
