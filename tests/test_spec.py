"""The layer-spec language: structure, naming, repeats, branches, knobs and errors."""

import textwrap

import pytest
from sympy import Integer

from costmodel.errors import CostModelError, SpecError
from costmodel.spec import build, load_model, parse_text


def net(text, **values):
    return build(parse_text(textwrap.dedent(text), "test.cm"), values)


HEADER = """
model tiny
knob resolution 32 int min=1
knob alpha 1 positive
input 3 resolution resolution
"""


def test_layers_shapes_and_auto_names():
    n = net(HEADER + """
conv 16 k=3 s=2 bn=1 act=relu
dw
pw 32
gap
fc 10
""")
    assert [l.name for l in n.layers] == ["conv1", "conv1.bn", "conv1.relu", "dw1", "pw1",
                                          "gap1", "fc1"]
    assert n.output.c == 10
    # conv1: 16·16·16·3·9 = 110,592; dw1: 16·16·16·9 = 36,864; pw1: 16·16·16·32 = 131,072;
    # fc1: 32·10 = 320 -> 278,848 MACs
    assert n.macs() == 110_592 + 36_864 + 131_072 + 320


def test_repeat_applies_stride_to_first_only_and_names_units():
    n = net(HEADER + """
group stage2:
    conv 8 k=3 s=2 n=3 name=unit
""")
    assert [l.name for l in n.layers] == ["stage2.unit1", "stage2.unit2", "stage2.unit3"]
    assert [l.output.h for l in n.layers] == [16, 16, 16]


def test_residual_adds_when_shapes_agree_and_not_otherwise():
    text = HEADER + """
block ir(c, s=1):
    residual:
        pw c
        dw s=s
conv 8 k=3
ir 8
ir 16
ir 16 s=2
"""
    n = net(text)
    assert [l.name for l in n.layers if l.op == "add"] == ["ir1.add1"]


def test_residual_shortcut_projects_when_shapes_differ():
    n = net(HEADER + """
conv 8 k=3
residual:
    conv 16 k=3 s=2
    shortcut:
        conv 16 k=1 s=2
""")
    names = [l.name for l in n.layers]
    assert names == ["conv1", "conv2", "shortcut.conv1", "add1"]
    # the 1x1 stride-2 projection: 16·16·16·8 = 32,768 MACs
    assert n.layers[2].counts.macs == 32_768


def test_concat_split_and_identity_branches():
    n = net(HEADER + """
conv 8 k=3
concat:
    branch:
        split cin/2
    branch:
        split cin/2
        pw cin
shuffle 2
""")
    concat = next(l for l in n.layers if l.op == "concat")
    assert concat.output.c == 8
    assert [l.name for l in n.layers][1:4] == ["branch1.split1", "branch2.split1", "branch2.pw1"]


def test_if_let_and_functions():
    text = HEADER + """
knob rounding reference choice reference|none
let ch(c) = make_divisible(c*alpha, 8) if rounding == "reference" else c*alpha
let wide = ch(32)
if wide > 16:
    conv wide k=1
else:
    conv 16 k=1
"""
    assert net(text, alpha="0.75").layers[0].output.c == 24
    assert net(text, alpha="0.25").layers[0].output.c == 16  # 8 -> the else branch


def test_defaults_apply_to_lines_of_the_file():
    n = net(HEADER + """
defaults conv k=3 bias=1
conv 8
conv 8 bias=0
""")
    # 8·3·9 + 8 = 224 with bias; 8·8·9 = 576 without
    assert [l.counts.weights for l in n.layers] == [224, 576]


def test_knob_symbolic_and_validation():
    from costmodel.core import symbols as S
    n = net(HEADER + "conv 8*alpha k=1\n", alpha=S.alpha)
    assert n.macs() == 32 * 32 * 3 * 8 * S.alpha
    with pytest.raises(CostModelError, match="received alpha=-1"):
        net(HEADER + "conv 8 k=1\n", alpha="-1")
    with pytest.raises(CostModelError, match="has no knob 'beta'"):
        net(HEADER + "conv 8 k=1\n", beta="1")


@pytest.mark.parametrize("body, message", [
    ("conv 8 k=3 stride=2", "no attribute 'stride'"),
    ("convv 8 k=3", "unknown op or block 'convv'; did you mean conv"),
    ("conv 8 k = 3", "cannot read"),
    ("residual:\n    shortcut:\n        conv 8 k=1", "needs layers besides"),
    ("add:\n    branch:\n        conv 8 k=1", "at least two"),
    ("else:\n    conv 8 k=1", "'else' without"),
    ("conv 8 k=3 n=0", "n= must be a whole number"),
    ("conv 7 k=3\nconv 8 k=3 g=2", "groups g=2 do not divide the 7 input"),
    ("pw 8 act=mish", "unknown name 'mish'"),  # no op (tanh is one now: MaxViT's head)
    ("conv 8 k=(3", "unclosed"),
])
def test_errors_name_file_line_and_token(body, message):
    with pytest.raises(SpecError, match=message) as info:
        net(HEADER + body + "\n")
    assert str(info.value).startswith("test.cm:")
    assert info.value.line is not None and info.value.line > 4


def test_resolution_too_small_names_the_smallest_that_works():
    # 6 -> conv 3x3 valid -> 4 -> pool -> 2 -> pool -> 1; 5 -> 3 -> 1 -> 0
    with pytest.raises(CostModelError, match="smallest resolution that works is 6"):
        net(HEADER + "conv 8 k=3 p=0\nmaxpool 2\nmaxpool 2\n", resolution="4")


def test_file_with_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "hacked"
    path = tmp_path / "evil.cm"
    path.write_text(HEADER + f'conv __import__("os").system("touch {marker}") k=3\n')
    with pytest.raises(SpecError, match="only plain calls") as info:
        load_model(path)
    assert str(info.value).startswith(f"{path}:6:")
    assert not marker.exists()


@pytest.mark.parametrize("payload", [
    'exec("import os")', "().__class__.__bases__", "globals()", 'eval("1")',
    "[c for c in ().__class__.__mro__]",
])
def test_other_payloads_are_refused(tmp_path, payload):
    path = tmp_path / "evil.cm"
    path.write_text(HEADER + f"let x = {payload}\nconv 8 k=1\n")
    with pytest.raises(SpecError):
        load_model(path)


def test_missing_file_and_missing_input():
    with pytest.raises(SpecError, match="no such file"):
        load_model("/nonexistent/arch.cm")
    with pytest.raises(SpecError, match="no 'input C H W' line"):
        net("model x\nconv 8 k=1\n")


def test_docstring_paper_and_notes():
    spec = parse_text('"""A doc\nstring."""\nmodel m\npaper P, arXiv 1\nnote one\nnote two\n'
                      "input 3 8 8\nconv 4 k=1\n")
    assert (spec.doc, spec.paper, spec.notes) == ("A doc\nstring.", "P, arXiv 1", ("one", "two"))
    assert build(spec).layers[0].counts.macs == 8 * 8 * 3 * 4
