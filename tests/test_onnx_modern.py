"""The ONNX reader on the newer networks: ConvNeXt-T and ViT-B/16 as transcribed in
tests/modern_modules.py, exported by torch.onnx.export (the TorchScript exporter,
``dynamo=False``), count back exactly to count_torch's and FlopCounterMode's MACs (attention
decomposed into its matmuls) and to ``sum(p.numel() for p in parameters())``.

The full-size modules run on 32×32 inputs (ViT-B/16 built for them: 4 patches and the class
token), which keeps the export at a few seconds; their weights are randomised first, since
the exporter stores equal tensors once (a fresh model's LayerNorm scales are all ones): the
last test shows that difference named in a note, to the parameter.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings

import onnx  # noqa: F401  (the exports need it: a missing onnx fails, never skips)
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from costmodel import count_torch
from costmodel.core.network import exact
from costmodel.frontends.onnx_file import load_spec
from tests import modern_modules as mm

pytestmark = pytest.mark.slow  # ONNX exports through torch

SIZE = (1, 3, 32, 32)


def export(module, path, **options) -> str:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(*SIZE),), str(path), input_names=["image"],
                          dynamo=False, **options)
    return str(path)


def randomised(module):
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(-1, 1)
    return module.eval()


def flop_counter_macs(module) -> int:
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        module(torch.randn(*SIZE))
    return counter.get_total_flops() // 2


# name -> (the module, export options): ConvNeXt at opset 17 (GELU written as Div, Erf, Add,
# Mul, Mul), ViT at the exporter's default (opset 20: one Gelu node)
NETWORKS = {
    "convnext_tiny": (mm.ConvNeXt, {"opset_version": 17}),
    "vit_b_16": (lambda: mm.VisionTransformer(image=SIZE[-1]), {}),
}


@pytest.mark.parametrize("name", list(NETWORKS))
def test_the_export_counts_as_the_module(name, tmp_path):
    factory, options = NETWORKS[name]
    module = randomised(factory())
    net = load_spec(export(module, tmp_path / f"{name}.onnx", **options)).build()
    macs = exact(count_torch(module, SIZE).macs("torch"))
    assert macs == flop_counter_macs(module)
    assert exact(net.macs("torch")) == macs
    assert exact(net.params("torch")) == sum(p.numel() for p in module.parameters())
    assert not [w.text() for w in net.warnings]
    ops = {layer.op for layer in net.layers}
    assert {"linear", "layernorm", "gelu", "conv"} <= ops
    if name == "vit_b_16":
        assert {"matmul", "softmax", "cls_token", "pos_embed", "merge_positions",
                "channels_last", "fc"} <= ops
        attention = [exact(layer.macs("torch")) for layer in net.layers if layer.op == "matmul"]
        tokens, width = (SIZE[-1] // 16) ** 2 + 1, 768
        assert attention == [tokens * tokens * width] * 24  # q·kᵀ and weights·v, 12 layers
        assert any(note.startswith("Free data movement on tokens") for note in net.notes)
    else:
        assert {"layerscale", "channels_last", "channels_first"} <= ops
        assert any("read as one GELU each: 18" in note for note in net.notes)


def test_tensors_the_exporter_stores_once_are_named_in_a_note(tmp_path):
    # a fresh ConvNeXt's LayerNorms have equal scales (ones) and shifts (zeros), and its layer
    # scales are all 1e-6: the exporter keeps one of each size and makes the others
    # Identity copies of it, so the file holds fewer numbers than parameters() does
    module = mm.ConvNeXt(widths=(8, 16, 24, 32), depths=(1, 1, 2, 1), classes=10).eval()
    net = load_spec(export(module, tmp_path / "fresh.onnx")).build()
    held = sum(p.numel() for p in module.parameters())
    (note,) = [n for n in net.notes if "counted once" in n]
    fewer = int(re.search(r"\(([\d,]+) params fewer", note).group(1).replace(",", ""))
    assert fewer > 0 and exact(net.params("torch")) == held - fewer
    assert exact(net.macs("torch")) == exact(count_torch(module, SIZE).macs("torch"))


def test_a_detection_heads_export_counts_per_roi(tmp_path):
    # Faster R-CNN's box head exported on 150 RoIs of 256×7×7: the reader counts one sample
    # (one RoI), as count_torch does; its two outputs (scores, box deltas) are both read
    module = randomised(mm.RoIBoxHead())
    path = tmp_path / "box_head.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(150, 256, 7, 7),), str(path),
                          input_names=["rois"], dynamo=False)
    net = load_spec(str(path)).build()
    assert exact(net.macs("torch")) == exact(count_torch(module, (150, 256, 7, 7)).macs("torch"))
    assert exact(net.params("torch")) == sum(p.numel() for p in module.parameters())
    assert [layer.op for layer in net.layers].count("fc") == 4 and not net.warnings


# name -> (the module, its input): exported keeping the batch norms (PRESERVE), so the file's
# params are the module's torch-convention params
KEPT_BN = {
    "inception_v3": (mm.Inception3, (1, 3, 299, 299)),
    "r2plus1d_18": (mm.R2Plus1D, (1, 3, 8, 32, 32)),
}


@pytest.mark.parametrize("name", list(KEPT_BN))
def test_inception_and_video_exports_count_as_the_module(name, tmp_path):
    factory, size = KEPT_BN[name]
    module = randomised(factory())
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(*size),), str(path), dynamo=False,
                          training=torch.onnx.TrainingMode.PRESERVE)
    net = load_spec(str(path)).build()
    assert exact(net.macs("torch")) == exact(count_torch(module, size).macs("torch"))
    assert not net.warnings
    held = sum(p.numel() for p in module.parameters())
    # eval() never calls Inception's auxiliary classifier, so the traced export leaves it out
    aux = sum(p.numel() for p in module.AuxLogits.parameters()) if name == "inception_v3" else 0
    assert exact(net.params("torch")) == held - aux
    assert name != "inception_v3" or any("never calls" in n and "AuxLogits" in n for n in net.notes)
    assert "bn" in {layer.op for layer in net.layers}  # PRESERVE keeps the batch norms
