"""Inception v3 (Szegedy et al., arXiv 1512.00567) against the abstract's figures, torchvision's
published counts (5.71 GFLOPS, 27.16M params) and the factorized convolutions worked by hand.

torchvision's inception_v3 holds the auxiliary classifier in its parameters; inference never
runs it, and the zoo's network leaves it out. The auxiliary head is written below in the spec
language, as torchvision's InceptionAux, to count what it adds.
"""

from costmodel import zoo
from costmodel.data.published import figures
from costmodel.spec import build, parse_text
from tests.printed import agrees

#: torchvision's InceptionAux on Mixed_6e's 17×17×768 output: avg_pool2d(5, stride 3), a
#: BasicConv2d 1x1 to 128, a BasicConv2d 5x5 to 768 (1×1 left), adaptive pool, Linear.
AUX_HEAD = """
model inception_v3_aux
knob classes 1000 int min=1
input 768 17 17
avgpool 5 s=3
conv 128 k=1 bn=1 act=relu name=conv0
conv 768 k=5 bn=1 act=relu p=0 name=conv1
gap
fc classes name=fc
"""


def layers(net):
    return {layer.name: layer for layer in net.layers}


def test_exact_counts_at_299():
    net = zoo.build("inception_v3")
    assert net.macs() == 5_713_216_096
    assert (net.params(), net.params("torch")) == (23_800_136, 23_834_568)
    # torchvision lists 5.71 GFLOPS: these MACs
    assert agrees(net.macs(), 5.71, 0.01, 1e9)


def test_the_auxiliary_head_makes_torchvisions_parameter_count():
    aux = build(parse_text(AUX_HEAD, "aux.cm"))
    assert aux.params("torch") == 128 * 768 + 2 * 128 + 768 * 128 * 25 + 2 * 768 + 768 * 1000 + 1000
    assert aux.params("torch") == 3_326_696
    # torchvision's inception_v3(aux_logits=True): 27,161,264 = 27.16M
    assert zoo.build("inception_v3").params("torch") + aux.params("torch") == 27_161_264


def test_the_abstracts_bounds():
    printed = figures(source="inception_v3", table="Abstract")[0]
    net = zoo.build("inception_v3")
    assert agrees(net.macs(), printed.macs / 1e9, 1, 1e9)  # 5.71G: "5 billion" truncated
    # "less than 25 million parameters": without the auxiliary head, in either convention
    assert net.params("torch") < printed.params and net.params() < printed.params
    aux = build(parse_text(AUX_HEAD, "aux.cm"))
    assert net.params("torch") + aux.params("torch") > printed.params


def test_keras_counts():
    # Keras' InceptionV3: batch norm without a scale; trainable 23,817,352, total 23,851,784
    net = zoo.build("inception_v3")
    channels = (net.params("torch") - net.params()) // 2
    assert channels == 17_216
    assert net.params() + channels == 23_817_352
    assert net.params() + 3 * channels == 23_851_784
    # Xception's Table 3 prints 23,626,728 for it: not reproduced
    xception_row = next(f for f in figures(source="xception", table="Table 3")
                        if f.label == "Inception V3")
    assert xception_row.params not in (net.params(), net.params() + channels,
                                       net.params("torch"))


def test_grid_sizes_and_factorized_convolutions():
    net = layers(zoo.build("inception_v3"))
    assert net["maxpool2"].output.h == 35 and net["Mixed_5d.concat1"].output.c == 288
    assert net["Mixed_6a.concat1"].output.h == 17 and net["Mixed_6a.concat1"].output.c == 768
    assert net["Mixed_7a.concat1"].output.h == 8 and net["Mixed_7c.concat1"].output.c == 2048
    # Fig. 6: a 1x7 then a 7x1 (n = 7) at 17×17 in place of a 7x7: 2·7 weights per pair of
    # channels instead of 49
    one_by_seven = net["Mixed_6b.branch7x7.conv_2"]
    seven_by_one = net["Mixed_6b.branch7x7.conv_3"]
    assert one_by_seven.kind == "conv 1x7" and seven_by_one.kind == "conv 7x1"
    assert one_by_seven.counts.macs == 17 * 17 * 128 * 128 * 7
    assert seven_by_one.counts.weights == 128 * 192 * 7
    # Fig. 7: the 1x3 and 3x1 side by side, concatenated
    assert net["Mixed_7b.branch3x3.a.conv_2a"].counts.macs == 8 * 8 * 384 * 384 * 3
    assert net["Mixed_7b.branch3x3.concat1"].output.c == 768
    # the stem's valid convolutions: 299 -> 149 -> 147
    assert net["Conv2d_1a_3x3"].output.h == 149 and net["Conv2d_2a_3x3"].output.h == 147
    assert net["Conv2d_1a_3x3"].counts.macs == 149 * 149 * 32 * 27
