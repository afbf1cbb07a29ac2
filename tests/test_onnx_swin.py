"""The ONNX reader on torch.onnx's exports (the TorchScript exporter, ``dynamo=False``,
``training=PRESERVE`` so batch norms stay nodes) of Swin-T, from issue 18's list,
counted back exactly to count_torch's MACs (the torch convention) and to
``sum(p.numel() for p in parameters())``:

* Swin-T (tests/modern_swin.py) at 224, whose export computes its pads, its roll and its
  shifted-window mask in the graph (Shape, Gather, Range, ScatterND, Where...), with its
  relative position bias tables as initializers read by Gather: exported with
  ``do_constant_folding=False``, since folding stores each table read at its fixed indices
  (heads·49² numbers instead of heads·13²): that export is counted as the file holds it, the
  difference named in a note (a small Swin shows it, to the parameter);

Inception v3 and R(2+1)D, exported the same way, are in tests/test_onnx_modern.py.
"""

from __future__ import annotations

import contextlib
import io
import warnings

import onnx  # noqa: F401  (the exports need it: a missing onnx fails, never skips)
import pytest
import torch

from costmodel import count_torch
from costmodel.core.network import exact
from costmodel.frontends.onnx_file import load_spec
from tests import modern_swin
from tests.test_onnx_modern import randomised

pytestmark = pytest.mark.slow  # ONNX exports through torch


def export(module, size, path, **options) -> str:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(*size),), str(path), dynamo=False,
                          training=torch.onnx.TrainingMode.PRESERVE, **options)
    return str(path)


def tables(module) -> list[int]:
    return [p.numel() for name, p in module.named_parameters()
            if name.endswith("relative_position_bias_table")]


@pytest.fixture(scope="module")
def swin_t(tmp_path_factory):
    module = randomised(modern_swin.SwinTransformer())
    path = export(module, (1, 3, 224, 224), tmp_path_factory.mktemp("swin") / "swin_t.onnx",
                  do_constant_folding=False)
    return module, load_spec(path).build()


def test_swin_t_export_counts_as_the_module(swin_t):
    module, net = swin_t
    assert exact(net.macs("torch")) == exact(count_torch(module, (1, 3, 224, 224))
                                             .macs("torch"))
    assert exact(net.params("torch")) == sum(p.numel() for p in module.parameters())
    assert not [w.text() for w in net.warnings]
    ops = [layer.op for layer in net.layers]
    assert ops.count("softmax") == 12 and ops.count("matmul") == 24  # q·kᵀ, weights·v
    # each block's table is counted once, at the Add of the bias to the logits
    assert [exact(layer.params("torch")) for layer in net.layers
            if layer.op == "parameter"] == tables(module)
    first = next(layer for layer in net.layers if layer.op == "matmul")
    assert first.inputs[0].sizes == (64, 3, 49)  # 8×8 windows of 49 tokens, 3 heads
    # five shifted blocks add the mask (the last stage's 7×7 map is one window: no shift)
    assert any(note.startswith("Adds of a tensor the graph computes") and note.endswith(": 5.")
               for note in net.notes)


def test_a_folded_relative_position_table_is_counted_as_the_file_holds_it(tmp_path):
    # constant folding (the exporter's default) writes table[index] into the file: heads·N²
    # numbers for N = 49 tokens a window, where the model holds heads·(2·7 − 1)²
    module = randomised(modern_swin.SwinTransformer(embed=16, depths=(2, 2), heads=(1, 2),
                                                    classes=10))
    net = load_spec(export(module, (1, 3, 56, 56), tmp_path / "folded.onnx")).build()
    heads = [table // 13 ** 2 for table in tables(module)]
    extra = sum(h * 49 ** 2 for h in heads) - sum(tables(module))
    assert extra > 0
    assert exact(net.params("torch")) == sum(p.numel() for p in module.parameters()) + extra
    (note,) = [n for n in net.notes if n.startswith("Learned N×N biases")]
    assert "do_constant_folding=False" in note and f"({heads[0] * 49 ** 2:,})" in note
    assert exact(net.macs("torch")) == exact(count_torch(module, (1, 3, 56, 56)).macs("torch"))
    assert not net.warnings

