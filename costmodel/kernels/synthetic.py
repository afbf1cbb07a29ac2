"""Random synthetic networks for the in-context calibration step.

A kernel timed alone runs hot (:mod:`.incontext`); inside a network it does not, and on this
machine a network takes 1.1–1.5× the sum of its layers timed alone. Calibration therefore
also runs random networks built from the zoo's blocks (random stems, widths, depths, block
types, resolutions and heads; never a zoo network): on PyTorch each layer is timed inside
them, a kernel sample in context (:mod:`.incontext`), and every runtime times them whole
for what the kernels leave (:func:`costmodel.kernels.calibration.fit_context`).
"""

from __future__ import annotations

import random

BLOCKS = ("inverted_residual", "bneck", "basic", "bottleneck", "shufflenet_v2_unit",
          "dwsep", "bottleneck_dw", "shufflenet_unit", "fire", "plain", "sepconv", "inception")


def _width(rng: random.Random, base: int, multiple: int = 8) -> int:
    return max(multiple, int(base * rng.uniform(0.5, 1.6)) // multiple * multiple)


def _stage(kind: str, c: int, n: int, s: int, rng: random.Random, cin: int) -> str:
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
    if kind == "shufflenet_unit":
        # a stage opens with a stride-2 unit whose concat widens cin to c (as ShuffleNet v1's)
        # (the grouped 1x1 after the concat needs c − cin and c / 4 divisible by the groups)
        groups = rng.choice([g for g in (2, 3, 4, 8) if cin % g == 0] or [1])
        block = 4 * groups
        c = -(-max(cin + block, c) // block) * block
        return f"shufflenet_unit {c} {groups} s=2 n={n}"
    if kind == "fire":
        squeeze = max(8, c // 8 // 8 * 8)
        return "\n".join([f"maxpool 3 s=2"] * (s == 2) + [f"fire {squeeze} {c // 2} {c // 2} n={n}"])
    if kind == "plain":  # VGG's and AlexNet's: convolutions with bias, no batch norm
        k = rng.choice((3, 3, 5))
        return "\n".join([f"conv {c} k={k} bias=1 act=relu n={n}"] + ["maxpool 2"] * (s == 2))
    if kind == "sepconv":
        return "\n".join([f"sepconv {c} n={n}"] + ["maxpool 3 s=2 p=1"] * (s == 2))
    if kind == "inception":
        q = max(8, c // 8 // 8 * 8)
        return "\n".join(["maxpool 3 s=2 p=1"] * (s == 2) + [
            f"inception {2 * q} {2 * q} {3 * q} {q // 2 // 8 * 8 or 8} {q} {q} n={n}"])
    return f"dwsep {c} s={s} n={n}"


def network_text(rng: random.Random, index: int) -> str:
    """A random network in the spec language: a stem, three or four stages, a head."""
    side = rng.choice((96, 128, 160, 192, 224, 256))
    width = side if rng.random() < 0.7 else rng.choice((96, 128, 160, 192, 224, 256))
    # a third are wide (ResNet-50's 2048 channels, Xception's 728 at a tenth of the input
    # side): heavy weights, whose cold reads are much of what such a network costs
    c = _width(rng, 24 * (rng.choice((2, 3, 4)) if rng.random() < 1 / 3 else 1))
    lines = [f"model synthetic_{index}", f"input 3 {side} {width}",
             f"conv {c} k=3 s=2 bn=1 act=relu name=stem"]
    if rng.random() < 0.4:
        lines.append("maxpool 3 s=2 p=1")
    for depth in range(rng.choice((3, 4))):
        cin, c = c, _width(rng, c * 2 if depth else c * 1.5)
        kind = rng.choice(BLOCKS)
        lines.append(_stage(kind, c, rng.choice((1, 2, 3, 4, 6)), 2 if depth else 1, rng, cin))
        if kind == "shufflenet_unit":
            c = int(lines[-1].split()[1])
    if rng.random() < 0.25:  # AlexNet's and VGG's head: a pool to a small map, wide FC layers
        hidden = rng.choice((1024, 2048, 4096))
        lines += [f"adaptivepool {rng.choice((2, 3, 4))}",
                  f"fc {hidden} act=relu", f"fc {hidden} act=relu", "fc 1000"]
    else:
        lines += [f"pw {_width(rng, 2 * c)} bn=1 act=relu name=head", "gap", "fc 1000"]
    return "\n".join(lines) + "\n"


#: the most multiply-accumulates of a synthetic network: a forward pass in a tenth of a second
MAX_MACS = 2 * 10**9


def networks(count: int, seed: int = 0):
    """``count`` random networks that build, of at most ``MAX_MACS`` (a draw the grammar
    refuses, or larger, is drawn again)."""
    from ..spec import build, parse_text

    rng = random.Random(seed)
    out, index = [], 0
    while len(out) < count and index < 50 * count:
        text = network_text(rng, index)
        index += 1
        try:
            network = build(parse_text(text))
        except Exception:  # noqa: BLE001  (a random draw the grammar or a block refuses)
            continue
        if int(network.macs()) <= MAX_MACS:
            out.append(network)
    return out
