"""Rectangular inputs (issue 17): every zoo model takes height and width apart from its
resolution, `--input` with H ≠ W sets them, and a whole network's closed form can keep H and W
apart (the source material writes H×W; a square network is the special case H = W = R).

The torch side (each zoo model at 224×320 and 320×224 against FlopCounterMode) is in
tests/test_torch_exact.py; these tests need no torch.
"""

from __future__ import annotations

import json

import pytest
import sympy
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.analysis.derive_network import derive_network
from costmodel.cli.app import app
from costmodel.core import symbols as S
from costmodel.errors import CostModelError
from costmodel.spec.parser import parse_text
from costmodel.spec.builder import build

runner = CliRunner()

FOLLOWING = """model t
knob resolution 32 int min=1
knob height resolution int min=1
knob width resolution int min=1
input 3 height width
conv 8 k=3 s=2 p=1
gap
fc 10
"""


@pytest.mark.parametrize("name", zoo.names())
def test_every_zoo_model_takes_height_and_width_that_follow_its_resolution(name):
    knobs = {knob.name: knob for knob in zoo.spec(name).knobs}
    assert knobs["height"].follows == "resolution" and knobs["width"].follows == "resolution"
    square = zoo.build(name)
    assert square.input.h == square.input.w == int(knobs["resolution"].default)
    assert "height" not in dict(square.config) and "resolution" in dict(square.config)


def test_a_following_knob_takes_its_leaders_value_unless_set():
    spec = parse_text(FOLLOWING, "t.cm")
    assert (build(spec, {"resolution": "64"}).input.h, build(spec, {"resolution": "64"}).input.w) \
        == (64, 64)
    wide = build(spec, {"height": "32", "width": "96"})
    assert (wide.input.h, wide.input.w) == (32, 96)
    # the config names the sides that were set, and not the resolution they replaced
    assert dict(wide.config) == {"height": 32, "width": 96}
    assert dict(build(spec, {"resolution": "64", "width": "16"}).config) == \
        {"resolution": 64, "width": 16}


@pytest.mark.parametrize("default, says", [
    ("classes", "earlier number knob"),  # not declared before
    ("mode", "earlier number knob"),     # a choice knob
    ("height", "earlier number knob"),   # a knob that itself follows another
])
def test_a_knob_may_follow_only_an_earlier_number_knob(default, says):
    text = ("model t\nknob mode a choice a|b\nknob resolution 32 int\n"
            "knob height resolution int\n"
            f"knob width {default} int\nknob classes 10 int\ninput 3 height width\nconv 8\n")
    with pytest.raises(CostModelError, match=says):
        parse_text(text, "t.cm")


@pytest.mark.parametrize("name", ["mobilenet_v2", "resnet18", "shufflenet_v2", "vgg16"])
def test_a_rectangle_costs_what_its_transpose_costs(name):
    """Each of these networks treats height and width alike (square kernels and strides)."""
    wide = zoo.build(name, height=224, width=320)
    tall = zoo.build(name, height=320, width=224)
    assert wide.macs() == tall.macs() and wide.params() == tall.params()
    assert (wide.input.h, wide.input.w) == (224, 320)
    assert wide.macs() != zoo.build(name).macs()


def test_derive_keeps_height_and_width_apart_and_agrees_with_builds():
    result = derive_network("mobilenet_v2", symbols=["height", "width"])
    H, W = S.H, S.W
    assert result.expr == sympy.Rational(47751, 8) * H * W + 1280000
    for height, width in ((224, 320), (320, 224), (96, 512)):
        assert result.expr.subs({H: height, W: width}) == \
            zoo.build("mobilenet_v2", height=height, width=width).macs()
    # the square case is H = W = R
    square = derive_network("mobilenet_v2")
    assert square.expr == result.expr.subs({H: S.R, W: S.R})


def test_derive_refuses_resolution_with_height_or_width():
    with pytest.raises(CostModelError, match="either resolution or height and width"):
        derive_network("mobilenet_v2", symbols=["resolution", "height"])


def test_input_option_with_height_unlike_width_counts_the_rectangle():
    result = runner.invoke(app, ["compare", "mobilenet_v2", "--input", "1,3,224,320", "-f",
                                 "json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["config"]["height"] == 224 and row["config"]["width"] == 320
    assert row["macs"] == zoo.build("mobilenet_v2", height=224, width=320).macs()


def test_a_rectangle_too_small_names_both_sides():
    result = runner.invoke(app, ["compare", "vgg16:height=16"])
    assert result.exit_code == 2
    assert "height=16, width=224" in result.output and "too small" in result.output


def test_an_input_line_may_be_rectangular():
    network = build(parse_text("model t\ninput 3 224 320\nconv 8 k=3 s=2 p=1\n", "t.cm"))
    assert (network.layers[0].output.h, network.layers[0].output.w) == (112, 160)
