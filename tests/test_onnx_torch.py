"""ONNX files exported by torch.onnx.export from hand-written PyTorch modules, counted back.

The module below is written twice: in PyTorch, and as a layer-spec file (SPEC). Its ONNX
export must count to the spec's MACs, and to the parameters the export keeps:

* the TorchScript exporter with ``training=PRESERVE`` keeps every BatchNormalization node:
  params = ``sum(p.numel() for p in module.parameters())`` = the spec's torch convention;
* the default exports (TorchScript and dynamo) fold each BatchNormalization into the Conv
  before it: that Conv gains a bias of C, the BN's 2·C go. The count is then the spec's paper
  convention plus C for every BN after a bias-free conv (the dynamo exporter also drops a
  bias that is all zeros, so the BN statistics are randomised first).

torch 2.13 (CPU), onnx 1.23, onnxscript 0.7 at the time of writing.
"""

import contextlib
import io
import warnings

import onnx  # noqa: F401  (the exports need it: a missing onnx fails, never skips)
import pytest
import torch
from torch import nn

from costmodel.frontends.onnx_file import load_spec
from costmodel.spec import build, parse_text

pytestmark = pytest.mark.slow  # ONNX exports through torch

SPEC = """
model tiny
knob resolution 64 int min=16
input 3 resolution resolution
conv 16 k=3 s=2 bn=1 act=hswish
residual:
    dw bn=1 act=relu6
    squeeze_excite 8
    pw 16 bn=1
shuffle 2
concat:
    branch:
        split 8
    branch:
        split 8
        pw 8 bn=1 act=relu
maxpool 3 s=2 ceil=1
gap
dropout
fc 10
"""


class SqueezeExcite(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(16, 8, 1), nn.Conv2d(8, 16, 1)

    def forward(self, x):
        gate = nn.functional.adaptive_avg_pool2d(x, 1)
        return x * nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(gate))))


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16),
                                  nn.Hardswish())
        self.block = nn.Sequential(nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False),
                                   nn.BatchNorm2d(16), nn.ReLU6(), SqueezeExcite(),
                                   nn.Conv2d(16, 16, 1, bias=False), nn.BatchNorm2d(16))
        self.right = nn.Sequential(nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8),
                                   nn.ReLU())
        self.pool, self.drop, self.fc = nn.MaxPool2d(3, 2, ceil_mode=True), nn.Dropout(), \
            nn.Linear(16, 10)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.block(x)
        n, c, h, w = x.shape
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)  # shuffle, g = 2
        left, right = x.chunk(2, dim=1)
        x = self.pool(torch.cat([left, self.right(right)], 1))
        return self.fc(self.drop(nn.functional.adaptive_avg_pool2d(x, 1).flatten(1)))


def tiny_module():
    torch.manual_seed(0)
    module = Tiny().eval()
    for bn in (m for m in module.modules() if isinstance(m, nn.BatchNorm2d)):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
        bn.weight.data.uniform_(0.5, 2)  # all different: see the test of shared tensors
        bn.bias.data.uniform_(-1, 1)
    return module


def export(module, path, resolution=64, **options):
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(1, 3, resolution, resolution),), str(path),
                          input_names=["image"], **options)
    return str(path)


def spec(resolution=64):
    return build(parse_text(SPEC, "tiny.cm"), {"resolution": resolution})


def folded_params(network):
    """The paper convention's params plus C for each BN that follows a bias-free conv (the
    bias the BN folds into)."""
    layers = {layer.name: layer for layer in network.layers}
    extra = 0
    for layer in network.layers:
        source = layers.get(layer.sources[0])
        if layer.op == "bn" and source is not None and source.op in ("conv", "dw", "pw") \
                and not dict(source.attrs).get("bias"):
            extra += layer.output.c
    return network.params("paper") + extra


def test_the_spec_and_the_module_are_the_same_network():
    module = tiny_module()
    assert sum(p.numel() for p in module.parameters()) == spec().params("torch")  # 2194


def test_torchscript_export_with_batch_norm_kept(tmp_path):
    module = tiny_module()
    path = export(module, tmp_path / "tiny.onnx", dynamo=False,
                  training=torch.onnx.TrainingMode.PRESERVE)
    net, expected = load_spec(path).build(), spec()
    assert net.macs() == expected.macs()
    assert net.params("torch") == sum(p.numel() for p in module.parameters())
    assert net.params("torch") == expected.params("torch")
    assert net.params("paper") == expected.params("paper")
    as_onnx = {"dw": "conv", "pw": "conv"}  # and the export leaves eval-mode Dropout out
    assert sorted(layer.op for layer in net.layers) == \
        sorted(as_onnx.get(layer.op, layer.op) for layer in expected.layers
               if layer.op != "dropout")
    assert {"stem.0", "stem.1", "block.3.fc1", "right.0", "fc"} <= \
        {layer.name for layer in net.layers}
    assert not [w.text() for w in net.warnings if w.kind == "uncounted"]


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_default_exports_fold_batch_norm_into_the_conv(tmp_path, dynamo):
    path = export(tiny_module(), tmp_path / "tiny.onnx", dynamo=dynamo)
    net, expected = load_spec(path).build(), spec()
    assert net.macs() == expected.macs()
    assert not [layer for layer in net.layers if layer.op == "bn"]
    assert net.params("paper") == net.params("torch") == folded_params(expected)
    # named by the module paths: the fused conv by its own weight's name where it is kept
    names = {layer.name for layer in net.layers}
    assert {"block.3.fc1", "block.3.fc2", "right.0", "fc"} <= names
    if dynamo:
        assert {"stem.0", "block.0", "block.4"} <= names
    assert any(note.startswith("Conv biases are counted as the file has them")
               for note in net.notes)
    assert not [w.text() for w in net.warnings if w.kind == "uncounted"]


def test_a_dynamic_input_exported_with_dynamic_axes(tmp_path):
    path = export(tiny_module(), tmp_path / "tiny.onnx", dynamo=False,
                  training=torch.onnx.TrainingMode.PRESERVE,
                  dynamic_axes={"image": {2: "height", 3: "width"}})
    for resolution in (64, 96, 75):
        net = load_spec(path, f"resolution={resolution}").build()
        assert (net.macs(), net.params("torch")) == (spec(resolution).macs(),
                                                     spec(resolution).params("torch"))
    assert any("Shape" in note for note in net.notes)  # the exporter's shape computations


def test_equal_tensors_the_exporter_stores_once_are_counted_once(tmp_path):
    # freshly initialised, the three 16-channel BatchNorm2d have equal scales (ones) and shifts
    # (zeros): the TorchScript exporter stores stem.1's and makes block.1's and block.5's
    # Identity copies of them, so the file holds 2 × 2 × 16 fewer numbers than
    # module.parameters() counts
    module = Tiny().eval()
    path = export(module, tmp_path / "tiny.onnx", dynamo=False,
                  training=torch.onnx.TrainingMode.PRESERVE)
    net = load_spec(path).build()
    shared = [note for note in net.notes if "counted once" in note]
    assert net.params("torch") == sum(p.numel() for p in module.parameters()) - 2 * 2 * 16
    assert len(shared) == 1 and "stem.1.weight (stem.1, block.1, block.5)" in shared[0]
    assert "(64 params fewer than counting every use)" in shared[0]


# --- every zoo model, through costmodel.to_torch and torch.onnx.export ---------------------------

#: torch 2.13's TorchScript exporter has no ONNX form for aten::channel_shuffle
#: (nn.ChannelShuffle, which to_torch uses), nor for AlexNet's adaptive_avg_pool2d after a
#: ceil-mode max pool: these go through the dynamo exporter, which folds every
#: BatchNormalization into its Conv.
DYNAMO = {"shufflenet_v1", "shufflenet_v2", "alexnet"}


def randomised(module):
    """Distinct values in every parameter (a fresh model's equal ones, BN's and layer norm's
    ones and zeros or equal layer scales, would be stored once, see above), and non-zero
    shifts (a zero folded bias would be dropped by the dynamo exporter)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(0.5, 2)
    for bn in (m for m in module.modules() if isinstance(m, nn.BatchNorm2d)):
        for tensor in (bn.weight.data, bn.bias.data, bn.running_mean):
            tensor.uniform_(0.5, 2)
        bn.running_var.uniform_(0.5, 2)
    return module


@pytest.mark.parametrize("name", __import__("costmodel.zoo", fromlist=["names"]).names())
def test_every_zoo_model_exported_by_torch_counts_back_to_its_spec(name, tmp_path):
    from costmodel import zoo
    from costmodel.frontends import to_torch

    expected = zoo.build(name)
    module = randomised(to_torch(expected))
    dynamo = name in DYNAMO
    has_bn = any(layer.op == "bn" for layer in expected.layers)
    # PRESERVE keeps BN; it also loses the shapes adaptive_avg_pool2d needs after a ceil-mode
    # max pool, so the models without BN (AlexNet, VGG, GoogLeNet, SqueezeNet) export in eval
    # mode, where there is nothing to fold
    options = {"dynamo": True} if dynamo else {"dynamo": False, **(
        {"training": torch.onnx.TrainingMode.PRESERVE} if has_bn else {})}
    path = export(module, tmp_path / f"{name}.onnx", int(expected.input.h), **options)
    net = load_spec(path).build()
    assert net.macs() == expected.macs()
    if dynamo:  # BN folded into the convs: C per BN instead of 2·C
        assert not [layer for layer in net.layers if layer.op == "bn"]
        assert net.params("torch") == folded_params(expected)
    else:  # BN kept: torch convention, as module.parameters()
        assert net.params("torch") == expected.params("torch") == \
            sum(p.numel() for p in module.parameters())
        assert net.params("paper") == expected.params("paper")
    uncounted = [w.text() for w in net.warnings if w.kind == "uncounted"]
    if name in ("alexnet", "googlenet"):
        # torch exports LocalResponseNorm as its arithmetic (no MACs, no params), not as LRN
        assert any("not counted: Div × " in text for text in uncounted)
    else:
        assert not uncounted


def test_the_dynamo_exporter_drops_the_zero_biases_of_a_fresh_model(tmp_path):
    # fresh BN statistics fold to all-zero conv biases, which the dynamo exporter's optimizer
    # removes: the file then has the paper convention's params exactly
    path = export(Tiny().eval(), tmp_path / "tiny.onnx", dynamo=True)
    net = load_spec(path).build()
    assert net.params("torch") == net.params("paper") == spec().params("paper")


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_compare_warns_that_batch_norm_was_folded(tmp_path, dynamo):
    """Issue 16 item 13: the four BatchNorm2d of the module are folded by the default
    export; compare says so, and the params are the paper convention's plus C per BN."""
    import subprocess
    import sys

    path = export(tiny_module(), tmp_path / "tiny.onnx", dynamo=dynamo)
    result = subprocess.run([sys.executable, "-m", "costmodel", "compare", path],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    assert "4 BatchNormalization layers look folded" in flat and "warning" in flat
    assert "paper-convention params plus C per folded BN" in flat
    net = load_spec(path).build()
    assert net.params("torch") == spec().params("paper") + 16 + 16 + 16 + 8
    kept = export(tiny_module(), tmp_path / "kept.onnx", dynamo=False,
                  training=torch.onnx.TrainingMode.PRESERVE)
    assert not [n for n in load_spec(kept).build().notes if "look folded" in n]
