"""ShuffleNet v1 and v2 against their papers, the official code and torchvision.

v1: Zhang et al., arXiv 1707.01083, Tables 1, 2, 5, 8; the official README
(megvii-model/ShuffleNet-Series); MobileNet v2's Table 4. v2: Ma et al., arXiv 1807.11164,
Table 5; torchvision's shufflenet_v2_x* parameter counts. See the docstrings of
costmodel/zoo/shufflenet_v1.cm and shufflenet_v2.cm for the reasons behind each exception.
"""

import pytest
import sympy

from costmodel import zoo
from costmodel.core import symbols as S
from costmodel.spec.builder import build
from costmodel.spec.parser import parse_text
from tests.printed import agrees

M = 10**6


def v1(**knobs):
    return zoo.build("shufflenet_v1", **knobs)


def v2(**knobs):
    """torchvision's ShuffleNet v2; the zoo's default is the authors' official code."""
    return zoo.build("shufflenet_v2", **{"impl": "torchvision", **knobs})


def unit_layers(net, prefix):
    return [layer for layer in net.layers if layer.name.startswith(prefix + ".")]


def fc_macs(net):
    return sum(layer.counts.macs for layer in net.layers if layer.op == "fc")


# --- ShuffleNet v1 -------------------------------------------------------------------------------

# g, Table 1 complexity, exact MACs with the FC, exact MACs of the convolutions alone
TABLE1 = [
    (1, 143, 143_078_976, 142_502_976),
    (2, 140, 140_836_512, 140_036_512),
    (3, 137, 137_460_672, 136_500_672),
    (4, 133, 134_339_776, 133_251_776),
    (8, 137, 138_365_952, 136_829_952),
]


@pytest.mark.parametrize("g, printed, exact, convs", TABLE1)
def test_v1_table1_counts_the_convolutions_only(g, printed, exact, convs):
    net = v1(g=g)
    assert net.macs() == exact
    assert net.macs() - fc_macs(net) == convs
    # all five round (to the nearest million) to the printed complexity without the FC
    assert round(convs / M) == printed


def test_v1_table1_with_the_fc_does_not_reproduce_g4_g8():
    # with the FC, g=4 is 134.3M (printed 133) and g=8 138.4M (printed 137): the FC
    # (1088·1000, 1536·1000 MACs) is what Table 1 leaves out
    assert not agrees(134_339_776, 133, 1)
    assert not agrees(138_365_952, 137, 1)
    assert fc_macs(v1(g=8)) == 1536 * 1000


@pytest.mark.parametrize("g, alpha, macs_m, exact", [
    (3, "2", 524, 524_045_184),     # Tables 5, 6, 8; README 524M (522.1M without the FC)
    (3, "1.5", 292, 292_443_552),   # Tables 5, 8; README 292M (291.0M without the FC)
    (3, "0.5", 38, 37_589_856),     # Table 8 "0.5x (g=3) 38"; README 38M
    (4, "0.5", 38, 37_943_936),     # Tables 5, 6 "0.5x (g=4) 38"
    (8, "2", 522, 521_942_016),     # README
    (8, "1.5", 290, 290_188_800),   # README
    (8, "1", 138, 138_365_952),     # README
    (8, "0.5", 40, 40_469_760),     # README
])
def test_v1_published_complexities_include_the_fc(g, alpha, macs_m, exact):
    net = v1(g=g, alpha=alpha)
    assert net.macs() == exact
    assert agrees(net.macs(), macs_m, 1)


def test_v1_2x_g3_needs_the_fc():
    net = v1(g=3, alpha="2")
    assert net.macs() - fc_macs(net) == 522_125_184  # 522.1M: not the printed 524
    assert not agrees(net.macs() - fc_macs(net), 524, 1)


def test_v1_readme_1x_g3_is_the_one_figure_off():
    # README "ShuffleNetV1 1.0x (group=3) 138M": the network is 137,460,672 MACs, which
    # rounds to 137 (as Table 1 prints it); Tables 5 and 8 print the nominal 140
    assert v1(g=3).macs() == 137_460_672
    assert not agrees(v1(g=3).macs(), 138, 1)


@pytest.mark.parametrize("g, alpha, params_m, paper, torch", [
    (3, "1.5", 3.4, 3_404_448, 3_441_168),   # MobileNet v2 Table 4 "ShuffleNet (1.5)"; README
    (3, "2", 5.4, 5_400_816, 5_449_776),     # MobileNet v2 Table 4 "ShuffleNet (x2)"; README
    (3, "0.5", 0.7, 705_084, 717_324),       # README
    (8, "1", 2.4, 2_394_600, 2_433_768),     # README
    (8, "0.5", 1.0, 990_864, 1_010_448),     # README
])
def test_v1_params(g, alpha, params_m, paper, torch):
    net = v1(g=g, alpha=alpha)
    assert net.params() == paper
    assert net.params("torch") == torch
    assert agrees(paper, params_m, 0.1) and agrees(torch, params_m, 0.1)


@pytest.mark.parametrize("g, alpha, params_m, paper, torch", [
    (3, "1", 1.9, 1_840_248, 1_864_728),
    (8, "1.5", 4.3, 4_210_200, 4_268_952),
    (8, "2", 6.5, 6_442_896, 6_521_232),
])
def test_v1_readme_params_count_batch_norm(g, alpha, params_m, paper, torch):
    # the official README's 1.9M / 4.3M / 6.5M are reached only with BN scale and shift
    net = v1(g=g, alpha=alpha)
    assert (net.params(), net.params("torch")) == (paper, torch)
    assert agrees(torch, params_m, 0.1)
    assert not agrees(paper, params_m, 0.1)


# g, alpha: (stem, stage2, stage3, stage4) of ShuffleNetV1/network.py
OFFICIAL_WIDTHS = {
    (3, "0.5"): (12, 120, 240, 480), (3, "1"): (24, 240, 480, 960),
    (3, "1.5"): (24, 360, 720, 1440), (3, "2"): (48, 480, 960, 1920),
    (8, "0.5"): (16, 192, 384, 768), (8, "1"): (24, 384, 768, 1536),
    (8, "1.5"): (24, 576, 1152, 2304), (8, "2"): (48, 768, 1536, 3072),
}


def widths(net):
    stem = next(l for l in net.layers if l.name == "conv1").output.c
    stages = [unit_layers(net, f"stage{i}")[-1].output.c for i in (2, 3, 4)]
    return (stem, *stages)


@pytest.mark.parametrize("g, alpha", sorted(OFFICIAL_WIDTHS))
def test_v1_reference_rounding_reproduces_the_official_widths(g, alpha):
    assert widths(v1(g=g, alpha=alpha)) == OFFICIAL_WIDTHS[g, alpha]


@pytest.mark.parametrize("g, stages", [(1, (144, 288, 576)), (2, (200, 400, 800)),
                                       (3, (240, 480, 960)), (4, (272, 544, 1088)),
                                       (8, (384, 768, 1536))])
def test_v1_table1_widths(g, stages):
    assert widths(v1(g=g)) == (24, *stages)


# g: (0.5x widths, 0.5x MACs, 0.25x MACs); Table 2 prints 38M and 13M for every g
NOMINAL = {
    1: ((12, 72, 144, 288), 38_517_408, 11_003_184),
    2: ((12, 104, 200, 400), 38_914_784, 11_243_032),   # 100 is no multiple of 4g = 8
    3: ((12, 120, 240, 480), 37_589_856, 11_009_808),
    4: ((12, 144, 272, 544), 37_943_936, 11_937_136),   # 136 is no multiple of 16
    8: ((16, 192, 384, 768), 40_469_760, 12_426_240),
}


@pytest.mark.parametrize("g", sorted(NOMINAL))
def test_v1_table2_rows_are_nominal(g):
    shape, half, quarter = NOMINAL[g]
    net = v1(g=g, alpha="0.5")
    assert widths(net) == shape
    assert net.macs() == half
    assert v1(g=g, alpha="0.25").macs() == quarter
    # 0.5x: 37.6 to 40.5M against 38; 0.25x: 11.0 to 12.4M against 13 (widths unpublished)
    assert agrees(half, 38, 1) == (g != 8)
    assert not agrees(quarter, 13, 1)


def test_v1_unit_by_hand_against_the_paper_formula():
    net = v1(g=3)
    # a stride-1 unit of Stage 3: c = 480 in and out, m = 120, 14x14, g = 3.
    # §3.2: hw(2cm/g + 9m) = 196·(2·480·120/3 + 9·120) = 196·39,480 = 7,738,080 MACs
    unit = unit_layers(net, "stage3.shufflenet_unit2")
    assert sum(l.counts.macs for l in unit) == 196 * (2 * 480 * 120 // 3 + 9 * 120) == 7_738_080
    # what the formula omits (no MACs): BN 2 ops/element after the three convs
    # 2·196·(120 + 120 + 480) = 282,240; ReLU 196·(120 + 480) = 117,600; the add 196·480
    assert sum(l.counts.elementwise for l in unit) == 282_240 + 117_600 + 94_080
    # weights 480·120/3 + 9·120 + 120·480/3 = 39,480; BN 2·(120 + 120 + 480) = 1,440
    assert sum(l.counts.weights for l in unit) == 39_480
    assert sum(l.counts.norm_params for l in unit) == 1_440


def test_v1_stride2_units_by_hand():
    net = v1(g=3)
    # first unit of Stage 2: 56x56x24 in, the first 1x1 NOT grouped (24 -> 60 at 56x56), the
    # depthwise s2 at 28x28, the grouped 1x1 60 -> 240 - 24 = 216, avg pool shortcut, concat
    unit = {l.name.split(".", 2)[2]: l for l in unit_layers(net, "stage2.shufflenet_unit1")}
    assert unit["main.gconv1"].counts.macs == 56 * 56 * 24 * 60 == 4_515_840
    assert unit["main.gconv1"].kind == "conv 1x1"
    assert unit["main.dw"].counts.macs == 28 * 28 * 60 * 9 == 423_360
    assert unit["main.gconv2"].counts.macs == 28 * 28 * 60 * 216 // 3 == 3_386_880
    assert unit["concat1"].output.c == 240
    # conv1: 112·112·24·3·9
    assert net.layers[0].counts.macs == 8_128_512
    # first unit of Stage 3: grouped 1x1 240 -> 120 at 28x28, dw s2, 1x1 120 -> 480 - 240
    unit = {l.name.split(".", 2)[2]: l for l in unit_layers(net, "stage3.shufflenet_unit1")}
    assert unit["main.gconv1"].counts.macs == 28 * 28 * 240 * 120 // 3
    assert unit["main.gconv2"].counts.macs == 14 * 14 * 120 * 240 // 3


def test_v1_symbolic_alpha():
    for g in (1, 3, 8):
        net = v1(g=g, alpha=S.alpha, rounding="none")
        macs, params = sympy.expand(net.macs()), sympy.expand(net.params())
        assert macs.free_symbols == {S.alpha}
        assert sympy.degree(macs, S.alpha) == 2  # "roughly s² times": dw convs and stem are linear
        assert macs.subs(S.alpha, 1) == v1(g=g).macs()
        assert params.subs(S.alpha, 1) == v1(g=g).params()
    g3 = sympy.expand(v1(g=3, alpha=S.alpha, rounding="none").macs())
    assert g3 == 124_561_920 * S.alpha**2 + 12_898_752 * S.alpha
    assert g3.subs(S.alpha, 2) == v1(g=3, alpha="2").macs()  # 2x: stem 48 = 24·2 as well
    # 1.5x differs: the official stem stays 24, rounding=none scales it to 36: conv1 +12
    # channels 112·112·27·12, Stage 2's first 1x1 +12 inputs 56·56·12·90, its last 1x1 12
    # fewer outputs (360 - 36) -28·28·90·12/3
    assert g3.subs(S.alpha, sympy.Rational(3, 2)) - v1(g=3, alpha="1.5").macs() == (
        112 * 112 * 27 * 12 + 56 * 56 * 12 * 90 - 28 * 28 * 90 * 12 // 3) == 7_168_896


def test_v1_rounding_none_refuses_widths_that_do_not_split():
    with pytest.raises(Exception, match="do not divide"):
        v1(g=2, alpha="0.5", rounding="none")  # bottleneck 25 in 2 groups


@pytest.mark.parametrize("resolution, exact", [
    (160, 70_603_200), (192, 101_246_208), (256, 179_246_592), (32, 3_745_728)])
def test_v1_resolutions(resolution, exact):
    net = v1(resolution=resolution)
    assert net.macs() == exact
    assert net.params() == 1_840_248  # independent of the resolution


def test_v1_units_take_the_repeat_rule():
    net = v1(g=3)
    names = {".".join(l.name.split(".")[:2]) for l in net.layers if l.name.startswith("stage")}
    assert len(names) == 16  # 4 + 8 + 4 units
    text = "model t\ninput 24 56 56\nshufflenet_unit 240 g=3 g1=1 n=4 s=2\n"
    net = build(parse_text(text))
    assert net.output.c == 240 and net.output.h == 28
    # only the first repetition has stride 2 (concat); the others add their identity
    assert [l.op for l in net.layers if l.op in ("add", "concat")] == ["concat"] + ["add"] * 3


# --- ShuffleNet v2 -------------------------------------------------------------------------------

# alpha, torchvision num_params, paper-convention weights, MACs, Table 5 FLOPs and weights
V2 = [
    ("0.5", 1_366_792, 1_358_840, 40_476_448, 41, 1.4),
    ("1", 2_278_604, 2_262_424, 144_907_992, 146, 2.3),
    ("1.5", 3_503_624, 3_480_184, 295_759_392, 299, 3.5),
    ("2", 7_393_996, 7_360_280, 583_253_464, 591, 7.4),
]


@pytest.mark.parametrize("alpha, torchvision, paper, macs, flops_m, weights_m", V2)
def test_v2_equals_torchvision(alpha, torchvision, paper, macs, flops_m, weights_m):
    net = v2(alpha=alpha)
    assert net.params("torch") == torchvision  # sum(p.numel() for p in model.parameters())
    assert net.params() == paper
    assert net.macs() == macs
    # Table 5 "# of Weights" agrees in both conventions
    assert agrees(paper, weights_m, 0.1) and agrees(torchvision, weights_m, 0.1)


@pytest.mark.parametrize("alpha, gflops", [("0.5", 0.04), ("1", 0.14), ("1.5", 0.296),
                                           ("2", 0.583)])
def test_v2_torchvision_ops(alpha, gflops):
    step = 0.01 if len(str(gflops)) == 4 else 0.001
    assert agrees(v2(alpha=alpha).macs(), gflops, step, 1e9)


@pytest.mark.parametrize("alpha, torchvision, paper, macs, flops_m, weights_m", V2)
def test_v2_torchvision_is_below_table5(alpha, torchvision, paper, macs, flops_m, weights_m):
    # the torchvision network is 0.5/1.1/3.2/7.7M below the printed FLOPs: see the official
    # variant below; not one of the four rounds to its printed figure
    assert macs < flops_m * M
    assert round(macs / M) != flops_m


# The official megvii network: its first Stage 2 unit keeps the 24 input channels on the left
# (dw + 1x1 24 -> 24) and outputs c - 24 on the right; the classifier has no bias.
OFFICIAL_V2 = """
model shufflenet_v2_megvii
knob alpha 1 choice 0.5|1|1.5|2
input 3 224 224
let c2 = {0.5: 48, 1: 116, 1.5: 176, 2: 244}[alpha]
let c5 = {0.5: 1024, 1: 1024, 1.5: 1024, 2: 2048}[alpha]
conv 24 k=3 s=2 bn=1 act=relu
maxpool 3 s=2 p=1
shufflenet_v2_unit c2 s=2 left=cin
shufflenet_v2_unit c2 n=3
shufflenet_v2_unit 2*c2 n=8 s=2
shufflenet_v2_unit 4*c2 n=4 s=2
conv c5 k=1 bn=1 act=relu
gap
fc 1000 bias=0
"""


@pytest.mark.parametrize("alpha, macs, extra, params, flops_m, weights_m", [
    ("0.5", 40_476_448, 0, 1_357_840, 41, 1.4),   # c/2 = 24 = cin: the same network
    ("1", 145_814_296, 906_304, 2_262_580, 146, 2.3),
    ("1.5", 298_970_656, 3_211_264, 3_483_280, 299, 3.5),
    ("2", 590_783_000, 7_529_536, 7_368_884, 591, 7.4),
])
def test_v2_table5_flops_are_the_official_code_rounded_up(alpha, macs, extra, params, flops_m,
                                                          weights_m):
    net = build(parse_text(OFFICIAL_V2), {"alpha": alpha})
    assert net.macs() == macs
    default = zoo.build("shufflenet_v2", alpha=alpha)  # impl=official is the default
    assert (default.macs(), default.params()) == (macs, params)
    assert net.macs() - v2(alpha=alpha).macs() == extra
    assert net.params() == params and agrees(params, weights_m, 0.1)
    # 146/299/591 are the nearest million; 0.5x's 40.48M rounds to 40, not the printed 41:
    # all four are the counts rounded up
    assert -(-macs // M) == flops_m
    assert (round(macs / M) == flops_m) == (alpha != "0.5")
    # the extra MACs by hand (1x, c = 116, 28x28 after the stride): left 1x1 24·24 instead of
    # 24·58, right last 1x1 58·92 instead of 58·58
    if alpha == "1":
        assert extra == 784 * (24 * 24 - 24 * 58) + 784 * (58 * 92 - 58 * 58)


def test_v2_unit_by_hand():
    net = v2()
    # a stride-1 unit of Stage 3 at 1x: 232 channels split 116 + 116 at 14x14; the right half
    # takes 1x1 116 -> 116, dw 3x3, 1x1 116 -> 116: 196·(2·116·116 + 9·116) = 5,479,376 MACs
    unit = unit_layers(net, "stage3.shufflenet_v2_unit2")
    assert sum(l.counts.macs for l in unit) == 196 * (2 * 116 * 116 + 9 * 116) == 5_479_376
    assert sum(l.counts.weights for l in unit) == 2 * 116 * 116 + 9 * 116
    assert sum(l.counts.norm_params for l in unit) == 2 * 3 * 116
    # the stride-2 unit of Stage 3: 28x28x116 in; left dw s2 (14x14) + 1x1 116 -> 116; right
    # 1x1 116 -> 116 at 28x28, dw s2, 1x1 116 -> 116 at 14x14
    unit = unit_layers(net, "stage3.shufflenet_v2_unit1")
    left = 196 * 116 * 9 + 196 * 116 * 116
    right = 784 * 116 * 116 + 196 * 116 * 9 + 196 * 116 * 116
    assert sum(l.counts.macs for l in unit) == left + right
    assert unit[-1].op == "shuffle" and unit[-1].output.c == 232


def test_v2_shapes():
    net = v2()
    assert [(o.c, o.h) for o in (unit_layers(net, f"stage{i}")[-1].output
                                 for i in (2, 3, 4))] == [(116, 28), (232, 14), (464, 7)]
    conv5 = next(l for l in net.layers if l.name == "conv5")
    assert conv5.counts.macs == 49 * 464 * 1024
    assert next(l for l in v2(alpha="2").layers if l.name == "conv5").output.c == 2048


@pytest.mark.parametrize("resolution, exact", [
    (160, 74_434_200), (192, 106_734_688), (256, 188_954_112), (32, 3_960_408)])
def test_v2_resolutions(resolution, exact):
    net = v2(resolution=resolution)
    assert net.macs() == exact
    assert net.params("torch") == 2_278_604


def test_v2_classes():
    net = v2(classes=10)
    # fc 1024 -> 10 with bias replaces 1024 -> 1000
    assert v2().params() - net.params() == 1024 * 990 + 990
