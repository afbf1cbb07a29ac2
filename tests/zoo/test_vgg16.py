"""VGG-16 against the published figures.

Simonyan & Zisserman, arXiv 1409.1556, Table 2: configuration D has 138 million parameters.
Other papers' "15.3 billion" mult-adds (ResNet §4.1; MobileNet v1 Table 8 "15300"; ShuffleNet
v1 Table 6) is the 13 convolutions alone; the docstring of costmodel/zoo/vgg16.cm explains it.
"""

from costmodel import zoo
from tests.printed import agrees


def test_params_table2():
    net = zoo.build("vgg16")
    # 13 convs: 14,714,688 weights and biases; fc6 25,088·4,096 + 4,096; fc7 4,096·4,096 +
    # 4,096; fc8 4,096·1,000 + 1,000: 138,357,544 in all
    assert net.params() == 138_357_544
    assert agrees(net.params(), 138, 1)


def test_published_15_3g_is_the_convolutions_alone():
    net = zoo.build("vgg16")
    conv = sum(layer.counts.macs for layer in net.layers if layer.op == "conv")
    fc = sum(layer.counts.macs for layer in net.layers if layer.op == "fc")
    # fc: 25,088·4,096 + 4,096·4,096 + 4,096·1,000 = 123,633,664
    assert fc == 25_088 * 4_096 + 4_096 * 4_096 + 4_096 * 1_000
    assert conv == 15_346_630_656
    assert agrees(conv, 15.3, 0.1, 1e9)          # 15.35G, printed 15.3
    assert not agrees(net.macs(), 15.3, 0.1, 1e9)  # 15.47G with the FC layers
    assert net.macs() == conv + fc


def test_resolution_keeps_the_classifier():
    # the adaptive pool keeps fc6's input at 7×7×512 (torchvision), so params do not change
    assert zoo.build("vgg16", resolution=320).params() == 138_357_544
