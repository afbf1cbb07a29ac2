"""Invariants every zoo model must satisfy, parametrized over the whole registry."""

import pytest
from sympy import Rational

from costmodel import zoo
from costmodel.core import symbols as S

MODELS = zoo.names()

#: Knobs of these names become these symbols when left symbolic.
SYMBOLIC = {"alpha": S.alpha, "resolution": S.R, "t": S.t}


def test_the_registry_has_every_model_of_the_issue():
    assert set(MODELS) >= {
        "alexnet", "vgg16", "googlenet", "resnet18", "resnet34", "resnet50", "resnet101",
        "resnet152", "resnext50_32x4d", "xception", "mobilenet_v1", "mobilenet_v2",
        "shufflenet_v1", "shufflenet_v2", "squeezenet", "mobilenet_v3_large",
        "mobilenet_v3_small"}


@pytest.mark.parametrize("name", MODELS)
def test_documented(name):
    spec = zoo.spec(name)
    assert "arXiv" in spec.paper or "NIPS" in spec.paper, "the paper is cited"
    assert len(spec.doc) > 200, "the docstring explains the model and its counts"
    knobs = {k.name for k in spec.knobs}
    assert {"resolution", "classes"} <= knobs


@pytest.mark.parametrize("name", MODELS)
def test_shapes_are_consistent_layer_to_layer(name):
    net = zoo.build(name)
    produced = [net.input]
    for layer in net.layers:
        for shape in layer.inputs:
            assert shape in produced, f"{layer.name} reads {shape}, which no layer produced"
        produced.append(layer.output)
    assert net.output.c == 1000 and (net.output.h, net.output.w) == (1, 1)
    assert len({layer.name for layer in net.layers}) == len(net.layers), "names are unique"


@pytest.mark.parametrize("name", MODELS)
def test_closed_form_equals_the_per_layer_sum(name):
    spec = zoo.spec(name)
    numeric = zoo.build(name)
    symbolic_knobs = [k.name for k in spec.knobs if k.name in SYMBOLIC and k.type != "choice"]
    checked = 0
    # all numeric knobs symbolic at once, then each alone: a closed form is compared wherever
    # its recorded assumptions hold at the defaults (ShuffleNet v1's is not valid at alpha=1,
    # a width with an official table entry)
    for names in [symbolic_knobs] + [[n] for n in symbolic_knobs]:
        symbolic = zoo.build(name, **{n: SYMBOLIC[n] for n in names})
        at = {SYMBOLIC[n]: numeric.settings[n] for n in names}
        if not symbolic.holds_at(at):
            continue
        assert symbolic.macs().subs(at) == sum(layer.counts.macs for layer in numeric.layers)
        assert symbolic.params().subs(at) == sum(layer.counts.weights for layer in numeric.layers)
        assert symbolic.params("torch").subs(at) == numeric.params("torch")
        checked += 1
    assert checked, "some closed form holds at the defaults"


@pytest.mark.parametrize("name", MODELS)
def test_macs_grow_with_resolution_params_do_not_change(name):
    base = int(zoo.build(name).settings["resolution"])
    step = 64 if name == "mobilevit" else 32  # MobileViT's 2x2 patches of the stride-32 map
    small, large = zoo.build(name, resolution=base), zoo.build(name, resolution=base + step)
    assert large.macs() > small.macs()
    if name == "vit":  # one learned position embedding per token: 14² -> 16² patches of 16
        assert large.params() - small.params() == (16 * 16 - 14 * 14) * 768
    else:
        assert large.params() == small.params()


@pytest.mark.parametrize("name", [n for n in MODELS if zoo.spec(n).knob("alpha")])
def test_macs_and_params_grow_with_alpha(name):
    knob = zoo.spec(name).knob("alpha")
    if knob.type == "choice":
        alphas = sorted(knob.choices, key=Rational)
    else:
        alphas = ["0.5", "1", "1.5"]
    nets = [zoo.build(name, alpha=a) for a in alphas]
    macs = [n.macs() for n in nets]
    assert macs == sorted(macs) and len(set(macs)) == len(macs)
    params = [n.params() for n in nets]
    assert params == sorted(params)


@pytest.mark.parametrize("name", MODELS)
def test_classes_change_only_the_classifier(name):
    ten, thousand = zoo.build(name, classes=10), zoo.build(name)
    differing = [a for a, b in zip(ten.layers, thousand.layers) if a.counts != b.counts]
    assert differing, "the classifier depends on classes"
    assert all(layer.output.c == 10 for layer in differing), [l.name for l in differing]
