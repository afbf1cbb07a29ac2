"""Any rank, any kernel, against PyTorch: a 3-D convolution over a 16×112×112 clip counts as
torch's ``Conv3d`` does under its own counter (torch.utils.flop_counter.FlopCounterMode,
torch 2.13.0: MACs = FLOPs / 2; params = sum of ``numel``), and so do 1-D convolutions and
factorized ``1x7``/``7x1`` kernels; ``count_torch`` and the ONNX reader read them back
layer for layer."""

from __future__ import annotations

import copy

import pytest

import torch  # noqa: E402  (the test extra installs torch==2.13.0)
from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from costmodel import count_torch, to_torch  # noqa: E402
from costmodel.spec import build, parse_text  # noqa: E402
from costmodel.frontends import resolve  # noqa: E402
from tests.test_shapes_nd import FACTORIZED, SEQUENCE, VIDEO  # noqa: E402
from tests.tool_counts import TOOLS  # noqa: E402

pytestmark = pytest.mark.slow  # torch


def torch_counts(module: nn.Module, shape: tuple[int, ...]) -> tuple[int, int]:
    with torch.device("meta"), FlopCounterMode(display=False) as counter:
        module.to("meta")(torch.empty(shape))
    return counter.get_total_flops() // 2, sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("text", [VIDEO, FACTORIZED, SEQUENCE], ids=["video", "1x7", "1-d"])
def test_to_torch_counts_as_torch_does(text):
    net = build(parse_text(text, "<test>"))
    module = to_torch(net)
    macs, params = torch_counts(module, (1, *module.input_shape))
    assert net.macs("torch") == macs
    assert net.params("torch") == params


def test_a_hand_written_conv3d_clip_counts_exactly():
    """R(2+1)D-style: a (1,7,7) spatial and a (3,1,1) temporal convolution, then a full 3-D
    one, as torchvision's video models write them."""
    module = nn.Sequential(
        nn.Conv3d(3, 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), nn.BatchNorm3d(45),
        nn.ReLU(), nn.Conv3d(45, 64, (3, 1, 1), 1, (1, 0, 0), bias=False), nn.BatchNorm3d(64),
        nn.ReLU(), nn.Conv3d(64, 64, 3, 2, 1), nn.MaxPool3d(2), nn.AdaptiveAvgPool3d(1),
        nn.Flatten(), nn.Linear(64, 400)).eval()
    shape = (1, 3, 16, 112, 112)
    counted = count_torch(module, shape)
    macs, params = torch_counts(copy.deepcopy(module), shape)
    assert counted.macs("torch") == macs
    assert counted.params("torch") == params
    assert not counted.warnings
    assert [layer.kind for layer in counted.layers if layer.op == "conv"] == \
        ["conv 1x7x7", "conv 3x1x1", "conv 3x3x3"]


@pytest.mark.parametrize("text", [VIDEO, FACTORIZED], ids=["video", "1x7"])
def test_count_torch_reads_to_torch_back_layer_for_layer(text):
    net = build(parse_text(text, "<test>"))
    module = to_torch(net)
    back = count_torch(module, (1, *module.input_shape))
    assert [(l.op, l.output, l.counts) for l in back.layers] == \
        [(l.op, l.output, l.counts) for l in net.layers]


def test_an_onnx_export_of_factorized_kernels_reads_back(tmp_path):
    net = build(parse_text(FACTORIZED, "<test>"))
    module = to_torch(net)
    path = tmp_path / "factorized.onnx"
    torch.onnx.export(module, torch.randn(1, *module.input_shape), str(path), dynamo=False)
    read = resolve(str(path)).build()
    assert read.macs("torch") == net.macs("torch")
    # the exporter folds each batch norm into its conv, which gains a bias of c (and warns)
    folded = sum(layer.output.c for layer, after in zip(net.layers, net.layers[1:])
                 if layer.op == "conv" and after.op == "bn")
    assert read.params("paper") == net.params("paper") + folded
    assert any(w.kind == "params_differ" for w in read.warnings)
    assert [l.kind for l in read.layers if l.op == "conv"] == \
        [l.kind for l in net.layers if l.op == "conv"]


@pytest.mark.parametrize("tool", sorted(TOOLS))
@pytest.mark.parametrize("text", [VIDEO.replace("input 3 16 112 112", "input 3 4 32 32"),
                                  FACTORIZED.replace("input 3 224 320", "input 3 32 48"),
                                  SEQUENCE.replace("input 80 3000", "input 80 300")],
                         ids=["video", "1x7", "1-d"])
def test_every_tool_convention_counts_n_d_layers_as_the_tool_does(text, tool):
    """fvcore counts only the 2-D adaptive pool (aten::adaptive_avg_pool2d); the hook-based
    tools have rules for Conv1d/3d, BatchNorm1d/3d and the 1-D/3-D pools as for 2-D."""
    net = build(parse_text(text, "<test>"))
    module = to_torch(net)
    assert TOOLS[tool](module, (1, *module.input_shape)) == (net.macs(tool), net.params(tool))


@pytest.mark.parametrize("text", [VIDEO.replace("input 3 16 112 112", "input 3 4 32 32"),
                                  SEQUENCE.replace("input 80 3000", "input 80 300")],
                         ids=["video", "1-d"])
def test_an_onnx_export_of_a_clip_or_a_sequence_reads_back(tmp_path, text):
    net = build(parse_text(text, "<test>"))
    module = to_torch(net)
    path = tmp_path / "nd.onnx"
    torch.onnx.export(module, torch.randn(1, *module.input_shape), str(path), dynamo=False)
    read = resolve(str(path)).build()
    assert read.input == net.input
    assert read.macs("torch") == net.macs("torch")
    assert [l.kind for l in read.layers if l.op in ("conv", "dw")] == \
        [l.kind for l in net.layers if l.op in ("conv", "dw")]
    again = resolve(str(path)).build(input_shape=(1, *module.input_shape))
    assert again.macs("torch") == net.macs("torch")
