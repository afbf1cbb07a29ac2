"""MobileViT-XXS/XS/S (Mehta & Rastegari, arXiv 2110.02178) against Table 1 and timm's
parameter counts, and the MobileViT block worked by hand.

The model zoo prints params in millions to one decimal; timm's mobilevit_xxs/xs/s print 1.27M,
2.32M and 5.58M (the torch convention: batch norm's scale and shift included).
"""

import pytest

from costmodel import zoo
from costmodel.data.published import figures
from tests.printed import agrees

G, M = 10**9, 10**6


def layers(net):
    return {layer.name: layer for layer in net.layers}


@pytest.mark.parametrize("variant, macs, params, torch_params, timm", [
    ("xxs", 407_364_096, 1_267_912, 1_272_024, 1.27),
    ("xs", 1_025_911_808, 2_309_400, 2_317_848, 2.32),
    ("s", 2_000_831_488, 5_566_376, 5_578_632, 5.58),
])
def test_exact_counts(variant, macs, params, torch_params, timm):
    net = zoo.build("mobilevit", variant=variant)
    assert (net.macs(), net.params(), net.params("torch")) == (macs, params, torch_params)
    assert agrees(net.params("torch"), timm, 0.01)


def test_table1_params_agree():
    rows = figures(source="mobilevit", table="Table 1")
    assert [row.label for row in rows] == ["MobileViT-XXS", "MobileViT-XS", "MobileViT-S"]
    for row in rows:
        net = zoo.build("mobilevit", **{k: str(v) for k, v in row.config.items()})
        assert agrees(net.params(), row.params / M, 0.1) and \
            agrees(net.params("torch"), row.params / M, 0.1), row.label


def test_no_reading_gives_xs_its_0_7_gflops():
    """paperswithcode's 0.7G for XS (the zoo note): not the exact count, nor it without
    attention's two matmuls, nor the convolutions alone."""
    xs = zoo.build("mobilevit", variant="xs")
    macs = int(xs.macs())
    attention = sum(int(layer.counts.macs) for layer in xs.layers if layer.op == "mhsa")
    linears = sum(int(layer.counts.macs) for layer in xs.layers if layer.op == "linear")
    projections = sum(4 * int(layer.inputs[0].positions) * int(layer.inputs[0].c) ** 2
                      for layer in xs.layers if layer.op == "mhsa")
    readings = (macs, macs - (attention - projections), macs - attention - linears)
    assert [f"{r / M:,.1f}M" for r in readings] == ["1,025.9M", "908.6M", "607.8M"]
    assert not any(agrees(r, 0.7, 0.1, G) for r in readings)


def test_the_mobilevit_block_by_hand():
    net = layers(zoo.build("mobilevit", variant="xxs"))
    # layer 3 of XXS: 32×32×48 in, transformer width d = 64, FFN 128, L = 2
    c, d, side = 48, 64, 32
    block = "layer3.mobilevit_block1."
    local = block + "transformer_path."
    assert net[local + "conv_kxk"].counts.macs == side * side * c * c * 9
    assert net[local + "conv_1x1"].counts.weights == c * d  # no bias, no norm
    unfold = net[local + "unfold"].output
    assert (unfold.layout, unfold.sizes, unfold.c) == ("last", (4, side * side // 4), d)
    tokens, per_sequence = side * side, side * side // 4
    attn = net[local + "transformer1.attn"]
    # 4 sequences of N = 256 tokens: projections 4·(4N)·d², matmuls 4·2·N²·d
    assert attn.counts.macs == 4 * tokens * d * d + 4 * 2 * per_sequence ** 2 * d
    assert attn.counts.weights == 4 * d * d + 4 * d
    mhsa = [v for k, v in net.items() if k.startswith(block) and v.op == "mhsa"]
    assert len(mhsa) == 2
    fold = net[local + "fold"].output
    assert (fold.layout, fold.sizes) == ("last", (side, side))
    assert net[block + "concat1"].output.c == 2 * c  # the input, then the folded branch
    assert net[block + "fusion"].counts.weights == 2 * c * c * 9
    assert net[block + "fusion"].output.c == c


def test_stages_and_head():
    net = zoo.build("mobilevit", variant="s")
    by_name = layers(net)
    assert sum(1 for layer in net.layers if layer.op == "mhsa") == 2 + 4 + 3
    assert by_name["conv_1x1_exp"].output.c == 640
    assert by_name["conv_1x1_exp"].output.h == 8
    assert net.layers[-1].output.c == 1000


def test_sides_not_a_multiple_of_64_are_refused():
    with pytest.raises(Exception, match="window"):
        zoo.build("mobilevit", resolution=224)
