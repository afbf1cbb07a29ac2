"""Each primitive's formula against hand arithmetic written beside it."""

import pytest
from sympy import Integer as I, floor, simplify

from costmodel.core import symbols as S
from costmodel.core.ops import OPS, Shape, apply
from costmodel.errors import CostModelError


def run(op, shape, **attrs):
    return apply(op, [shape] if not isinstance(shape, list) else shape,
                 {k: I(v) if isinstance(v, int) else v for k, v in attrs.items()})


X = Shape.image(I(32), I(112), I(112))  # MobileNet v1 after the stem: 112×112×32


def test_conv_3x3_stride2_stem():
    r = run("conv", Shape.image(I(3), I(224), I(224)), c=32, k=3, s=2)
    # out 112×112×32; MACs 112·112·32·3·9 = 10,838,016; weights 32·3·9 = 864
    assert (r.shape.h, r.shape.w, r.shape.c) == (112, 112, 32)
    assert r.counts.macs == 10_838_016
    assert r.counts.weights == 864
    assert r.kind == "conv 3x3"


def test_conv_bias_adds_params_not_macs():
    r = run("conv", X, c=64, k=3, bias=1)
    # weights 64·32·9 + 64 = 18,496; MACs 112·112·64·32·9 = 231,211,008
    assert r.counts.weights == 18_496
    assert r.counts.macs == 231_211_008


def test_group_conv_divides_by_g():
    r = run("conv", Shape.image(I(96), I(27), I(27)), c=256, k=5, p=2, g=2)
    # AlexNet conv2: 27·27·256·(96/2)·25 = 223,948,800 MACs; 256·48·25 = 307,200 weights
    assert r.counts.macs == 223_948_800
    assert r.counts.weights == 307_200
    assert r.kind == "gconv 5x5"


def test_depthwise():
    r = run("dw", X, k=3, s=1)
    # 112·112·32·9 = 3,612,672 MACs; 32·9 = 288 weights
    assert r.counts.macs == 3_612_672
    assert r.counts.weights == 288
    assert r.kind == "conv dw 3x3"


def test_depthwise_stride2_padding():
    r = run("dw", Shape.image(I(64), I(112), I(112)), s=2)
    # floor((112 + 2 - 3)/2) + 1 = 56
    assert (r.shape.h, r.shape.w) == (56, 56)


def test_pointwise():
    r = run("pw", X, c=64)
    # 112·112·32·64 = 25,690,112 MACs; 2,048 weights
    assert r.counts.macs == 25_690_112
    assert r.counts.weights == 2_048
    assert r.kind == "conv 1x1"


def test_grouped_pointwise():
    r = run("pw", Shape.image(I(240), I(28), I(28)), c=60, g=3)
    # 28·28·60·(240/3) = 3,763,200 MACs; 60·80 = 4,800 weights
    assert r.counts.macs == 3_763_200
    assert r.counts.weights == 4_800


def test_dilated_conv_keeps_size_with_same_padding():
    r = run("conv", Shape.image(I(8), I(20), I(20)), c=8, k=3, d=2)
    # padding d(k-1)/2 = 2; out = floor((20 + 4 - 2·2 - 1)/1) + 1 = 20
    assert (r.shape.h, r.shape.w) == (20, 20)


def test_fully_connected_flattens():
    r = run("fc", Shape.image(I(512), I(7), I(7)), c=4096)
    # 25,088·4,096 = 102,760,448 MACs; + 4,096 biases = 102,764,544 params
    assert r.counts.macs == 102_760_448
    assert r.counts.weights == 102_764_544
    assert r.shape == Shape.image(4096, 1, 1)


def test_pools_cost_no_macs():
    mp = run("maxpool", Shape.image(I(64), I(112), I(112)), k=3, s=2, p=1)
    # floor((112 + 2 - 3)/2) + 1 = 56; no MACs, 9 comparisons per output
    assert (mp.shape.h, mp.counts.macs, mp.counts.elementwise) == (56, 0, 56 * 56 * 64 * 9)
    gap = run("gap", Shape.image(I(1024), I(7), I(7)))
    assert gap.shape == Shape.image(1024, 1, 1) and gap.counts.macs == 0


def test_caffe_ceil_mode_pooling():
    # GoogLeNet: 112 → 3x3/2 max pool. floor: (112-3)/2+1 = 55; ceil: ceil(109/2)+1 = 56
    assert run("maxpool", Shape.image(I(64), I(112), I(112)), k=3, s=2).shape.h == 55
    assert run("maxpool", Shape.image(I(64), I(112), I(112)), k=3, s=2, ceil=1).shape.h == 56


def test_batch_norm_params_only_in_norm_params():
    r = run("bn", X)
    # 2·32 = 64 scale and shift parameters; no weights, no MACs
    assert (r.counts.norm_params, r.counts.weights, r.counts.macs) == (64, 0, 0)


@pytest.mark.parametrize("name", ["relu", "relu6", "hswish", "sigmoid", "hsigmoid", "swish",
                                  "dropout", "lrn"])
def test_per_element_ops_keep_shape_and_cost_nothing(name):
    r = run(name, X)
    assert r.shape == X and r.counts.macs == 0 and r.counts.weights == 0


def test_shuffle_split_concat_add():
    assert run("shuffle", Shape.image(I(240), I(28), I(28)), g=3).counts.macs == 0
    half = run("split", Shape.image(I(116), I(28), I(28)), c=58).shape
    assert half == Shape.image(58, 28, 28)
    assert run("concat", [half, half]).shape == Shape.image(116, 28, 28)
    added = run("add", [X, X])
    # one addition per element: 112·112·32 = 401,408, not MACs
    assert (added.shape, added.counts.macs, added.counts.elementwise) == (X, 0, 401_408)


def test_mul_broadcasts_a_gate():
    gate = Shape.image(I(32), I(1), I(1))
    assert run("mul", [X, gate]).shape == X


def test_symbolic_conv_is_the_papers_formula():
    # MobileNet v1 Eq. 1: D_K·D_K·M·N·D_F·D_F with stride 1, same padding
    r = run("conv", Shape.image(S.C, S.H, S.W), c=S.k, k=S.K, p=(S.K - 1) / 2)
    assert simplify(r.counts.macs - S.H * S.W * S.C * S.k * S.K**2) == 0


def test_symbolic_size_uses_floor():
    r = run("conv", Shape.image(I(3), S.R, S.R), c=32, k=3, s=2)
    assert r.shape.h == floor((S.R - 1) / 2) + 1


@pytest.mark.parametrize("op, shape, attrs, message", [
    ("conv", Shape.image(I(200), I(28), I(28)), {"c": 60, "k": 1, "g": 3}, "do not divide"),
    ("conv", Shape.image(I(3), I(2), I(2)), {"c": 8, "k": 7, "p": 0}, "too small"),
    ("split", Shape.image(I(8), I(4), I(4)), {"c": 9}, "split takes 9"),
    ("add", [Shape.image(I(8), I(4), I(4)), Shape.image(I(16), I(4), I(4))], {}, "equal channels"),
    ("conv", X, {"c": 8}, "needs k="),
    ("conv", X, {"c": 8, "k": 3, "stride": 2}, "no attribute 'stride'"),
])
def test_bad_attributes_are_user_errors(op, shape, attrs, message):
    with pytest.raises(CostModelError, match=message):
        run(op, shape, **attrs)


def test_every_op_has_a_docstring():
    assert all(definition.doc for definition in OPS.values())
