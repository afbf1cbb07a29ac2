"""Random synthetic networks for the in-context calibration step.

A kernel timed alone, called again and again on the same tensors, runs hot: its input,
weights and output buffer stay in the caches and the allocator hands back the same pages.
Inside a network every layer writes a freshly allocated map the next one reads, and on this
machine that costs a large share (a network measured 1.3–2.3× the sum of its layers timed
alone). Calibration therefore also times a few random networks built from the zoo's blocks
(random stems, widths, depths, block types, resolutions; never a zoo network) and fits what
the kernel sum misses: seconds per byte a kernel writes and per layer stepped
(:func:`costmodel.kernels.calibration.fit_context`).
"""

from __future__ import annotations

import random

BLOCKS = ("inverted_residual", "bneck", "basic", "bottleneck", "shufflenet_v2_unit",
          "dwsep", "bottleneck_dw")


def _width(rng: random.Random, base: int, multiple: int = 8) -> int:
    return max(multiple, int(base * rng.uniform(0.5, 1.6)) // multiple * multiple)


def _stage(kind: str, c: int, n: int, s: int, rng: random.Random) -> str:
    act = rng.choice(("relu", "relu6", "hswish"))
    if kind == "inverted_residual":
        return f"inverted_residual {rng.choice((3, 4, 6))} {c} n={n} s={s} act={act}"
    if kind == "bneck":
        return (f"bneck {rng.choice((3, 5))} {c * rng.choice((3, 4, 6))} {c} "
                f"{rng.choice((0, 1))} {act} {s} n={n}")
    if kind == "basic":
        return f"basic {c} s={s} n={n}"
    if kind == "bottleneck":
        groups = rng.choice((1, 1, 8, 32))
        mid = max(groups, c // 4 // groups * groups) if groups > 1 else max(8, c // 4)
        return f"bottleneck {c} {mid} s={s} g={groups} n={n}"
    if kind == "shufflenet_v2_unit":
        return f"shufflenet_v2_unit {c // 2 * 2} s={s} n={n}"
    if kind == "bottleneck_dw":
        return f"bottleneck_dw {c // 2} {c} s={s} n={n}"
    return f"dwsep {c} s={s} n={n}"


def network_text(rng: random.Random, index: int) -> str:
    """A random network in the spec language: a stem, three or four stages, a head."""
    side = rng.choice((96, 128, 160, 192, 224))
    width = side if rng.random() < 0.7 else rng.choice((96, 128, 160, 192, 224))
    c = _width(rng, 24)
    lines = [f"model synthetic_{index}", f"input 3 {side} {width}",
             f"conv {c} k=3 s=2 bn=1 act=relu name=stem"]
    if rng.random() < 0.4:
        lines.append("maxpool 3 s=2 p=1")
    for depth in range(rng.choice((3, 4))):
        c = _width(rng, c * 2 if depth else c * 1.5)
        kind = rng.choice(BLOCKS)
        lines.append(_stage(kind, c, rng.choice((1, 2, 3)), 2 if depth else 1, rng))
    lines += [f"pw {_width(rng, 2 * c)} bn=1 act=relu name=head", "gap", "fc 1000"]
    return "\n".join(lines) + "\n"


def networks(count: int, seed: int = 0):
    """``count`` random networks that build (a draw the grammar refuses is drawn again)."""
    from ..spec import build, parse_text

    rng = random.Random(seed)
    out, index = [], 0
    while len(out) < count and index < 50 * count:
        text = network_text(rng, index)
        index += 1
        try:
            out.append(build(parse_text(text)))
        except Exception:  # noqa: BLE001  (a random draw the grammar or a block refuses)
            continue
    return out
