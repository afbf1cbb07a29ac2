"""``Layer.kind`` is a display label (``conv dw 3x3``, in tables and figures): no count,
memory figure, guideline or latency depends on it. Every layer of each network is given a
meaningless kind, and every number is the same."""

from __future__ import annotations

from dataclasses import replace

import pytest

from costmodel import zoo
from costmodel.analysis import guidelines, latency, memory
from costmodel.analysis.explain import explain
from costmodel.core.conventions import CONVENTIONS
from costmodel.spec import build, parse_text

# depthwise (dw op and conv g=C), grouped 1x1 convs, channel shuffles, residuals, SE blocks
MODELS = ("mobilenet_v2", "shufflenet_v1:g=3", "shufflenet_v2", "mobilenet_v3_small",
          "resnext50_32x4d", "xception")
#: depthwise written as conv and pw with g = C (labelled "conv dw" by core/ops.py's conv),
#: beside grouped ones that are not depthwise
GROUPED = """model grouped
input 16 8 8
conv 16 k=3 g=16
conv 32 k=3 g=4
pw 32 g=32
pw 64 g=2
"""


def relabelled(network):
    layers = tuple(replace(layer, kind=f"label {i}") for i, layer in enumerate(network.layers))
    return replace(network, layers=layers)


def figures(network) -> dict:
    """Every number the analyses give a network, keyed by what it is."""
    out = {f"{what} {name}": getattr(network, what)(name) for name in CONVENTIONS
           for what in ("macs", "params")}
    for fused in (False, True):
        out[f"traffic fused={fused}"] = memory.traffic(network, fused)
        out[f"peak fused={fused}"] = memory.peak_memory(network, fused).elements
        out[f"layers fused={fused}"] = [(m.name, m.read, m.written, m.weights, m.depthwise)
                                        for m in memory.layers_memory(network, fused)]
    out["largest"] = memory.largest_materialized(network).numel
    for check in guidelines.check(network):
        out[check.guideline] = (check.status, check.value,
                                [(f.name, f.flagged) for f in check.findings])
    for name in ("pixel1", "gtx1080ti"):
        estimate = latency.estimate(network, latency.load(name))
        out[f"latency {name}"] = [(t.name, t.seconds) for t in estimate.layers]
    result = explain(network)
    out["explain"] = (result.macs, result.params,
                      [(line.call, line.ops, line.macs, line.rules) for line in result.lines])
    return out


@pytest.mark.parametrize("spec", [*MODELS, "grouped"])
def test_renaming_every_kind_changes_no_number(spec):
    network = build(parse_text(GROUPED, "grouped.cm"), {}, "grouped") if spec == "grouped" \
        else zoo.build(spec)
    renamed = relabelled(network)
    assert {layer.kind for layer in renamed.layers}.isdisjoint(
        {layer.kind for layer in network.layers})
    assert figures(renamed) == figures(network)


def test_the_relabelling_reaches_what_used_to_read_the_kind():
    """mobilenet_v2's depthwise convs were found by their kind ('conv dw 3x3'): they are found
    by op and groups now, relabelled or not."""
    renamed = relabelled(zoo.build("mobilenet_v2"))
    depthwise = [layer for layer in renamed.layers if memory.is_depthwise(layer)]
    assert len(depthwise) == 17
    assert all(m.depthwise for m in memory.layers_memory(renamed)
               if m.name in {layer.name for layer in depthwise})
    grouped = relabelled(build(parse_text(GROUPED, "grouped.cm"), {}, "grouped"))
    assert [memory.is_depthwise(layer) for layer in grouped.layers] == [True, False, True,
                                                                          False]
    # G2 looks at grouped convs that are not depthwise: the g=4 conv and the g=2 pw
    assert [f.name for f in guidelines.g2(grouped).findings] == [
        grouped.layers[1].name, grouped.layers[3].name]
