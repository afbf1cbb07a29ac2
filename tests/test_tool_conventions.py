"""The tool conventions against the tools themselves: each preset equals the tool's own output
exactly (MACs and params), run in this process on hand-written transcriptions of torchvision's
models (tests/torchvision_modules.py) and on one-op modules that pin every rule, the tools'
bugs included.

Tools and versions: fvcore 0.1.5 (post20221221), thop 0.1.1 (post2209072238), ptflops 0.7.5, torchprofile
0.1.0, calflops 0.3.2, with torch 2.13.0 (CPU); tests/tool_counts.py runs them. The tool runs
here take about 10 s in all.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
import torch
from torch import nn

from costmodel import zoo
from costmodel.core.conventions import CONVENTIONS, TOOLS as RULES
from costmodel.errors import CostModelError
from costmodel.spec.builder import build
from costmodel.spec.parser import parse_text
from tests import torchvision_modules as tv
from tests.tool_counts import TOOLS

pytestmark = pytest.mark.slow  # torch and the real counting tools

# zoo spec, the torchvision model it is (hand-written), input side. The forward passes are
# most of these tests' time: the larger networks run at smaller inputs (the rules do not
# depend on the input size; odd sides exercise the ceil-mode and padded poolings).
NETWORKS = {
    "mobilenet_v2": (lambda: tv.MobileNetV2(1.0), 224),
    "mobilenet_v2:alpha=0.5,resolution=160": (lambda: tv.MobileNetV2(0.5), 160),
    "mobilenet_v2:alpha=1.4,resolution=96": (lambda: tv.MobileNetV2(1.4), 96),
    "shufflenet_v2:impl=torchvision": (lambda: tv.ShuffleNetV2(1), 224),
    "shufflenet_v2:impl=torchvision,alpha=0.5,resolution=115": (lambda: tv.ShuffleNetV2(0.5), 115),
    "resnet50:variant=v1.5,resolution=97": (tv.ResNet50, 97),
    "squeezenet:resolution=163": (tv.SqueezeNet, 163),
    "mobilenet_v3_large:rounding=torchvision": (tv.mobilenet_v3_large, 224),
    "mobilenet_v3_small:rounding=torchvision": (tv.mobilenet_v3_small, 224),
}


@cache
def module(spec: str) -> nn.Module:
    return NETWORKS[spec][0]()  # one per network: each tool leaves the module as it was


@cache
def measured(spec: str, tool: str) -> tuple[int, int]:
    return TOOLS[tool](module(spec), NETWORKS[spec][1])


@cache
def built(spec: str):
    return zoo.build(spec)


@pytest.mark.parametrize("tool", list(TOOLS))
@pytest.mark.parametrize("spec", list(NETWORKS))
def test_preset_equals_the_tool_on_torchvisions_models(spec, tool):
    network = built(spec)
    assert (network.macs(tool), network.params(tool)) == measured(spec, tool)


# Every zoo model as to_torch builds it: as its reference writes it (functional pools, a
# shared ReLU, in-place adds; core/calls.py REFERENCE_CALLS), so the tools count it as they
# count torchvision's own model (the hand-written copies above).
TO_TORCH = (*NETWORKS, "shufflenet_v2", "resnet18:resolution=64", "resnet101:resolution=64",
            "resnext50_32x4d:resolution=64", "mobilenet_v1:resolution=128",
            "shufflenet_v1:resolution=96", "xception:resolution=71", "vgg16:resolution=32",
            "googlenet:resolution=64", "alexnet:resolution=99")


@cache
def measured_to_torch(spec: str, tool: str) -> tuple[int, int]:
    from costmodel import to_torch

    network = built(spec)
    return TOOLS[tool](to_torch(network), int(network.input.h))


@pytest.mark.parametrize("tool", list(TOOLS))
@pytest.mark.parametrize("spec", TO_TORCH)
def test_preset_equals_the_tool_on_to_torch_modules(spec, tool):
    network = built(spec)
    assert (network.macs(tool), network.params(tool)) == measured_to_torch(spec, tool)
    if spec in NETWORKS:  # to_torch writes it as torchvision does
        assert measured_to_torch(spec, tool) == measured(spec, tool)


@cache
def traced(spec: str):
    from costmodel import count_torch

    resolution = NETWORKS[spec][1]
    return count_torch(module(spec), (1, 3, resolution, resolution))


@pytest.mark.parametrize("tool", list(TOOLS))
@pytest.mark.parametrize("spec", list(NETWORKS))
def test_preset_equals_the_tool_on_traced_modules(spec, tool):
    # count_torch records each layer's call as traced (F.adaptive_avg_pool2d, x.mean, +=...)
    network = traced(spec)
    assert (network.macs(tool), network.params(tool)) == measured(spec, tool)


# The issue's figures for torchvision's MobileNet v2 at 224, measured with the tools above
# (FlopCounterMode's FLOPs / 2); the hand-written module gives each exactly.
MOBILENET_V2_224 = {"torch": 300_774_272, "fvcore": 314_193_216, "thop": 327_486_720,
                    "ptflops": 320_300_008, "ptflops-aten": 300_775_272,
                    "torchprofile": 307_453_664, "calflops": 300_774_272}


@pytest.mark.parametrize("tool", list(MOBILENET_V2_224))
def test_the_issues_mobilenet_v2_figures(tool):
    assert measured("mobilenet_v2", tool)[0] == MOBILENET_V2_224[tool]
    assert built("mobilenet_v2").macs(tool) == MOBILENET_V2_224[tool]


# --- one op at a time: every rule, bugs included ---------------------------------------------

class Functional(nn.Module):
    """A parameter-free op written as a call in forward (no module for hooks to see). The
    function is looked up at each call, as a forward does: ptflops and calflops patch
    torch.nn.functional's attributes, and miss a function object held from before."""

    def __init__(self, function):
        super().__init__()
        self.function = function

    def forward(self, x):
        return self.function(x)


# PyTorch call -> (a module computing it on 1×3×8×8, the one-layer spec, the layer's op)
ONE_OP = {
    "nn.Conv2d": (lambda: nn.Conv2d(3, 4, 3, padding=1, bias=True), "conv 4 k=3 bias=1"),
    "nn.Linear": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(192, 10)), "fc 10"),
    "nn.BatchNorm2d": (lambda: nn.BatchNorm2d(3), "bn"),
    "nn.ReLU": (nn.ReLU, "relu"),
    "nn.ReLU6": (nn.ReLU6, "relu6"),
    "nn.Sigmoid": (nn.Sigmoid, "sigmoid"),
    "nn.Hardsigmoid": (nn.Hardsigmoid, "hsigmoid"),
    "nn.Hardswish": (nn.Hardswish, "hswish"),
    "nn.SiLU": (nn.SiLU, "swish"),
    "nn.MaxPool2d": (lambda: nn.MaxPool2d(2), "maxpool 2"),
    "nn.AvgPool2d": (lambda: nn.AvgPool2d(2), "avgpool 2"),
    "nn.AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(1), "gap"),
    "F.adaptive_avg_pool2d": (lambda: Functional(lambda x: nn.functional.adaptive_avg_pool2d(
        x, (1, 1))), "gap"),
    "Tensor.mean": (lambda: Functional(lambda x: x.mean([2, 3], keepdim=True)), "gap"),
    "nn.LocalResponseNorm": (lambda: nn.LocalResponseNorm(4), "lrn size=4"),
    "F.relu": (lambda: Functional(lambda x: nn.functional.relu(x)), "relu"),
    "F.relu6": (lambda: Functional(lambda x: nn.functional.relu6(x)), "relu6"),
    "F.max_pool2d": (lambda: Functional(lambda x: nn.functional.max_pool2d(x, 2)), "maxpool 2"),
    "F.avg_pool2d": (lambda: Functional(lambda x: nn.functional.avg_pool2d(x, 2)), "avgpool 2"),
    "F.silu": (lambda: Functional(lambda x: nn.functional.silu(x)), "swish"),
    "F.hardswish": (lambda: Functional(lambda x: nn.functional.hardswish(x)), "hswish"),
    "F.hardsigmoid": (lambda: Functional(lambda x: nn.functional.hardsigmoid(x)), "hsigmoid"),
    "torch.sigmoid": (lambda: Functional(lambda x: torch.sigmoid(x)), "sigmoid"),
}


def one_layer(call: str):
    network = build(parse_text(f"model one\ninput 3 8 8\n{ONE_OP[call][1]}\n"))
    (layer,) = network.layers
    return replace(network, layers=(replace(layer, call=call),))


@cache
def measured_one(call: str, tool: str) -> tuple[int, int]:
    # inside a container, as a layer always is: thop leaves out the root module's own
    # parameters (test_thop_skips_the_root_modules_parameters); an empty parameter, because
    # calflops stops (StopIteration) on a module without any
    holder = nn.Sequential(ONE_OP[call][0]())
    holder.register_parameter("empty", nn.Parameter(torch.empty(0)))
    return TOOLS[tool](holder, 8)


@pytest.mark.parametrize("tool", [t.name for t in RULES])
@pytest.mark.parametrize("call", list(ONE_OP))
def test_each_rule_is_the_tools_count_for_one_op(call, tool):
    network = one_layer(call)
    assert (network.macs(tool), network.params(tool)) == measured_one(call, tool)


def test_every_call_the_tests_pin_is_a_call_of_its_op():
    # each one-op module above is written with a call its op's definition lists, so the
    # rule pinned is the tool's rule for that op's category or a named exception
    from costmodel.core.ops import OPS

    for call in ONE_OP:
        (layer,) = one_layer(call).layers
        assert call in OPS[layer.op].torch.calls, call


# Each bug reproduced, pinned on its own (3×8×8 = 192 elements; 3×4×4 = 48 after a 2×2 pool).

def test_ptflops_counts_relu_twice():
    # the nn.ReLU hook counts the output, and nn.ReLU calls the patched F.relu: 192 again
    assert measured_one("nn.ReLU", "ptflops")[0] == 2 * 192 == one_layer("nn.ReLU").macs("ptflops")
    assert measured_one("nn.ReLU6", "ptflops")[0] == 192  # ReLU6 calls F.hardtanh: once


def test_ptflops_counts_pooling_modules_twice():
    for call in ("nn.MaxPool2d", "nn.AvgPool2d", "nn.AdaptiveAvgPool2d"):
        assert measured_one(call, "ptflops")[0] == 2 * 192 == one_layer(call).macs("ptflops")
    assert measured_one("F.adaptive_avg_pool2d", "ptflops")[0] == 192


def test_thop_counts_batch_norm_four_times_per_element():
    assert measured_one("nn.BatchNorm2d", "thop")[0] == 4 * 192
    assert one_layer("nn.BatchNorm2d").macs("thop") == 4 * 192


def test_hook_based_tools_miss_functional_pooling():
    # MobileNet v2 pools with F.adaptive_avg_pool2d: thop sees no module; the module form
    # costs (kernel + 1) per output element = 192 + 3
    assert measured_one("F.adaptive_avg_pool2d", "thop")[0] == 0
    assert measured_one("nn.AdaptiveAvgPool2d", "thop")[0] == 192 + 3


def test_skipped_ops():
    # fvcore and torchprofile skip hard-swish (unsupported / no handler); fvcore skips the
    # ReLU6 (hardtanh), max pooling and x.mean; ptflops has no hook for Hardswish
    for tool, call in (("fvcore", "nn.Hardswish"), ("torchprofile", "nn.Hardswish"),
                       ("fvcore", "nn.ReLU6"), ("fvcore", "nn.MaxPool2d"),
                       ("fvcore", "Tensor.mean"), ("ptflops", "nn.Hardswish")):
        assert measured_one(call, tool)[0] == 0 == one_layer(call).macs(tool), (tool, call)


def test_thop_skips_the_root_modules_parameters():
    # thop's dfs_count sums the root's children: a bare Conv2d reports its MACs, no params
    assert TOOLS["thop"](nn.Conv2d(3, 4, 3, padding=1), 8) == (4 * 64 * 27, 0)
    assert measured_one("nn.Conv2d", "thop") == (4 * 64 * 27, 4 * 27 + 4)


def test_biases_only_ptflops_counts():
    # conv 4×8×8 outputs with a bias: 3,456 MACs; ptflops (both backends) adds 256
    for tool in ("fvcore", "thop", "torchprofile", "calflops"):
        assert measured_one("nn.Conv2d", tool)[0] == 4 * 64 * 27
    for tool in ("ptflops", "ptflops-aten"):
        assert measured_one("nn.Conv2d", tool)[0] == 4 * 64 * 27 + 4 * 64


# --- a hand-written module with ops the tools skip or miscount ------------------------------

class Mixed(nn.Module):
    """Hard-swish (skipped by fvcore, ptflops, torchprofile), SiLU (ptflops sees only its
    functional call), a max and an average pool, a reused ReLU, a functional global pool."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 2, 1, bias=True)
        self.bn1 = nn.BatchNorm2d(16)
        self.act1 = nn.Hardswish()
        self.pool1 = nn.MaxPool2d(3, 2, 1)
        self.conv2 = nn.Conv2d(16, 32, 1, bias=False)
        self.act2 = nn.SiLU()
        self.pool2 = nn.AvgPool2d(2)
        self.relu = nn.ReLU()
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool1(self.act1(self.bn1(self.conv1(x))))
        x = self.relu(self.pool2(self.act2(self.conv2(x))))
        x = self.relu(self.conv3(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


MIXED_SPEC = """model mixed
input 3 64 64
conv 16 k=3 s=2 bias=1 bn=1 act=hswish
maxpool 3 s=2 p=1
conv 32 k=1 act=swish
avgpool 2
relu
dw k=3 act=relu
gap
fc 10
"""


@pytest.mark.parametrize("tool", list(TOOLS))
def test_a_hand_written_module_with_skipped_ops(tool):
    from costmodel import count_torch

    network = build(parse_text(MIXED_SPEC))
    network = replace(network, layers=tuple(
        replace(layer, call="F.adaptive_avg_pool2d") if layer.op == "gap" else layer
        for layer in network.layers))
    expected = TOOLS[tool](Mixed(), 64)
    assert (network.macs(tool), network.params(tool)) == expected
    traced_network = count_torch(Mixed(), (1, 3, 64, 64))
    assert (traced_network.macs(tool), traced_network.params(tool)) == expected


def test_a_call_without_a_rule_is_named():
    network = zoo.build("alexnet")
    odd = replace(network, layers=tuple(replace(layer, call="nn.Unheard") if layer.op == "lrn"
                                        else layer for layer in network.layers))
    with pytest.raises(CostModelError, match="no rule for nn.Unheard .layer norm1, op lrn"):
        odd.macs("fvcore")
    assert odd.macs("paper") == network.macs("paper")


def test_conventions_the_cli_offers():
    assert list(CONVENTIONS) == ["paper", "torch", "fvcore", "thop", "ptflops", "ptflops-aten",
                                 "torchprofile", "calflops"]


def test_explain_on_a_users_python_file_gives_each_tools_figure():
    # a file.py:factory SPEC is traced; explain's totals are the tools' own on its module
    import importlib.util
    import json

    from typer.testing import CliRunner

    from costmodel.cli.app import app

    from pathlib import Path

    path = Path(__file__).parent.parent / "examples" / "my_net.py"
    spec = importlib.util.spec_from_file_location("my_net", path)
    my_net = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(my_net)
    result = CliRunner().invoke(app, ["explain", f"{path}:build", "-f", "json"])
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)["totals"]
    for tool, run in TOOLS.items():
        assert (totals[tool]["macs"], totals[tool]["params"]) == run(my_net.build(), 224), tool


def test_to_torch_writes_zoo_models_as_torchvision_does():
    from costmodel import to_torch

    def kinds(module):
        return [type(m).__name__ for m in module.modules()]

    mobilenet = to_torch(built("mobilenet_v2"))
    assert "AdaptiveAvgPool2d" not in kinds(mobilenet)  # F.adaptive_avg_pool2d in forward
    resnet = to_torch(zoo.build("resnet18", resolution="64"))
    block = resnet.get_submodule("layer1.basic1")
    relus = [name for name, m in block.named_modules() if isinstance(m, nn.ReLU)]
    assert relus == ["relu"]  # one ReLU per block, called twice
    assert kinds(resnet).count("ReLU") == 1 + 8  # the stem's and one per block
    assert "AdaptiveAvgPool2d" in kinds(resnet)  # torchvision's ResNet pools with a module
    shufflenet = to_torch(built("shufflenet_v2:impl=torchvision"))
    assert "AdaptiveAvgPool2d" not in kinds(shufflenet)  # x.mean([2, 3])
    assert "AdaptiveAvgPool2d" in kinds(to_torch(zoo.build("shufflenet_v2")))  # official impl
