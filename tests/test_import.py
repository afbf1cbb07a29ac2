"""Network -> layer-spec text -> Network: the writer behind `costmodel import`.

Every zoo model is written and built back: the same layers (names, ops, shapes, raw counts),
and, built with the resolution symbolic, the same closed forms. The structure it finds is
checked on the models that have it, and graphs the language cannot write get an error naming
the layer.
"""

from dataclasses import replace

import pytest
import sympy
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.analysis.derive_network import derive_network
from costmodel.cli.app import app
from costmodel.core import ops
from costmodel.core import symbols as S
from costmodel.core.network import Layer, Network
from costmodel.core.ops import Shape
from costmodel.errors import CostModelError
from costmodel.frontends.to_spec import network_to_spec
from costmodel.spec import build, parse_text

COUNT_FIELDS = ("macs", "weights", "norm_params", "elementwise", "activations")


def rebuild(text: str, **knobs):
    return build(parse_text(text, "<written>"), knobs)


def layer_facts(layer: Layer) -> tuple:
    return (layer.name, layer.op, layer.kind, layer.output, layer.inputs, layer.counts,
            layer.macs("paper"), layer.params("paper"), layer.params("torch"))


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.names())
def test_every_zoo_model_round_trips_layer_for_layer(name):
    network = zoo.build(name)
    built = rebuild(network_to_spec(network))
    assert len(built.layers) == len(network.layers)
    for original, written in zip(network.layers, built.layers):
        assert layer_facts(written) == layer_facts(original)
        # the same graph, edge for edge (an add's inputs in either order: it commutes, and
        # residual: writes the body first)
        if original.op == "add":
            assert sorted(written.sources) == sorted(original.sources)
        else:
            assert written.sources == original.sources
    assert built.output == network.output


#: Zoo models the writer cannot keep symbolic: an `unwindow size=HxW` (MobileViT's folding) is
#: written as the numbers of the build, so the written file holds at that resolution only.
FIXED_SIZE = {name for name in zoo.names()
              if any(layer.op == "unwindow" for layer in zoo.build(name).layers)}


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in zoo.names() if n not in FIXED_SIZE])
def test_every_zoo_model_keeps_its_closed_form_in_R(name):
    text = network_to_spec(zoo.build(name))
    original = zoo.build(name, resolution=S.R)
    written = rebuild(text, resolution=S.R)
    assert S.R in written.free_symbols
    for field in COUNT_FIELDS:
        difference = getattr(original.total, field) - getattr(written.total, field)
        assert sympy.expand(difference) == 0, field


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.names())
def test_importing_a_written_file_writes_it_again(name):
    """The writer's fixed point: what it writes, built and written again, is the same text."""
    text = network_to_spec(zoo.build(name), source="x")
    assert network_to_spec(rebuild(text), source="x") == text


@pytest.mark.parametrize("spec", [
    "mobilenet_v2:alpha=0.5,resolution=160", "mobilenet_v2:rounding=none,alpha=0.35",
    "mobilenet_v3_small:rounding=none,alpha=0.75", "shufflenet_v1:g=8",
    "shufflenet_v2:impl=torchvision,alpha=0.5", "resnet50:variant=v1.5,resolution=192"])
def test_models_at_other_knobs_round_trip(spec):
    network = zoo.build(spec)
    text = network_to_spec(network)
    side = network.input.h
    assert f"knob resolution {side} int min=1" in text and "input 3 resolution resolution" in text
    built = rebuild(text)
    assert [layer_facts(x) for x in built.layers] == [layer_facts(x) for x in network.layers]


def test_a_non_square_input_is_written_with_numbers():
    x = Shape.image(sympy.Integer(3), sympy.Integer(32), sympy.Integer(48), "input")
    a = hand_layer("a", "conv", [x], c=8, k=3, s=2)
    b = hand_layer("b", "gap", [a.output])
    network = Network("wide", (), x, (a, b))
    text = network_to_spec(network)
    assert "\ninput 3 32 48\n" in text and "knob resolution" not in text
    assert "not square" in text
    assert rebuild(text).layers[0].output == a.output


def test_derive_gives_the_same_closed_form_from_the_written_file(tmp_path):
    path = tmp_path / "r50.cm"
    path.write_text(network_to_spec(zoo.build("resnet50")), encoding="utf-8")
    mine, theirs = derive_network(str(path)), derive_network("resnet50")
    assert sympy.expand(mine.expr - theirs.expr) == 0
    assert mine.expr.free_symbols == {S.R}


# --- the structure it finds -------------------------------------------------------------------

def test_resnet_units_become_one_block_with_a_projection_shortcut():
    text = network_to_spec(zoo.build("resnet50"))
    assert "block bottleneck(c, c2, s=1):" in text
    assert "    residual:" in text and "        shortcut:" in text
    # one line per stage: the stride on the first unit only, as the n= rule has it
    for line in ("bottleneck 64 256 n=3", "bottleneck 128 512 s=2 n=4",
                 "bottleneck 256 1024 s=2 n=6", "bottleneck 512 2048 s=2 n=3"):
        assert f"    {line}\n" in text
    assert text.count("\nblock ") == 1


def test_conv_bn_relu_fold_into_one_line():
    text = network_to_spec(zoo.build("resnet18"))
    assert "\nconv 64 k=7 s=2 bn=1 act=relu\n" in text
    assert "\nbn" not in text and "\nrelu\n" not in text


def test_shufflenet_units_are_branch_blocks():
    v1 = network_to_spec(zoo.build("shufflenet_v1"))
    assert "concat:" in v1 and "branch shortcut:" in v1 and "branch main:" in v1
    assert "residual:" in v1 or "add:" in v1
    assert "shuffle 3" in v1 and "block " in v1
    v2 = network_to_spec(zoo.build("shufflenet_v2"))
    assert "split " in v2 and "concat:" in v2 and "shuffle 2" in v2 and "block " in v2


def test_googlenet_inception_modules_are_one_block():
    text = network_to_spec(zoo.build("googlenet"))
    assert text.count("\nblock ") == 1 and "block inception(" in text
    block = text.split("block inception(", 1)[1].split("\n\n", 1)[0]
    assert block.count("branch ") == 4 and "concat:" in block
    assert text.count("\ninception ") == 9  # 3a, 3b, 4a-4e, 5a, 5b


def test_squeezenet_fire_modules_are_one_block():
    text = network_to_spec(zoo.build("squeezenet"))
    assert "block fire(" in text and "concat:" in text
    assert text.count("\nfire ") == 8  # fire2 ... fire9


def flat_named(network: Network) -> Network:
    """``network`` with names that show no structure (``conv_0``, ``bn_1``...), as an ONNX
    file from a framework without module paths has them; the graph is unchanged."""
    names = {"input": "input"} | {layer.name: f"{layer.op}_{i}"
                                   for i, layer in enumerate(network.layers)}
    layers = tuple(replace(layer, name=names[layer.name],
                           inputs=tuple(replace(x, producer=names[x.producer])
                                        for x in layer.inputs),
                           output=replace(layer.output, producer=names[layer.name]))
                   for layer in network.layers)
    return replace(network, layers=layers)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mobilenet_v1", "resnet50", "googlenet", "vgg16",
                                  "shufflenet_v2", "xception"])
def test_without_structured_names_repeated_units_are_found_from_the_graph(name):
    network = flat_named(zoo.build(name))
    text = network_to_spec(network)  # checked layer for layer by rebuilding it
    assert "\nblock unit(" in text
    built = rebuild(text)
    assert sorted(map(str, (x.counts for x in built.layers))) == \
        sorted(map(str, (x.counts for x in network.layers)))
    for field in COUNT_FIELDS:
        assert sympy.expand(getattr(rebuild(text, resolution=S.R).total, field)
                            - getattr(zoo.build(name, resolution=S.R).total, field)) == 0


def test_flat_resnet_and_mobilenet_become_tables_of_units():
    resnet = network_to_spec(flat_named(zoo.build("resnet50")))
    assert "block unit(c, c2, s=1):" in resnet and "shortcut:" in resnet
    assert "\nunit 128 512 s=2 n=4\n" in resnet
    mobilenet = network_to_spec(flat_named(zoo.build("mobilenet_v1")))
    assert "block unit(c, s=1):" in mobilenet and "\nunit 512 s=2 n=6\n" in mobilenet


def test_sizes_pinned_by_the_written_resolution_are_noted():
    text = network_to_spec(zoo.build("alexnet"))
    assert "note pool6: adaptivepool gives 6×6×256 at every resolution" in text
    assert "fc6: fc reads" not in text  # after the adaptive pool its input is fixed
    a = hand_layer("a", "conv", [X], c=8, k=3, s=2)
    b = hand_layer("b", "avgpool", [a.output], k=16)
    c = hand_layer("c", "fc", [a.output], c=10)
    pooled = network_to_spec(hand_network(a, b))
    assert "note b: a 16x16 window covers the whole 16×16×8 map at the written resolution " \
           "only" in pooled
    flat = network_to_spec(hand_network(a, c))
    assert "note c: fc reads a 16×16×8 map here, whose side follows the resolution" in flat


# --- graphs it cannot write -------------------------------------------------------------------

def hand_layer(name: str, op: str, inputs: list[Shape], **attrs) -> Layer:
    attrs = {key: sympy.sympify(value) for key, value in attrs.items()}  # as a builder has them
    result = ops.apply(op, inputs, attrs)
    return Layer(name, op, result.kind, tuple(attrs.items()), tuple(inputs),
                 replace(result.shape, producer=name), result.counts)


def hand_network(*layers: Layer) -> Network:
    return Network("hand", (), Shape.image(sympy.Integer(3), sympy.Integer(32), sympy.Integer(32),
                                     "input"), tuple(layers))


X = Shape.image(sympy.Integer(3), sympy.Integer(32), sympy.Integer(32), "input")


def test_nested_branches_a_map_read_twice_and_a_gate_read_first_round_trip():
    a = hand_layer("a", "conv", [X], c=8, k=3)
    b = hand_layer("b", "add", [a.output, a.output])  # add(x, x)
    c = hand_layer("br1.c", "conv", [b.output], c=8, k=3)
    r = hand_layer("br1.r", "relu", [c.output])
    res = hand_layer("br1.add", "add", [r.output, b.output])  # a residual inside a branch
    pool = hand_layer("br2.p", "maxpool", [b.output], k=3, s=1, p=1)
    cat = hand_layer("cat", "concat", [res.output, pool.output, b.output])
    gap = hand_layer("g.gap", "gap", [cat.output])
    fc = hand_layer("g.fc", "pw", [gap.output], c=24, bias=1)
    gate = hand_layer("g.sig", "sigmoid", [fc.output])
    mul = hand_layer("m", "mul", [gate.output, cat.output])  # the gate first
    network = hand_network(a, b, c, r, pool, res, cat, gap, fc, gate, mul)
    text = network_to_spec(network)
    assert "add:\n    branch:\n        identity\n    branch:\n        identity\n" in text
    assert "    branch br1:\n        residual:\n            conv 8 k=3 act=relu name=c\n" in text
    assert "mul:\n    branch g:\n" in text
    built = rebuild(text)
    assert sorted(map(str, (x.counts for x in built.layers))) == \
        sorted(map(str, (x.counts for x in network.layers)))
    assert [x.sources for x in built.layers if x.op == "mul"] == [("g.fc.sigmoid", "concat1")]


def test_branches_equal_only_at_the_written_size_are_said_to_have_no_closed_form():
    # conv k=3 s=2 p=1 and maxpool k=2 s=2 both halve 32 to 16, but floor((R-1)/2) + 1 and
    # floor((R-2)/2) + 1 differ at odd R: the concat has no closed form in R
    a = hand_layer("a", "conv", [X], c=8, k=3, s=2, p=1)
    b = hand_layer("b", "maxpool", [X], k=2, s=2)
    cat = hand_layer("cat", "concat", [a.output, b.output])
    text = network_to_spec(hand_network(a, b, cat))
    assert "note the file does not build with the resolution left symbolic" in text
    assert rebuild(text).layers[-1].output.c == 11


def test_a_graph_that_is_not_series_parallel_is_named():
    a = hand_layer("a", "conv", [X], c=8, k=3)
    b = hand_layer("b", "conv", [a.output], c=8, k=3)
    c = hand_layer("c", "conv", [X], c=8, k=3)
    # d merges b and c; e then merges d with a, which is already inside d's first branch
    d = hand_layer("d", "add", [b.output, c.output])
    e = hand_layer("e", "add", [d.output, a.output])
    with pytest.raises(CostModelError, match="layer a feeds two inputs of e"):
        network_to_spec(hand_network(a, b, c, d, e))


def test_a_layer_shared_by_two_branches_is_named():
    a = hand_layer("a", "conv", [X], c=8, k=3)
    b = hand_layer("b", "relu", [a.output])
    c = hand_layer("c", "relu", [a.output])
    d = hand_layer("d", "concat", [b.output, c.output, Shape(X.c, X.sizes, "input")])
    with pytest.raises(CostModelError, match=r"layer a feeds two inputs of d"):
        network_to_spec(hand_network(a, b, c, d))


def test_an_output_nobody_reads_is_named():
    a = hand_layer("a", "conv", [X], c=8, k=3)
    aux = hand_layer("aux", "gap", [a.output])
    b = hand_layer("b", "conv", [a.output], c=8, k=3)
    with pytest.raises(CostModelError, match="layer aux: its output is never read"):
        network_to_spec(hand_network(a, aux, b))


def test_an_unknown_source_is_named():
    a = hand_layer("a", "conv", [X], c=8, k=3)
    b = hand_layer("b", "relu", [replace(a.output, producer="ghost")])
    with pytest.raises(CostModelError, match="layer b reads 'ghost'"):
        network_to_spec(hand_network(a, b))


def test_a_symbolic_attribute_cannot_be_written():
    a = hand_layer("a", "conv", [X], c=8 * S.alpha, k=3)
    with pytest.raises(CostModelError, match="layer a: c is 8\\*alpha, not a number"):
        network_to_spec(hand_network(a))


def test_torch_style_names_are_made_plain_and_kept_where_they_can_be():
    a = hand_layer("features.0.0", "conv", [X], c=8, k=3, s=2)
    b = hand_layer("features.0.1", "bn", [a.output])
    c = hand_layer("features.0.2", "relu", [b.output])
    d = hand_layer("features.1", "gap", [c.output])
    e = hand_layer("classifier", "fc", [d.output], c=10)
    text = network_to_spec(hand_network(a, b, c, d, e))
    # features.0 = Sequential(conv, bn, relu): one line named after it, not a group of one
    assert "group features:\n    conv 8 k=3 s=2 bn=1 act=relu name=_0\n" in text
    built = rebuild(text)
    assert [x.name for x in built.layers] == ["features._0", "features._0.bn",
                                              "features._0.relu", "features._1", "classifier"]
    assert built.macs() == hand_network(a, b, c, d, e).macs()


# --- the command --------------------------------------------------------------------------------

def test_import_command_writes_a_file_that_derive_and_sweep_read(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["import", "mobilenet_v1"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "mnv1.cm"
    path.write_text(result.stdout, encoding="utf-8")
    derived = runner.invoke(app, ["derive", str(path), "-f", "json"])
    assert derived.exit_code == 0, derived.output
    zoo_derived = runner.invoke(app, ["derive", "mobilenet_v1", "-f", "json"])
    import json
    assert json.loads(derived.stdout)["expr"] == json.loads(zoo_derived.stdout)["expr"]
    swept = runner.invoke(app, ["sweep", str(path), "--resolution", "128,224", "-f", "json"])
    assert swept.exit_code == 0, swept.output
    rows = json.loads(swept.stdout)
    assert rows[-1]["macs"] == zoo.build("mobilenet_v1").macs()
    assert rows[0]["macs"] == zoo.build("mobilenet_v1:resolution=128").macs()


def test_import_command_reports_a_bad_spec_in_one_line():
    result = CliRunner().invoke(app, ["import", "mobilnet_v1"])
    assert result.exit_code == 2
    assert result.output.startswith("costmodel: error: unknown model 'mobilnet_v1'")


def test_the_readme_shows_what_import_writes():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Importing a model", 1)[1].split("\n## ", 1)[0]
    shown = section.split("```text\n")[2].split("```", 1)[0]
    assert shown in network_to_spec(zoo.build("resnet50"))
    derived = derive_network("resnet50").expr
    assert derived == 76848 * S.R**2 + 2048000 and "76848·R² + 2048000" in section
