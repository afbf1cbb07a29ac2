"""Network-level invariants: closed forms, conventions, views."""

import pytest
from sympy import simplify

from costmodel import zoo
from costmodel.core import symbols as S


def test_closed_form_in_alpha_and_resolution_equals_per_layer_sums():
    symbolic = zoo.build("mobilenet_v1", alpha=S.alpha, resolution=S.R, rounding="none")
    for alpha, resolution in (("1", 224), ("0.5", 160), ("0.25", 128), ("0.75", 192)):
        numeric = zoo.build("mobilenet_v1", alpha=alpha, resolution=resolution)
        values = {S.alpha: numeric.settings["alpha"], S.R: resolution}
        assert symbolic.macs().subs(values) == sum(l.counts.macs for l in numeric.layers)
        assert symbolic.params().subs(values) == sum(l.counts.weights for l in numeric.layers)


def test_closed_form_in_alpha_is_the_papers_polynomial():
    # MobileNet v1 Eq. 6 summed over the body: a·alpha² + b·alpha (the stem and the FC are
    # linear in alpha, every pointwise conv quadratic)
    macs = zoo.build("mobilenet_v1", alpha=S.alpha, rounding="none").macs()
    assert macs.as_poly(S.alpha).degree() == 2
    assert simplify(macs.subs(S.alpha, 1) - 568_740_352) == 0


def test_torch_convention_adds_exactly_the_batch_norm_parameters():
    net = zoo.build("mobilenet_v1")
    bn = sum(2 * l.output.c for l in net.layers if l.op == "bn")
    assert net.params("torch") - net.params("paper") == bn
    assert net.macs("torch") == net.macs("paper")


def test_evaluate_gives_exact_integers():
    values = zoo.build("mobilenet_v1", alpha=S.alpha, rounding="none").evaluate({"alpha": 0.5})
    assert values["macs"] == zoo.build("mobilenet_v1", alpha="0.5").macs()
    assert isinstance(values["macs"], int)


def test_by_type_matches_the_papers_table2():
    # Howard et al., arXiv 1704.04861, Table 2: Conv 1x1 94.86% of Mult-Adds, 74.59% of
    # params; Conv DW 3x3 3.06% / 1.06%; Conv 3x3 1.19% / 0.02%; FC 0.18% / 24.33%.
    net = zoo.build("mobilenet_v1")
    groups = net.type_totals()
    macs_share = {kind: 100 * float(macs / net.macs()) for kind, (macs, _) in groups.items()}
    for kind, printed in (("conv 1x1", 94.86), ("conv dw 3x3", 3.06), ("fc", 0.18)):
        assert abs(macs_share[kind] - printed) < 0.005, kind
    # The stem conv is 1.91% (10,838,016 / 568,740,352): the printed 1.19% has its digits
    # swapped; with 1.91 the column sums to 100.01% instead of the printed 99.29%.
    assert abs(macs_share["conv 3x3"] - 1.91) < 0.005
    # The params column leaves out the FC's 1,000 biases: 4,209,088 weights in all.
    weights = net.params() - 1000
    params_share = {kind: 100 * float((params - (1000 if kind == "fc" else 0)) / weights)
                    for kind, (_, params) in groups.items()}
    for kind, printed in (("conv 1x1", 74.59), ("conv dw 3x3", 1.06), ("conv 3x3", 0.02),
                          ("fc", 24.33)):
        assert abs(params_share[kind] - printed) < 0.005, kind


@pytest.mark.slow
def test_frame_view():
    frame = zoo.build("vgg16").to_frame()
    assert frame.loc["stage1.conv1", "macs"] == 224 * 224 * 64 * 3 * 9
    assert frame["params"].sum() == 138_357_544


def test_layers_record_the_graph_edges():
    # Each layer names the layers it reads: a chain reads its predecessor, the residual add of
    # an inverted residual block reads the projection's batch norm and the block's input.
    net = zoo.build("mobilenet_v2")
    names = [layer.name for layer in net.layers]
    assert net.layers[0].sources == ("input",)
    for before, layer in zip(net.layers, net.layers[1:]):
        if layer.op not in ("add", "concat", "mul"):
            assert layer.sources == (before.name,), layer.name
    add = next(layer for layer in net.layers if layer.op == "add")
    body, shortcut = add.sources
    assert body.endswith("project.bn") and shortcut.endswith("project.bn")
    assert names.index(shortcut) < names.index(body)  # the previous block's output
    # every source is an earlier layer or the input
    seen = {"input"}
    for layer in net.layers:
        assert set(layer.sources) <= seen, layer.name
        seen.add(layer.name)


def test_a_network_prints_as_one_line():
    net = zoo.build("mobilenet_v1")
    text = repr(net)
    assert text == str(net) and "\n" not in text and len(text) < 200
    assert text == ("<Network mobilenet_v1 (alpha=1, resolution=224, classes=1000, "
                    "rounding=reference): 568,740,352 MACs, 4,210,088 params, 83 layers>")
    symbolic = repr(zoo.build("mobilenet_v2", alpha=S.alpha, resolution=S.R))
    assert "a closed form in R, alpha MACs" in symbolic and len(symbolic) < 200
    latex = zoo.build("mobilenet_v1", alpha=S.alpha, rounding="none")._repr_latex_()
    assert latex.startswith(r"$\text{mobilenet\_v1 (alpha=alpha") and r"\alpha^{2}" in latex


def test_by_type_is_a_data_frame_of_exact_counts():
    net = zoo.build("mobilenet_v1")
    frame = net.by_type()
    assert list(frame.columns) == ["layers", "macs", "params"]
    assert frame.loc["conv 1x1", "macs"] == 539_492_352 and frame.loc["fc", "params"] == 1_025_000
    assert int(frame["macs"].sum()) == net.macs() and int(frame["layers"].sum()) == len(net.layers)
