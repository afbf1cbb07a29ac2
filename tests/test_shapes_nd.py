"""Tensors of any rank and kernels per axis: ``input 3 224 320``, ``conv c k=1x7``, 1-D
sequences and 3-D video, counted exactly (closed forms here; torch's own counter in the slow
tier), written back by ``import`` and refused with a clear message where they do not fit."""

from __future__ import annotations

import pytest
from sympy import Integer, symbols

from costmodel.core.ops import Shape, apply
from costmodel.errors import CostModelError
from costmodel.frontends.to_spec import network_to_spec
from costmodel.spec import build, parse_text


def build_spec_text(text: str):
    return build(parse_text(text, "<test>"))

VIDEO = """
model clip
input 3 16 112 112
conv 64 k=3x7x7 s=1x2x2 p=1x3x3 bn=1 act=relu
maxpool k=1x3x3 s=1x2x2 p=0x1x1
conv 64 k=3 bn=1 act=relu
dw k=3 s=2
gap
fc 400
"""

FACTORIZED = """
model factorized
input 3 224 320
conv 32 k=3 s=2 bn=1 act=relu
conv 64 k=1x7 bn=1 act=relu
conv 64 k=7x1 s=2x1
let side = 3
conv 64 k=(1, side) p=(0, 1)
avgpool k=3x2
gap
fc 10
"""

SEQUENCE = """
model audio
input 80 3000
conv 384 k=3 bn=1 act=relu
conv 384 k=3 s=2
maxpool k=2
gap
fc 10
"""


def test_a_factorized_kernel_counts_kh_kw_per_output():
    x = Shape.image(Integer(32), Integer(112), Integer(160))
    r = apply("conv", [x], {"c": 64, "k": (1, 7)})
    assert r.shape == Shape.image(64, 112, 160)  # "same" padding 0x3 by default
    assert r.counts.macs == 112 * 160 * 64 * 32 * 1 * 7
    assert r.counts.weights == 64 * 32 * 7
    assert r.kind == "conv 1x7"


def test_per_axis_stride_and_padding_follow_each_axis():
    H, W = symbols("H W", positive=True, integer=True)
    r = apply("conv", [Shape.image(Integer(8), H, W)], {"c": 8, "k": (7, 1), "s": (2, 1)})
    assert r.shape.sizes[1] == W
    assert r.shape.sizes[0] == apply("conv", [Shape.image(Integer(8), H, W)],
                                     {"c": 8, "k": 7, "s": 2}).shape.h


def test_a_rectangular_file_and_factorized_kernels_build():
    net = build_spec_text(FACTORIZED)
    assert net.input == Shape.image(3, 224, 320)
    kinds = [layer.kind for layer in net.layers if layer.op == "conv"]
    assert kinds == ["conv 3x3", "conv 1x7", "conv 7x1", "conv 1x3"]
    by_name = {layer.name: layer for layer in net.layers}
    assert by_name["conv3"].output.sizes == (56, 160)  # stride 2 in height only
    assert by_name["conv3"].counts.macs == 56 * 160 * 64 * 64 * 7


def test_a_video_clip_counts_every_axis():
    net = build_spec_text(VIDEO)
    conv1 = net.layers[0]
    assert conv1.output == Shape(64, (16, 56, 56))
    assert conv1.counts.macs == 16 * 56 * 56 * 64 * 3 * 3 * 7 * 7
    assert conv1.kind == "conv 3x7x7"
    dw = next(layer for layer in net.layers if layer.op == "dw")
    assert dw.output.sizes == (8, 14, 14) and dw.kind == "conv dw 3x3x3"
    assert dw.counts.macs == 8 * 14 * 14 * 64 * 27
    assert net.layers[-1].output.sizes == (1, 1, 1)


def test_a_sequence_has_one_spatial_axis():
    net = build_spec_text(SEQUENCE)
    assert net.input == Shape(80, (3000,))
    assert net.layers[0].counts.macs == 3000 * 384 * 80 * 3
    assert net.layers[0].kind == "conv 3"
    assert str(net.layers[0].output) == "3000×384"


@pytest.mark.parametrize("line, words", [
    ("conv 8 k=1x7", ["k=1x7 gives 2 axes", "3 spatial axes"]),
    ("conv 8 k=1x2x3x4", ["1 to 3 values"]),
    ("conv 8 k=0x3", ["k= must be a whole number >= 1", "one per spatial axis"]),
    ("conv 8 k=3 s=(1, 2.5)", ["s= must be a whole number >= 1", "s=(1, 5/2)"]),
])
def test_per_axis_values_that_do_not_fit_are_refused_by_name(line, words):
    text = "model bad\ninput 3 8 32 32\n" + line + "\n"
    with pytest.raises(CostModelError) as info:
        build_spec_text(text)
    for word in words:
        assert word in str(info.value), str(info.value)


def test_per_axis_sizes_are_not_numbers_in_arithmetic():
    with pytest.raises(CostModelError, match="per-axis sizes 1x7"):
        build_spec_text("model bad\ninput 3 32 32\nlet k = 1x7\nconv 8*k k=3\n")


@pytest.mark.parametrize("text", [FACTORIZED, VIDEO, SEQUENCE])
def test_import_writes_per_axis_kernels_and_any_rank_back(text):
    net = build_spec_text(text)
    written = network_to_spec(net, check=True)  # check: rebuilt layer by layer and compared
    assert f"input {net.input.c} {' '.join(map(str, net.input.sizes))}" in written \
        or "input 3 resolution resolution" in written
    if text is FACTORIZED:
        assert "k=1x7" in written and "s=2x1" in written
