"""Any :class:`~costmodel.core.network.Network` as a readable layer-spec (``.cm``) file.

The front ends (a traced PyTorch module, an ONNX graph) and the zoo all produce a Network;
:func:`network_to_spec` writes it back in the language, so that an imported model gets what a
hand-written file gets: closed forms in the input side R (``costmodel derive``), sweeps and
diffs. The file builds to exactly the same layers: every layer's MACs, params (both
conventions), activations and output shape. That is checked by building the text before it is
returned (:func:`check_round_trip`); a failure is an error, never a silently different file.

How the structure is found:

1. The graph's edges (``Layer.sources``) become nested branches, ``conv``/``bn``/``relu``
   runs become ``bn=1 act=relu`` lines (:mod:`.graph_tree`).
2. Dotted layer names become ``group`` sections, and the branches of an add with one
   pass-through input a ``residual:`` (with a ``shortcut:`` when the other input is a
   projection), so the built layers keep their names wherever the language can express them.
3. Groups that are the same up to their numbers (``layer2.0`` and ``layer3.0`` of a ResNet)
   become one ``block`` whose parameters are the numbers that differ (:mod:`.spec_blocks`).
4. Consecutive equal lines (equal block calls) become one line with ``n=``.

The input is written ``input C resolution resolution`` with ``knob resolution``, so every
size stays symbolic. What does not scale with R is said in the file's notes: an ``fc`` that
reads a whole feature map (its weights grow with R, where a framework's Linear layer fixes
them), an adaptive pool (a fixed output size at every R), a window as large as the map it
reads at the written resolution.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace

from .. import limits
from ..core.network import Network
from ..core.warnings import as_note
from ..errors import CostModelError
from ..safe_io import printable
from .graph_tree import Fork, Line, network_tree
from .spec_blocks import find_blocks
from .spec_text import (IDEALIZED, IDEALIZED_LET, Branches, Group, Residual, Writer,
                        sanitize)


# --- scopes: groups, residuals and branch names from the layer names ------------------------

def _names(item) -> list[str]:
    """The names an item's layers should get (folded modifiers take their line's name)."""
    if isinstance(item, Line):
        return [sanitize(item.layer.name)]
    return ([name for branch in item.branches for x in branch for name in _names(x)]
            + [sanitize(item.merge.name)])


def _common_part(item, prefix: str) -> str | None:
    """The first name part after ``prefix`` that all the item's layers share (each name having
    more after it), or None."""
    parts = set()
    for name in _names(item):
        if not name.startswith(prefix):
            return None
        head, dot, rest = name[len(prefix):].partition(".")
        if not dot or not rest:
            return None
        parts.add(head)
    return parts.pop() if len(parts) == 1 else None


def scoped(items: tuple, prefix: str = "") -> tuple:
    """``items`` with runs that share a name part wrapped in groups, forks as residuals or
    named branches."""
    out, i = [], 0
    while i < len(items):
        part = _common_part(items[i], prefix)
        if part is None:
            out.append(_scoped_item(items[i], prefix))
            i += 1
            continue
        j = i + 1
        while j < len(items) and _common_part(items[j], prefix) == part:
            j += 1
        inner = scoped(items[i:j], f"{prefix}{part}.")
        if len(inner) == 1 and isinstance(inner[0], Line) and \
                re.fullmatch(r"_\d+", _names(inner[0])[0][len(prefix) + len(part) + 1:]):
            # nn.Sequential(conv, bn, relu) named expand.0, expand.1, expand.2: one line
            # named expand, as a spec writes it, rather than a group around a line named _0
            out.append(replace(inner[0], rename=f"{prefix}{part}"))
        else:
            out.append(Group(part, inner))
        i = j
    return tuple(out)


def _branch_part(branch: tuple, prefix: str) -> str | None:
    parts = {_common_part(item, prefix) for item in branch}
    return parts.pop() if len(parts) == 1 else None


def _scoped_item(item, prefix: str):
    if isinstance(item, Line):
        return item
    assert isinstance(item, Fork), item
    merge, branches = item.merge, item.branches
    if merge.op == "add" and len(branches) == 2:
        # residual: (an add is the same whichever input comes first)
        empty = [i for i, b in enumerate(branches) if not b]
        if len(empty) == 1:
            return Residual(merge, scoped(branches[1 - empty[0]], prefix), None)
        if not empty and _shape(merge.output) != _shape(branches[0][0].layers[0].inputs[0]):
            # residual's shortcut runs only where the body changes the shape; a shortcut
            # named so keeps its names, and branches that both have names are left as they are
            named = [i for i, b in enumerate(branches) if _branch_part(b, prefix) == "shortcut"]
            parts = [_branch_part(b, prefix) for b in branches]
            if named or None in parts:
                short = named[0] if named else \
                    min((1, 0), key=lambda i: len(_flat(branches[i])))
                return Residual(merge, scoped(branches[1 - short], prefix),
                                scoped(branches[short], f"{prefix}shortcut."))
    written = []
    for branch in branches:
        part = _branch_part(branch, prefix) if branch else None
        inner = f"{prefix}{part}." if part else f"{prefix}branch."
        written.append((part, scoped(branch, inner)))
    return Branches(merge, tuple(written))


def _flat(items) -> list:
    return [layer for item in items for layer in item.layers]


def _shape(shape) -> tuple:
    return (shape.c, *shape.sizes)


# --- notes on sizes that do not follow the resolution ---------------------------------------

def size_notes(built: Network, symbolic: Network) -> list[str]:
    """Layers of the written file (``built`` at its resolution, ``symbolic`` with R) whose
    sizes do not follow the resolution as the original's layers would."""
    notes = []
    varying = {layer.name: layer for layer in symbolic.layers}
    for layer in built.layers:
        if layer.name not in varying:
            continue
        x, side = layer.inputs[0], varying[layer.name].inputs[0].h
        grows = bool(getattr(side, "free_symbols", ()))
        if layer.op == "fc" and (x.h, x.w) != (1, 1) and grows:
            notes.append(f"{layer.name}: fc reads a {x} map here, whose side follows the "
                         "resolution, so its weights do too; a PyTorch Linear or ONNX Gemm fixes "
                         "them, and the original runs only at the written resolution")
        elif layer.op == "adaptivepool":
            notes.append(f"{layer.name}: adaptivepool gives {layer.output} at every resolution")
        elif layer.op in ("avgpool", "maxpool", "conv") and dict(layer.attrs).get("k") == x.h \
                and (layer.output.h, layer.output.w) == (1, 1) and x.h != 1 and grows:
            notes.append(f"{layer.name}: a {x.h}x{x.h} window covers the whole {x} map at the "
                         "written resolution only (gap would at every resolution)")
    return notes


# --- the file -----------------------------------------------------------------------------------

def network_to_spec(network: Network, source: str | None = None, check: bool = True) -> str:
    """``network`` as the text of a layer-spec file that builds to the same layers.

    ``source`` says where the network came from (shown in the docstring). ``check`` builds the
    text and compares every layer (see :func:`check_round_trip`). A graph the language cannot
    express raises a CostModelError naming the layer."""
    if network.extra_inputs:  # the language's `input` line is the one input of a network
        raise CostModelError(f"{printable(network.name)} takes {len(network.inputs)} inputs; "
                             "a layer-spec file describes a network of one input")
    tree = scoped(network_tree(network))
    blocks, body = find_blocks(tree, flat_names=not any("." in layer.name
                                                        for layer in network.layers))
    shape = network.input
    for side in (shape.c, *shape.sizes):
        if not getattr(side, "is_Integer", isinstance(side, int)):
            raise CostModelError(f"{network.name}: the input {shape} is not numeric; build the "
                                 "network at numbers before writing it")
    square = shape.rank == 2 and shape.h == shape.w
    name = sanitize(network.name).replace(".", "_")
    settings = ", ".join(f"{k}={v}" for k, v in network.config)
    origin = source or network.name + (f" ({settings})" if settings else "")
    # the origin is a file name, from outside: a .cm file holds no control character, and a
    # quote would end the docstring
    origin = printable(origin, limits.MAX_QUOTED_PATH_CHARS).replace('"', "'")
    # a front end's warnings (calls it could not count...) stay warnings of the written file,
    # one line each: a `#` would start a comment, and a quote could end the docstring
    carried = [printable(" ".join(as_note(warning).split()), None).replace("#", "no. ")
               .replace('"', "'") for warning in network.warnings]
    writer = Writer()
    writer.items(body, "", 0)
    body_lines = [line for block in blocks for line in ("", *block.lines)] + [""] + writer.lines

    def assemble(notes: list[str]) -> str:
        doc = [f"{name}: written by `costmodel import` from {origin}.", "",
               f"Built at resolution={shape.h} it has exactly the layers of the original: each "
               "layer's MACs, params (paper and torch conventions), activations and output "
               "shape."]
        if not square:
            sides = "x".join(map(str, shape.sizes))
            what = "not square" if shape.rank == 2 else f"of {shape.rank} spatial axes"
            doc += ["", f"The input is {sides}, {what}: its sides are written "
                        "as numbers, so the counts do not follow a resolution knob."]
        if notes:
            doc += ["", "Sizes that do not follow the resolution:"] + [f"* {n}" for n in notes]
        if carried:
            doc += ["", "The original's warnings (what its front end could not count is not "
                        "in this file either):"] + [f"* {n}" for n in carried]
        # 79 columns: the file reads in an 80-column terminal and editor as it is printed
        doc = [wrapped for paragraph in doc
               for wrapped in (textwrap.wrap(paragraph, 79, subsequent_indent="  " if
                                             paragraph.startswith("* ") else "") or [""])]
        lines = ['"""' + doc[0], *doc[1:], '"""', f"model {name}",
                 f"note Imported from {origin}.", *(f"note {n}" for n in notes),
                 *(f"note {n}" for n in carried)]
        if square:
            lines += [f"knob resolution {shape.h} int min=1    # input side in pixels",
                      f"input {shape.c} resolution resolution"]
        else:
            lines += [f"input {shape.c} {' '.join(map(str, shape.sizes))}"]
        if any(f"{IDEALIZED}(" in line for line in body_lines):
            lines.append(IDEALIZED_LET)
        return "\n".join(lines + body_lines) + "\n"

    text = assemble([])
    built = check_round_trip(network, text) if check else _build(text, network.name, {})
    if square:
        from ..core.symbols import R

        try:
            notes = size_notes(built, _build(text, network.name, {"resolution": R}))
        except CostModelError as exc:  # counts hold at the written size; say what R cannot do
            notes = [f"the file does not build with the resolution left symbolic, so it has no "
                     f"closed form in R ({exc}); it builds at numeric resolutions"]
        text = assemble(notes) if notes else text
    return text


def _build(text: str, name: str, knobs: dict) -> Network:
    from ..spec import build, parse_text

    return build(parse_text(text, f"<{name} as written>"), knobs)


def _signature(layer) -> tuple:
    counts = layer.counts
    return (layer.op, _shape(layer.output), tuple(_shape(x) for x in layer.inputs),
            counts.macs, counts.weights, counts.norm_params, counts.elementwise,
            counts.activations)


def check_round_trip(network: Network, text: str) -> Network:
    """Build ``text`` at its defaults and check that it has ``network``'s layers: the same
    op, input and output shapes and raw counts, layer for layer (in any order: a front end
    may list parallel branches interleaved). Returns the built network."""
    from collections import Counter

    built = _build(text, network.name, {})
    want = Counter(_signature(layer) for layer in network.layers)
    got = Counter(_signature(layer) for layer in built.layers)
    if want != got:
        missing = next((layer for layer in network.layers
                        if want[_signature(layer)] != got[_signature(layer)]), None)
        where = f"layer {missing.name}" if missing else "a layer"
        raise CostModelError(f"{network.name}: the written spec does not rebuild {where} "
                             "exactly; please report this with the model")
    return built
