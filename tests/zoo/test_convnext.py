"""ConvNeXt-T/S/B/L (Liu et al., arXiv 2201.03545) against Table 1 and torchvision's published
counts, and the ConvNeXt block worked by hand.

Table 1 prints FLOPs (multiply-adds) in billions to one decimal and params in millions;
torchvision's convnext_* weights list num_params (the exact counts here) and _ops in GFLOPS
(the same MACs) to one decimal.
"""

import pytest

from costmodel import zoo
from costmodel.data.published import figures
from tests.printed import agrees

G, M = 10**9, 10**6


def layers(net):
    return {layer.name: layer for layer in net.layers}


@pytest.mark.parametrize("variant, macs, params, torchvision", [
    ("t", 4_455_531_264, 28_589_128, 4.5),
    ("s", 8_683_712_256, 50_223_688, 8.7),
    ("b", 15_354_729_472, 88_591_464, 15.4),
    ("l", 34_361_433_600, 197_767_336, 34.4),
])
def test_exact_counts_are_torchvisions(variant, macs, params, torchvision):
    net = zoo.build("convnext", variant=variant)
    # no batch norm: the paper and torch conventions agree
    assert (net.macs(), net.params(), net.params("torch")) == (macs, params, params)
    # torchvision's weights meta: num_params (exactly these) and _ops (GFLOPS = MACs)
    assert agrees(net.macs(), torchvision, 0.1, G)


def test_table1_agrees_within_its_rounding():
    rows = figures(source="convnext", table="Table 1")
    assert len(rows) == 4
    for row in rows:
        net = zoo.build("convnext", **{k: str(v) for k, v in row.config.items()})
        assert agrees(net.macs(), row.macs / G, row.step["macs"] / G, G), row.label
        assert agrees(net.params(), row.params / M, row.step["params"] / M), row.label


def test_the_block_by_hand():
    net = layers(zoo.build("convnext"))
    c, side = 96, 56
    assert net["stem"].counts.macs == side * side * c * 3 * 16
    assert net["stem"].counts.weights == 3 * 16 * c + c
    block = "stage1.cnblock1."
    assert net[block + "dwconv"].counts.macs == side * side * c * 49
    assert net[block + "dwconv"].counts.weights == c * 49 + c
    assert net[block + "norm"].counts.weights == 2 * c  # layer norm: a scale and a shift
    assert net[block + "pwconv1"].counts.macs == side * side * c * 4 * c
    assert net[block + "pwconv1"].counts.weights == c * 4 * c + 4 * c
    assert net[block + "pwconv2"].counts.weights == 4 * c * c + c
    assert net[block + "layer_scale"].counts.weights == c
    assert net[block + "norm"].output.layout == "last"
    assert net[block + "layer_scale"].output.layout == "first"
    # a block is 7x7 depthwise + the two linears: 4.5G is 93% linears
    per_block = c * (49 + 1 + 2 + 4 * c + 4 + 4 * c + 1 + 1)
    assert sum(layer.counts.weights for name, layer in net.items()
               if name.startswith(block)) == per_block


def test_stages_and_downsampling():
    net = zoo.build("convnext", variant="t")
    by_name = layers(net)
    blocks = {stage: sum(1 for name in by_name if name.startswith(f"stage{stage}.")
                         and name.endswith(".dwconv")) for stage in (1, 2, 3, 4)}
    assert blocks == {1: 3, 2: 3, 3: 9, 4: 3}
    assert zoo.build("convnext", variant="s").layers[-1].output.c == 1000
    for stage, (c, side) in enumerate([(192, 28), (384, 14), (768, 7)], start=1):
        conv = by_name[f"down{stage}.conv"]
        assert (conv.output.c, conv.output.h) == (c, side)
        assert conv.counts.weights == c // 2 * c * 4 + c
    adds = [layer for layer in net.layers if layer.op == "add"]
    assert len(adds) == 18
