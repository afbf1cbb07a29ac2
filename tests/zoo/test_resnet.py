"""The ResNet family against the papers.

He et al., arXiv 1512.03385, Table 1: FLOPs (multiply-adds) 1.8/3.6/3.8/7.6/11.3 ×10⁹ for
ResNet-18/34/50/101/152. Xie et al. (ResNeXt), arXiv 1611.05431, Table 1: ResNet-50 4.1×10⁹
and 25.5×10⁶ params, ResNeXt-50 (32x4d) 4.2×10⁹ and 25.0×10⁶. Exact counts must agree with
the printed figures within rounding or truncation (tests/printed.py); torch-convention params
must equal torchvision's ``sum(p.numel() for p in model.parameters())``.
"""

import sympy
import pytest

from costmodel import zoo
from costmodel.core import symbols as S
from costmodel.errors import CostModelError
from costmodel.spec.builder import build
from costmodel.spec.parser import parse_text
from tests.printed import agrees

G = 1e9
FC_MACS = {"basic": 512 * 1000, "bottleneck": 2048 * 1000}


def macs_of(net, prefix):
    return sum(layer.counts.macs for layer in net.layers if layer.name.startswith(prefix))


# --- published figures ----------------------------------------------------------------------

@pytest.mark.parametrize("name, printed", [
    ("resnet18", 1.8),    # 1,814,073,344
    ("resnet34", 3.6),    # 3,663,761,408: truncated (rounds to 3.7), see test_resnet34_printed
    ("resnet50", 3.8),    # v1 3,857,973,248: truncated (rounds to 3.9)
    ("resnet101", 7.6),   # v1 7,570,194,432: rounded (truncates to 7.5)
    ("resnet152", 11.3),  # v1 11,282,415,616: rounded (truncates to 11.2)
])
def test_resnet_paper_table1(name, printed):
    net = zoo.build(name)  # default variant v1: the paper's stride placement
    assert agrees(net.macs(), printed, 0.1, G)


@pytest.mark.parametrize("name, printed", [
    ("resnet50", 3.8),    # v1.5 4,089,184,256: 7.6% above the printed figure
    ("resnet101", 7.6),   # v1.5 7,801,405,440: 2.6% above
    ("resnet152", 11.3),  # v1.5 11,513,626,624: 1.9% above
])
def test_v15_does_not_match_the_resnet_paper(name, printed):
    # Documented exception: torchvision's stride-on-the-3x3 variant is not the network the
    # ResNet paper counted.
    assert not agrees(zoo.build(name, variant="v1.5").macs(), printed, 0.1, G)


def test_resnet50_in_the_resnext_paper_is_v15():
    # ResNeXt Table 1 prints ResNet-50 at 4.1×10⁹: the fb.resnet.torch network, stride on
    # the 3x3, i.e. variant v1.5 (4,089,184,256); v1 (3.858G) does not match that table.
    assert agrees(zoo.build("resnet50", variant="v1.5").macs(), 4.1, 0.1, G)
    assert not agrees(zoo.build("resnet50", variant="v1").macs(), 4.1, 0.1, G)
    # 25.5×10⁶ params: 25,503,912 with BN folded (PyTorch's 25,557,032 truncates to it too)
    assert agrees(zoo.build("resnet50").params(), 25.5, 0.1)
    # ShuffleNet v2 Table 6 repeats the ResNet paper's 3.8G
    assert agrees(zoo.build("resnet50").macs(), 3.8, 0.1, G)


def test_resnext50_table1():
    net = zoo.build("resnext50_32x4d")
    assert agrees(net.macs(), 4.2, 0.1, G)        # 4,230,479,872
    assert agrees(net.params(), 25.0, 0.1)         # 24,960,680 (BN folded)
    assert agrees(net.params("torch"), 25.0, 0.1)  # 25,028,904
    # Fig. 5's "~4.1 billion FLOPs" is approximate (shared with ResNet-50): 4.23G is 3% above.
    assert not agrees(net.macs(), 4.1, 0.1, G)


def test_resnext50_stride_on_the_1x1_would_not_match():
    # Documented: with the stride on the first 1x1 (ResNet v1 style) ResNeXt-50 would be
    # 3,768,057,856 MACs, not Table 1's 4.2G; the paper counts its code's stride-on-3x3 net.
    source = _source("resnext50_32x4d")
    assert source.count('stride_at="3x3"') == 1  # the one `defaults bottleneck` line
    net = build(parse_text(source.replace('stride_at="3x3"', 'stride_at="1x1"')))
    assert net.macs() == 3_768_057_856
    assert not agrees(net.macs(), 4.2, 0.1, G)


def _source(name):
    from importlib import resources
    return resources.files("costmodel.zoo").joinpath(name + ".cm").read_text(encoding="utf-8")


def test_resnet34_printed():
    # 3.6 in Table 1 and §3.3 ("Our 34-layer baseline has 3.6 billion FLOPs"): the option B
    # network (torchvision) is 3,663,761,408, which rounds to 3.7, so the figure is truncated,
    # or it is the count without the projections: the plain net and Table 2's option A
    # (zero-padded identity shortcuts, no MACs) are 3,644,493,824, which rounds to 3.6.
    net = zoo.build("resnet34")
    assert net.macs() == 3_663_761_408
    projections = macs_of(net, "layer2.basic1.shortcut") + macs_of(
        net, "layer3.basic1.shortcut") + macs_of(net, "layer4.basic1.shortcut")
    assert projections == 3 * 6_422_528 == 19_267_584  # 28·28·128·64 = 14·14·256·128 = ...
    assert round(int(net.macs() - projections) / G, 1) == 3.6
    assert net.macs() - projections == 3_644_493_824
    assert round(int(net.macs()) / G, 1) == 3.7


def test_no_counting_choice_rounds_all_five():
    # Documented: the paper truncates ResNet-34/50 and rounds ResNet-101/152. Leaving the FC
    # layer out changes no printed digit either way.
    for name, printed, rounded in [("resnet34", 3.6, False), ("resnet50", 3.8, False),
                                   ("resnet101", 7.6, True), ("resnet152", 11.3, True)]:
        net = zoo.build(name)
        for total in (int(net.macs()), int(net.macs() - net.layers[-1].counts.macs)):
            assert (round(total / G, 1) == printed) is rounded
            assert (int(total / G * 10) / 10 == printed) is not rounded


# --- exact counts, pinned -------------------------------------------------------------------

@pytest.mark.parametrize("name, v1, v15, paper_params, torch_params", [
    ("resnet18", 1_814_073_344, 1_814_073_344, 11_679_912, 11_689_512),
    ("resnet34", 3_663_761_408, 3_663_761_408, 21_780_648, 21_797_672),
    ("resnet50", 3_857_973_248, 4_089_184_256, 25_503_912, 25_557_032),
    ("resnet101", 7_570_194_432, 7_801_405_440, 44_443_816, 44_549_160),
    ("resnet152", 11_282_415_616, 11_513_626_624, 60_041_384, 60_192_808),
])
def test_exact_counts(name, v1, v15, paper_params, torch_params):
    a, b = zoo.build(name, variant="v1"), zoo.build(name, variant="v1.5")
    assert a.macs() == v1 and b.macs() == v15
    # the stride placement does not change the parameters
    for net in (a, b):
        assert net.params() == paper_params
        assert net.params("torch") == torch_params  # torchvision's parameters().numel() sum


def test_resnext50_exact():
    net = zoo.build("resnext50_32x4d")
    assert net.macs() == 4_230_479_872
    assert net.params() == 24_960_680
    assert net.params("torch") == 25_028_904  # torchvision resnext50_32x4d


def test_v15_difference_is_three_1x1_convs():
    # v1.5 - v1 = 231,211,008 for ResNet-50/101/152: the first 1x1 of the three downsampling
    # blocks runs at the input resolution, 4x the positions: 3 · 3 · 25,690,112 (28·28·256·128
    # = 14·14·512·256 = 7·7·1024·512); the 3x3 has the same output size either way.
    for name in ("resnet50", "resnet101", "resnet152"):
        a, b = zoo.build(name, variant="v1"), zoo.build(name, variant="v1.5")
        assert b.macs() - a.macs() == 3 * 3 * 25_690_112 == 231_211_008
    a, b = zoo.build("resnet50", variant="v1"), zoo.build("resnet50", variant="v1.5")
    layer = {l.name: l for l in a.layers}
    layer15 = {l.name: l for l in b.layers}
    assert layer["layer2.bottleneck1.conv1"].counts.macs == 28 * 28 * 256 * 128
    assert layer15["layer2.bottleneck1.conv1"].counts.macs == 56 * 56 * 256 * 128
    assert layer["layer2.bottleneck1.conv2"].counts.macs == \
        layer15["layer2.bottleneck1.conv2"].counts.macs == 28 * 28 * 128 * 128 * 9


def test_per_layer_hand_arithmetic():
    r18 = {l.name: l for l in zoo.build("resnet18").layers}
    # stem: 112·112·64·3·49 = 118,013,952 MACs, 64·3·49 = 9,408 weights (no bias)
    assert r18["conv1"].counts.macs == 112 * 112 * 64 * 3 * 49 == 118_013_952
    assert r18["conv1"].counts.weights == 9_408
    assert str(r18["maxpool1"].output) == "56×56×64"
    # basic block 3x3: 56·56·64·64·9 = 115,605,504
    assert r18["layer1.basic1.conv1"].counts.macs == 56 * 56 * 64 * 64 * 9 == 115_605_504
    # projection of layer2: 28·28·128·64 = 6,422,528 MACs, 8,192 weights
    assert r18["layer2.basic1.shortcut.conv"].counts.macs == 6_422_528
    assert r18["layer2.basic1.shortcut.conv"].counts.weights == 128 * 64
    assert "layer1.basic1.shortcut.conv" not in r18  # identity where the shape is unchanged
    # FC 512·1000 + 1000 bias
    assert r18["fc1"].counts.weights == 513_000

    r50 = {l.name: l for l in zoo.build("resnet50").layers}
    # bottleneck 3x3: 56·56·64·64·9 = 115,605,504; last 1x1: 56·56·64·256 = 51,380,224
    assert r50["layer1.bottleneck1.conv2"].counts.macs == 115_605_504
    assert r50["layer1.bottleneck1.conv3"].counts.macs == 56 * 56 * 64 * 256 == 51_380_224
    # layer1 starts with a projection although the stride is 1 (64 -> 256 channels)
    assert r50["layer1.bottleneck1.shortcut.conv"].counts.macs == 56 * 56 * 64 * 256
    # ShuffleNet §3.2 "ResNet unit" hw(2cm + 9m²) with c=256, m=64 on 56x56: 218,365,952
    assert macs_of(zoo.build("resnet50"), "layer1.bottleneck2.") == \
        56 * 56 * (2 * 256 * 64 + 9 * 64 * 64) == 218_365_952

    rx = {l.name: l for l in zoo.build("resnext50_32x4d").layers}
    # grouped 3x3: 56·56·128·(128/32)·9 = 14,450,688 MACs, 128·4·9 = 4,608 weights
    assert rx["layer1.bottleneck1.conv2"].kind == "gconv 3x3"
    assert rx["layer1.bottleneck1.conv2"].counts.macs == 56 * 56 * 128 * 4 * 9 == 14_450_688
    assert rx["layer1.bottleneck1.conv2"].counts.weights == 4_608


def test_resnext_template_eq4_table2():
    # Eq. 4: C·(256·d + 3·3·d·d + d·256) = 70,144 for C=32, d=4 ("~70k"); Table 2: ~0.22 billion
    # FLOPs for a conv2 template: 56·56·70,144 = 219,971,584
    net = zoo.build("resnext50_32x4d")
    block = [l for l in net.layers if l.name.startswith("layer1.bottleneck2.")]
    assert sum(l.counts.weights for l in block) == 32 * (256 * 4 + 9 * 4 * 4 + 4 * 256) == 70_144
    assert sum(l.counts.macs for l in block) == 56 * 56 * 70_144 == 219_971_584
    assert round(219_971_584 / G, 2) == 0.22


# --- blocks ---------------------------------------------------------------------------------

def _user(body, knobs=""):
    return parse_text(f"model t\n{knobs}\ninput C H W\n{body}\n")


def test_unit_cost_formulas_symbolic():
    # ShuffleNet (arXiv 1707.01083) §3.2 on an h×w×c input with bottleneck width m:
    # ResNet unit hw(2cm + 9m²), ResNeXt unit hw(2cm + 9m²/g); Fig. 2(a) (the depthwise
    # bottleneck): hw(2cm + 9m).
    m = sympy.Symbol("m", positive=True, integer=True)
    knobs = "knob C 256 int\nknob H 56 int\nknob W 56 int\nknob m 64 int\nknob g 1 int"
    values = {"C": S.C, "H": S.H, "W": S.W, "m": m, "g": S.g}
    C, H, W, g = S.C, S.H, S.W, S.g
    res = build(_user("bottleneck C m", knobs), values)
    assert sympy.simplify(res.macs() - H * W * (2 * C * m + 9 * m**2)) == 0
    rx = build(_user("bottleneck C m g=g", knobs), values)
    assert sympy.simplify(rx.macs() - H * W * (2 * C * m + 9 * m**2 / g)) == 0
    dw = build(_user("bottleneck_dw m", knobs), values)
    assert sympy.simplify(dw.macs() - H * W * (2 * C * m + 9 * m)) == 0
    assert [l.op for l in dw.layers] == ["pw", "bn", "relu", "dw", "bn", "pw", "bn", "add",
                                         "relu"]  # no ReLU after the depthwise conv


def test_bottleneck_dw_numbers():
    net = build(parse_text("model t\ninput 256 56 56\nbottleneck_dw 64\n"))
    # 56·56·(2·256·64 + 9·64) = 104,566,784 MACs; weights 256·64 + 9·64 + 64·256
    assert net.macs() == 56 * 56 * (2 * 256 * 64 + 9 * 64) == 104_566_784
    assert net.params() == 2 * 256 * 64 + 9 * 64
    assert str(net.output) == "56×56×256"
    # with a stride (not in the figure) the shortcut is ResNet's 1x1 projection
    net = build(parse_text("model t\ninput 256 56 56\nbottleneck_dw 64 c=512 s=2\n"))
    assert str(net.output) == "28×28×512"
    shortcut = [l for l in net.layers if ".shortcut." in l.name and l.op == "conv"]
    assert shortcut[0].counts.macs == 28 * 28 * 256 * 512


def test_basic_block_cost():
    net = build(parse_text("model t\ninput 64 56 56\nbasic 64\n"))
    assert net.macs() == 2 * 56 * 56 * 9 * 64 * 64  # two 3x3 convs, identity shortcut


def test_stride_at_is_checked():
    with pytest.raises(CostModelError, match="no entry for 3X3"):
        build(parse_text('model t\ninput 64 56 56\nbottleneck 256 64 stride_at="3X3"\n'))


# --- knobs, resolutions ---------------------------------------------------------------------

NAMES = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d"]


@pytest.mark.parametrize("name", NAMES)
def test_resolution_448_is_four_times_the_convolutions(name):
    # Every side at 224 is even down to 7x7, so at 448 each conv costs exactly 4x; the FC does
    # not depend on the resolution (global average pooling).
    a, b = zoo.build(name), zoo.build(name, resolution=448)
    fc = a.layers[-1].counts.macs
    assert b.macs() == 4 * (a.macs() - fc) + fc
    assert b.params() == a.params()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("resolution", [1, 32, 160, 225, 299])
def test_other_resolutions_build(name, resolution):
    net = zoo.build(name, resolution=resolution)
    assert net.macs() > 0 and net.output.c == 1000


@pytest.mark.parametrize("name", NAMES)
def test_symbolic_resolution(name):
    net = zoo.build(name, resolution=S.R)
    assert net.macs().subs(S.R, 224) == zoo.build(name).macs()


@pytest.mark.parametrize("name", NAMES)
def test_classes(name):
    a, b = zoo.build(name), zoo.build(name, classes=10)
    width = a.layers[-1].inputs[0].c  # 512 or 2048
    assert a.params() - b.params() == (width + 1) * 990
    assert a.macs() - b.macs() == width * 990


def test_variant_knob():
    assert zoo.build("resnet18", variant="v1.5").macs() == zoo.build("resnet18").macs()
    with pytest.raises(CostModelError, match="variant must be one of"):
        zoo.build("resnet50", variant="v2")
