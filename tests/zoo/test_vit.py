"""ViT-B/16, B/32 and L/16 (Dosovitskiy et al., arXiv 2010.11929) against Table 1 and
torchvision's published counts, and the encoder layer worked by hand."""

import pytest

from costmodel import zoo
from costmodel.data.published import figures
from tests.printed import agrees

M = 10**6


def layers(net):
    return {layer.name: layer for layer in net.layers}


@pytest.mark.parametrize("variant, macs, params, ops", [
    ("b16", 17_563_828_224, 86_567_656, 17.564),
    ("b32", 4_409_186_304, 88_224_232, 4.409),
    ("l16", 61_554_712_576, 304_326_632, 61.555),
])
def test_exact_counts_are_torchvisions(variant, macs, params, ops):
    net = zoo.build("vit", variant=variant)
    assert (net.macs(), net.params(), net.params("torch")) == (macs, params, params)
    # torchvision's weights meta: num_params (exactly these) and _ops (GFLOPS = MACs)
    assert agrees(net.macs(), ops, 0.001, 1e9)


def test_table1():
    base, large = (next(f for f in figures(source="vit", table="Table 1") if f.label == label)
                   for label in ("ViT-Base", "ViT-Large"))
    assert agrees(zoo.build("vit", variant="b16").params(), base.params / M, 1)
    assert not agrees(zoo.build("vit", variant="l16").params(), large.params / M, 1)


def test_the_encoder_layer_by_hand():
    net = layers(zoo.build("vit"))
    tokens, d = 197, 768
    assert net["pos_embedding"].counts.weights == tokens * d
    assert net["class_token"].counts.weights == d
    attn = net["encoder.encoder_layer1.self_attention"]
    assert attn.counts.macs == 4 * tokens * d * d + 2 * tokens * tokens * d
    assert attn.counts.weights == 4 * d * d + 4 * d
    assert net["encoder.encoder_layer1.mlp_1"].counts.macs == tokens * d * 4 * d
    assert net["encoder.encoder_layer1.ln_1"].counts.weights == 2 * d
    assert net["head"].counts.weights == d * 1000 + 1000
    # the quadratic term grows with the tokens: at 384 there are 577
    big = layers(zoo.build("vit", resolution=384))
    assert big["encoder.encoder_layer1.self_attention"].counts.macs == \
        4 * 577 * d * d + 2 * 577 * 577 * d
