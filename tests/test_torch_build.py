"""to_torch: readable modules named as the layers, real forward passes, per-layer choices
(functional calls, shared modules), errors; and torch stays out of `import costmodel`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import torch  # noqa: E402

import costmodel  # noqa: E402
from costmodel import zoo  # noqa: E402
from costmodel.core import symbols as S  # noqa: E402
from costmodel.errors import CostModelError  # noqa: E402
from costmodel.frontends.torch_build import Choice, SpecModule  # noqa: E402

pytestmark = pytest.mark.slow  # torch

ROOT = Path(__file__).resolve().parent.parent


def test_import_costmodel_does_not_import_torch():
    code = ("import sys, costmodel, costmodel.frontends, costmodel.zoo, costmodel.cli.app; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_module_names_follow_the_layer_names():
    module = costmodel.to_torch("mobilenet_v2", alpha="0.5", resolution="96")
    assert isinstance(module, SpecModule) and not module.training
    names = dict(module.named_modules())
    assert isinstance(names["stem.conv"], torch.nn.Conv2d)          # stem, with stem.bn after it
    assert isinstance(names["stem.bn"], torch.nn.BatchNorm2d)
    assert isinstance(names["inverted_residual3.add1"], torch.nn.Module)
    assert isinstance(names["classifier"], torch.nn.Linear)
    text = str(module)
    assert "(inverted_residual2): Group(" in text and "(expand): Group(" in text
    # every parameter is in a leaf module, as leaf-visiting counters (thop) need
    for name, sub in module.named_modules():
        if next(sub.children(), None) is not None:
            assert not list(sub.parameters(recurse=False)), name


@pytest.mark.parametrize("spec", ["shufflenet_v2:resolution=64", "shufflenet_v1:g=3,resolution=64",
                                  "mobilenet_v3_small:resolution=64", "googlenet:resolution=64",
                                  "squeezenet:resolution=64"])
def test_a_real_forward_pass_gives_the_predicted_output(spec):
    network = zoo.build(spec)
    module = costmodel.to_torch(network)
    with torch.no_grad():
        outputs = module.run(torch.randn(2, 3, 64, 64), keep=True)
    for layer in network.layers:
        shape = tuple(outputs[layer.name].shape)
        assert shape[1] == layer.output.c and shape[0] == 2, layer.name
        assert torch.isfinite(outputs[layer.name]).all()
    assert module(torch.randn(1, 3, 64, 64)).numel() == 1000  # N×1000 (or SqueezeNet's N×1000×1×1)


def test_channel_split_branches_take_consecutive_slices_as_chunk_does():
    network = zoo.build("shufflenet_v2:resolution=64")
    module = costmodel.to_torch(network)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        out = module.run(x, keep=True)
    unit = "stage2.shufflenet_v2_unit2"
    source = next(l for l in network.layers if l.name == f"{unit}.left.split1").sources[0]
    first, second = out[source].chunk(2, dim=1)
    assert torch.equal(out[f"{unit}.left.split1"], first)
    assert torch.equal(out[f"{unit}.right.split1"], second)


def test_choices_make_layers_functional_or_share_a_module_and_keep_the_counts():
    from torch.utils.flop_counter import FlopCounterMode

    network = zoo.build("resnet18", resolution="64")

    def choose(layer):
        if layer.op == "relu":  # one ReLU module per block, as torchvision's BasicBlock
            return Choice(path=layer.name.rsplit(".", 2)[0] + ".relu" if layer.name.count(".") >= 2
                          else layer.name)
        if layer.op in ("gap", "add"):
            return Choice("function")
        if layer.op == "fc":  # a factory of one's own for this layer
            return Choice(factory=lambda info: torch.nn.Linear(info.cin, info.attrs["c"]))
        return None

    # choose=None-for-every-layer: one module per layer (the default follows the reference,
    # torchvision's ResNet, which already shares its ReLUs)
    plain = costmodel.to_torch(network, choose=lambda layer: None)
    chosen = costmodel.to_torch(network, choose=choose)
    assert len(list(chosen.modules())) < len(list(plain.modules()))
    assert isinstance(chosen.get_submodule("fc1"), torch.nn.Linear)
    assert not hasattr(chosen.layer1.basic1, "add1")  # functional
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        for module in (plain, chosen):
            with FlopCounterMode(display=False) as counter:
                module(x)
            assert counter.get_total_flops() == 2 * network.macs()
    assert sum(p.numel() for p in chosen.parameters()) == network.params("torch")


def test_a_symbolic_or_fractional_network_is_refused():
    with pytest.raises(CostModelError, match="not a whole number"):
        costmodel.to_torch(zoo.build("mobilenet_v1", alpha=S.alpha, rounding="none"))
    with pytest.raises(CostModelError, match="not a whole number"):
        costmodel.to_torch("mobilenet_v1:alpha=0.3,rounding=none")
