"""MaxViT-T (tests/modern_maxvit.py, transcribed from torchvision) through count_torch and
through an ONNX export.

count_torch is exact against torch's FlopCounterMode (MACs = FLOPs / 2, attention decomposed:
SDPA's math backend, though MaxViT writes its attention as einsums anyway) and against
``sum(p.numel() for p in parameters())``, both equal to torchvision's published figures for
maxvit_t (num_params 30,919,624; 5.56 GFLOPS at 224 px). The window and grid partitions,
written as reshape, permute, reshape, are read as ``window`` and ``unwindow`` layers
(frontends/torch_rules_partition.py).

Through torch.onnx's export (the TorchScript exporter, ``dynamo=False``,
``training=PRESERVE`` so batch norms stay nodes) the ONNX reader counts MaxViT-T exactly as
well: its einsums as ``matmul`` (frontends/onnx_ops_attention.py), its departition's
``Transpose(0, 5, 1, 3, 2, 4)`` back to a channels-first map. Exported with
``do_constant_folding=False``, as Swin-T is (tests/test_onnx_swin.py): folding stores each
relative position table read at its fixed indices (heads·P⁴ numbers instead of
heads·(2·P − 1)²), and that export is counted as the file holds it, the difference named in a
note (the small MaxViT shows it, to the parameter).
"""

from __future__ import annotations

import contextlib
import io
import warnings

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from costmodel import count_torch
from costmodel.core.network import exact
from tests import modern_maxvit

pytestmark = pytest.mark.slow  # torch, and an ONNX export

SIZE = (1, 3, 224, 224)
FAILING = ("uncounted", "measured_differs", "params_differ")


def measured(module, size) -> tuple[int, int]:
    """FlopCounterMode's MACs with attention decomposed, and the module's parameters."""
    with torch.device(next(module.parameters()).device):
        x = torch.zeros(size)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2, sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def maxvit_t():
    with torch.device("meta"):
        module = modern_maxvit.MaxVit().eval()
    return module, count_torch(module, SIZE)


def test_maxvit_t_counts_exactly_as_torchs_counter_and_torchvision(maxvit_t):
    module, network = maxvit_t
    macs, held = measured(module, SIZE)
    assert held == 30_919_624 and f"{macs / 1e9:.2f}" == "5.56"  # torchvision's maxvit_t
    assert (exact(network.macs("torch")), exact(network.params("torch"))) == (macs, held)
    assert not [w.text() for w in network.warnings if w.kind in FAILING]


def test_its_partitions_attention_and_tables_are_read_as_their_ops(maxvit_t):
    module, network = maxvit_t
    layers = network.layers
    # 11 MaxViT layers, each a window and a grid attention: partition, departition, back to
    # channels first, and the attention's two einsums as matmuls
    counts = {op: sum(layer.op == op for layer in layers)
              for op in ("window", "unwindow", "channels_first", "matmul", "tanh")}
    assert counts == {"window": 22, "unwindow": 22, "channels_first": 22, "matmul": 44,
                      "tanh": 1}
    # the first block's window attention: 8×8 windows of 7×7 tokens; its grid attention:
    # windows of 8×8 positions 7 apart, axes swapped, so again 64 sequences of 49 tokens
    first = [layer for layer in layers if layer.op == "window"][:2]
    assert [layer.output.sizes for layer in first] == [(64, 49), (49, 64)]
    q_k = next(layer for layer in layers if layer.op == "matmul")
    heads, tokens, head_dim = 2, 49, 32
    assert exact(q_k.macs("torch")) == 64 * heads * tokens * tokens * head_dim
    # the relative position bias tables, (2·7 − 1)² × heads each, are gathered and added to
    # the logits (no counter sees the add): parameter layers, named in a warning
    tables = sum(p.numel() for n, p in module.named_parameters()
                 if n.endswith("relative_position_bias_table"))
    assert sum(exact(layer.params("torch")) for layer in layers
               if layer.op == "parameter") == tables
    assert any("attn_layer.1" in w.text() for w in network.warnings if w.kind == "not_called")


def randomised(module):
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.uniform_(-1, 1)  # equal tensors would be stored once by an export
    return module.eval()


def small_maxvit():
    """MaxViT's code at a size that exports in a second: 64 px, 2×2 partitions."""
    torch.manual_seed(0)
    return randomised(modern_maxvit.MaxVit(input_size=(64, 64), stem_channels=16,
                                           block_channels=(16, 32, 64, 128),
                                           block_layers=(1, 1, 2, 1), head_dim=8,
                                           partition_size=2, classes=10))


def test_count_torch_is_exact_on_the_small_one_too():
    module = small_maxvit()
    network = count_torch(module, (1, 3, 64, 64))
    assert (exact(network.macs("torch")), exact(network.params("torch"))) == \
        measured(module, (1, 3, 64, 64))
    assert not [w.text() for w in network.warnings if w.kind in FAILING]


def export(module, size, path, **options) -> str:
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.randn(*size),), str(path), input_names=["image"],
                          dynamo=False, training=torch.onnx.TrainingMode.PRESERVE, **options)
    return str(path)


def tables(module) -> list[int]:
    return [p.numel() for name, p in module.named_parameters()
            if name.endswith("relative_position_bias_table")]


def test_maxvit_t_export_counts_as_the_module(maxvit_t, tmp_path):
    from costmodel.frontends.onnx_file import load_spec

    module = randomised(modern_maxvit.MaxVit())  # (the exporter stores equal tensors once)
    path = export(module, SIZE, tmp_path / "maxvit_t.onnx", do_constant_folding=False)
    net = load_spec(path).build()
    _, counted = maxvit_t  # count_torch of the same module, exact as the first test pins
    assert exact(net.macs("torch")) == exact(counted.macs("torch"))
    assert exact(net.params("torch")) == sum(p.numel() for p in module.parameters()) == \
        exact(counted.params("torch"))
    assert not [w.text() for w in net.warnings]
    ops = [layer.op for layer in net.layers]
    assert ops.count("matmul") == 44 and ops.count("softmax") == 22  # 22 attentions
    # each attention's table is counted once, where its gathered bias is added to the logits
    assert [exact(layer.params("torch")) for layer in net.layers
            if layer.op == "parameter"] == tables(module)
    first = next(layer for layer in net.layers if layer.op == "matmul")
    heads, tokens, head_dim = 2, 49, 32  # 64 windows of 7×7 tokens, 2 heads of 32
    assert first.inputs[0].sizes == (64 * heads, tokens) and first.inputs[0].c == head_dim
    assert exact(first.macs("torch")) == 64 * heads * tokens * tokens * head_dim
    # every departition is a channels-first map again: the next MBConv's batch norm reads it
    assert ops.count("bn") == sum(isinstance(m, torch.nn.BatchNorm2d) for m in module.modules())


def test_a_folded_export_of_the_small_one_counts_its_tables_as_the_file_holds_them(tmp_path):
    # constant folding writes table[index] into the file: heads·P⁴ numbers for P×P
    # partitions (P = 2 here) where the model holds heads·(2·P − 1)²
    from costmodel.frontends.onnx_file import load_spec

    module = small_maxvit()
    net = load_spec(export(module, (1, 3, 64, 64), tmp_path / "folded.onnx")).build()
    macs, held = measured(module, (1, 3, 64, 64))
    heads = [table // 3 ** 2 for table in tables(module)]
    extra = sum(h * 2 ** 4 for h in heads) - sum(tables(module))
    assert extra > 0
    assert (exact(net.macs("torch")), exact(net.params("torch"))) == (macs, held + extra)
    (note,) = [n for n in net.notes if n.startswith("Learned N×N biases")]
    assert "do_constant_folding=False" in note and f"({heads[0] * 2 ** 4:,})" in note
    assert not net.warnings
