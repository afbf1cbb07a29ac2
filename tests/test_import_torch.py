"""`costmodel import` on PyTorch modules: a module traced by count_torch, written as a .cm
file, builds back to the same layers, and its closed form in R gives, at every resolution, what
tracing the module at that resolution gives.

The modules are the hand-written ones of tests/torch_modules/nets.py (a small ResNet with a
residual add, a grouped conv and a channel shuffle; a DenseNet-style block with concatenation;
an SE block with a multiply), each with a .cm twin written by hand beside it.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import sympy
from typer.testing import CliRunner

from costmodel import count_torch
from costmodel.cli.app import app
from costmodel.core import symbols as S
from costmodel.core.network import exact
from costmodel.frontends.to_spec import network_to_spec
from costmodel.spec import build, parse_text
from costmodel.spec.builder import load_model
from tests.torch_modules import nets

pytestmark = pytest.mark.slow  # torch

HERE = Path(__file__).parent / "torch_modules"
MODULES = [(nets.SmallResNet, "small_resnet.cm"), (nets.DenseBlockNet, "dense_block.cm"),
           (nets.SENet, "se_net.cm")]
FIELDS = ("macs", "weights", "norm_params", "elementwise", "activations")


def facts(layer) -> tuple:
    """What a layer costs and where it sits, its name aside (folded batch norms and
    activations take their line's name)."""
    return (layer.kind, layer.output, layer.inputs, layer.counts,
            layer.macs("paper"), layer.params("paper"), layer.params("torch"))


@pytest.mark.parametrize("factory, twin", MODULES)
def test_a_traced_module_imports_to_the_same_layers(factory, twin):
    network = count_torch(factory(), (1, 3, 64, 64))
    text = network_to_spec(network)
    built = build(parse_text(text, "<written>"))
    assert Counter(map(facts, built.layers)) == Counter(map(facts, network.layers))
    assert built.total == network.total
    assert "knob resolution 64 int min=1" in text and "input 3 resolution resolution" in text


@pytest.mark.parametrize("factory, twin", MODULES)
def test_the_imported_closed_form_is_the_hand_written_twins(factory, twin):
    text = network_to_spec(count_torch(factory(), (1, 3, 64, 64)))
    written = build(parse_text(text, "<written>"), {"resolution": S.R})
    by_hand = load_model(HERE / twin, {"resolution": S.R})
    assert S.R in written.free_symbols
    for field in FIELDS:
        assert sympy.expand(getattr(written.total, field) - getattr(by_hand.total, field)) == 0


@pytest.mark.parametrize("factory, twin", MODULES)
@pytest.mark.parametrize("side", [32, 96, 160])
def test_the_closed_form_is_what_tracing_at_each_resolution_gives(factory, twin, side):
    text = network_to_spec(count_torch(factory(), (1, 3, 64, 64)))
    written = build(parse_text(text, "<written>"), {"resolution": S.R})
    traced = count_torch(factory(), (1, 3, side, side))
    assert exact(written.macs().subs(S.R, side)) == exact(traced.macs())
    assert exact(written.params("torch").subs(S.R, side)) == exact(traced.params("torch"))


def test_the_written_files_show_the_structure():
    resnet = network_to_spec(count_torch(nets.SmallResNet(), (1, 3, 64, 64)))
    assert "residual:" in resnet and "shuffle 4" in resnet and "g=4 bn=1" in resnet
    dense = network_to_spec(count_torch(nets.DenseBlockNet(), (1, 3, 64, 64)))
    assert "concat:" in dense and "block " in dense and " n=2" in dense
    se = network_to_spec(count_torch(nets.SENet(), (1, 3, 64, 64)))
    assert "mul:" in se and "branch gate:" in se and "act=sigmoid" in se


def test_import_of_a_python_factory_and_derive_of_the_file(tmp_path):
    runner = CliRunner()
    source = tmp_path / "my_net.py"
    source.write_text("import sys\n"
                      f"sys.path.insert(0, {str(HERE.parent.parent)!r})\n"
                      "from tests.torch_modules.nets import SmallResNet\n\n"
                      "def build():\n    return SmallResNet()\n", encoding="utf-8")
    result = runner.invoke(app, ["import", f"{source}:build:resolution=64"])
    assert result.exit_code == 0, result.output
    spec = tmp_path / "my_net.cm"
    spec.write_text(result.stdout, encoding="utf-8")
    derived = runner.invoke(app, ["derive", str(spec), "-f", "json"])
    assert derived.exit_code == 0, derived.output
    by_hand = runner.invoke(app, ["derive", str(HERE / "small_resnet.cm"), "-f", "json"])
    assert json.loads(derived.stdout)["expr"] == json.loads(by_hand.stdout)["expr"]


def test_a_module_with_an_op_costmodel_does_not_count_cannot_be_imported():
    network = count_torch(nets.WithUncountedOps(), (1, 3, 32, 32))
    with pytest.raises(Exception, match="reads 'act', which no earlier layer of the network "
                                        "writes"):
        network_to_spec(network)


def test_the_readme_shows_what_import_writes_for_the_example_module(tmp_path):
    import sys

    from costmodel.analysis.derive_network import derive_network

    root = HERE.parent.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Importing a model", 1)[1].split("\n## ", 1)[0]
    shown = section.split("```text\n")[1].split("```", 1)[0]
    sys.path.insert(0, str(root))
    try:
        from examples.my_net import build as my_net
    finally:
        sys.path.remove(str(root))
    text = network_to_spec(count_torch(my_net(), (1, 3, 224, 224)))
    assert shown in text
    path = tmp_path / "my_net.cm"
    path.write_text(text, encoding="utf-8")
    # valid for R a multiple of 32, the total stride, as derive states
    assert derive_network(str(path)).expr == sympy.Rational(8059, 2) * S.R**2 + 256000
    assert "8059·R²/2 +\n256000" in section or "8059·R²/2 + 256000" in section


def test_what_the_tracer_could_not_count_is_said_in_the_written_file():
    from torch import nn

    module = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                           nn.Flatten(), nn.Linear(8, 10), nn.Softmin(dim=1))
    network = count_torch(module, (1, 3, 32, 32))
    assert [w.subject for w in network.warnings if w.kind == "uncounted"] == ["nn.Softmin"]
    text = network_to_spec(network)
    built = build(parse_text(text, "<written>"))
    assert built.total == network.total
    # the warning stays a warning of the written file (`note warning: ...`), not a plain note
    assert not [note for note in built.notes if "nn.Softmin" in note]
    assert [w.text() for w in built.warnings if "nn.Softmin" in w.text()] == \
        [w.text() for w in network.warnings if "nn.Softmin" in w.text()]
