"""count_torch on the networks people design now, transcribed from torchvision
(tests/modern_modules.py): ConvNeXt-T, ViT-B/16, Inception v3, R(2+1)D-18 and Faster R-CNN's
RoI box head count exactly
as torch's FlopCounterMode measures them, attention decomposed into its matmuls (gradients
enabled and SDPA's math backend: under eval() and no_grad() torch's fused attention hides
them from the counter), and their parameters are sum(p.numel() for p in parameters()),
auxiliary heads never called included (with a warning naming them).

The modules are built on the meta device (no memory for their weights) and measured on
meta inputs, so even ViT-B/16 at 224 px takes about a second.
"""

from __future__ import annotations

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from costmodel import count_torch
from costmodel.core.network import exact
from tests import modern_modules as mm

pytestmark = pytest.mark.slow  # torch

# name -> (factory, input size, torchvision's published parameter count, its published
# GFLOPS ("_ops", MACs in G to the printed digits) at that input, or None where smaller)
NETWORKS = {
    "convnext_tiny": (mm.ConvNeXt, (1, 3, 224, 224), 28_589_128, "4.5"),
    "vit_b_16": (mm.VisionTransformer, (1, 3, 224, 224), 86_567_656, "17.6"),
    "inception_v3": (mm.Inception3, (1, 3, 299, 299), 27_161_264, "5.7"),
    "r2plus1d_18": (mm.R2Plus1D, (1, 3, 16, 112, 112), 31_505_325, "40.5"),
}


def on_meta(factory):
    with torch.device("meta"):
        return factory().eval()


def decomposed(module, size) -> tuple[int, int]:
    """FlopCounterMode's MACs (FLOPs / 2) per sample with attention as matmuls, and the
    module's parameters."""
    with torch.device("meta"):
        x = torch.zeros(size)
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        module(x)
    return counter.get_total_flops() // 2 // size[0], sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", list(NETWORKS))
def test_count_torch_is_exact_on_the_newer_networks(name):
    factory, size, params, gflops = NETWORKS[name]
    module = on_meta(factory)
    macs, held = decomposed(module, size)
    network = count_torch(module, size)
    assert (exact(network.macs("torch")), exact(network.params("torch"))) == (macs, held)
    assert held == params  # torchvision's num_params
    assert f"{macs / 1e9:.{len(gflops.split('.')[1])}f}" == gflops
    assert not [w for w in network.warnings if w.kind in ("uncounted", "measured_differs",
                                                          "params_differ")]


def test_the_ways_each_is_written_are_read_as_the_newer_ops():
    ops = {name: {layer.op for layer in count_torch(on_meta(factory), size).layers}
           for name, (factory, size, _, _) in NETWORKS.items() if name != "inception_v3"}
    # ConvNeXt: channels-last Linear and LayerNorm between permutes, the layer scale, and
    # LayerNorm2d's F.layer_norm between permutes
    assert {"channels_last", "layernorm", "linear", "gelu", "layerscale",
            "channels_first"} <= ops["convnext_tiny"]
    # ViT: patches to tokens, the class token and position embedding (parameters read
    # directly), nn.MultiheadAttention, the class token read out
    assert {"merge_positions", "channels_last", "cls_token", "pos_embed", "mhsa",
            "select", "fc"} <= ops["vit_b_16"]
    assert "conv" in ops["r2plus1d_18"] and "gap" in ops["r2plus1d_18"]


def test_vits_attention_is_what_torchs_counter_misses_under_no_grad():
    # a small ViT on the CPU (on the meta device torch never takes its fused path): 2
    # layers, 17 tokens (16 patches and the class token) of 64 features in 4 heads
    module = mm.VisionTransformer(image=32, patch=8, layers=2, heads=4, dim=64,
                                  mlp_dim=128).eval()
    network = count_torch(module, (1, 3, 32, 32))
    with torch.no_grad(), FlopCounterMode(display=False) as fused:
        module(torch.zeros(1, 3, 32, 32))
    attention = sum(exact(layer.macs("torch")) for layer in network.layers
                    if layer.op == "mhsa")
    assert attention == 2 * (4 * 17 * 64 ** 2 + 2 * 17 ** 2 * 64)  # projections + matmuls
    # torch's fused kernel (_native_multi_head_attention) hides the whole attention from
    # the counter, projections included (tests/test_tool_conventions_modern.py: an
    # attention too small for it runs unfused, and only its SDPA matmuls are hidden)
    assert exact(network.macs("torch")) - fused.get_total_flops() // 2 == attention
    (warning,) = [w for w in network.warnings if w.kind == "fused_attention"]
    assert warning.count == 2 and "no_grad()" in warning.text()


def test_inceptions_auxiliary_head_is_counted_in_params_and_named():
    network = count_torch(on_meta(mm.Inception3), (1, 3, 299, 299))
    held = [layer for layer in network.layers if layer.op == "parameter"]
    aux = sum(p.numel() for p in on_meta(mm.Inception3).AuxLogits.parameters())
    assert [(layer.name, exact(layer.params("torch"))) for layer in held] == \
        [("AuxLogits", aux)]
    (warning,) = [w for w in network.warnings if w.kind == "not_called"]
    assert warning.names == ("AuxLogits",) and "AuxLogits" in warning.text()


def test_a_module_called_twice_holds_its_parameters_once():
    from torch import nn

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(8, 8, 3, padding=1)
            self.proj = nn.Linear(8, 8)

        def forward(self, x):
            x = self.conv(self.conv(x))
            t = x.flatten(2).transpose(1, 2)
            return self.proj(self.proj(t))

    module = Twice()
    network = count_torch(module, (1, 8, 6, 6))
    assert exact(network.params("torch")) == sum(p.numel() for p in module.parameters())
    # the MACs are each call's: two convolutions and two linear layers over 36 tokens
    assert exact(network.macs("torch")) == 2 * 36 * 8 * 8 * 9 + 2 * 36 * 8 * 8


def test_the_hook_fallback_counts_each_call_and_each_parameter_once():
    # torch.fx cannot trace a branch on a tensor's value: forward hooks see each call of the
    # shared head with its own input (RetinaNet's head runs once per pyramid level)
    from torch import nn

    class Levels(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(3, 8, 3, padding=1)
            self.down = nn.Conv2d(8, 8, 3, stride=2, padding=1)
            self.head = nn.Conv2d(8, 4, 3, padding=1)

        def forward(self, x):
            x = self.stem(x)
            if x.sum() > -1e9:  # data-dependent: the hook fallback
                small = self.down(x)
                return self.head(x).sum() + self.head(small).sum()
            return x

    module = Levels()
    trace = __import__("costmodel.frontends.torch_trace", fromlist=["trace_torch"]) \
        .trace_torch(module, (1, 3, 8, 8))
    assert trace.method == "hooks"
    network = trace.network
    assert exact(network.params("torch")) == sum(p.numel() for p in module.parameters())
    heads = [layer for layer in network.layers if layer.name.startswith("head")]
    assert [exact(layer.macs("torch")) for layer in heads] == [64 * 4 * 8 * 9, 16 * 4 * 8 * 9]
    assert exact(network.macs("torch")) == trace.measured_macs


def test_a_detection_heads_roi_wise_linear_layers_count_once_per_roi():
    # Faster R-CNN's box head on M = 150 RoIs of 256×7×7 (MultiScaleRoIAlign's output): the
    # RoIs are the batch, every Linear runs once per RoI, and costmodel counts per sample
    rois = 150
    module = on_meta(mm.RoIBoxHead)
    macs, held = decomposed(module, (rois, 256, 7, 7))
    network = count_torch(module, (rois, 256, 7, 7))
    per_roi = exact(network.macs("torch"))
    assert per_roi == 256 * 7 * 7 * 1024 + 1024 * 1024 + 1024 * 91 + 1024 * 91 * 4
    assert per_roi == macs  # decomposed() divides FlopCounterMode's total by the batch
    assert exact(network.params("torch")) == held
    assert [layer.op for layer in network.layers].count("fc") == 4
    assert not [w for w in network.warnings if w.kind in ("uncounted", "measured_differs",
                                                          "params_differ")]


def test_swin_t_counts_exactly_with_its_windowed_attention():
    # tests/modern_swin.py against torchvision's swin_t (num_params 28,288,354, GFLOPS 4.49):
    # shifted_window_attention and _patch_merging_pad are torch.fx leaves (torch.fx.wrap, as
    # in torchvision), read as mhsa within each 7×7 window and as no pad; patch merging's
    # strided slices are free and its cat joins the features
    from tests import modern_swin

    module = on_meta(modern_swin.SwinTransformer)
    macs, held = decomposed(module, (1, 3, 224, 224))
    assert held == 28_288_354 and f"{macs / 1e9:.2f}" == "4.49"
    network = count_torch(module, (1, 3, 224, 224))
    assert (exact(network.macs("torch")), exact(network.params("torch"))) == (macs, held)
    attention = [layer for layer in network.layers if layer.op == "mhsa"]
    assert len(attention) == 12 and attention[0].inputs[0].sizes == (64, 49)  # 8×8 windows
    assert not [w for w in network.warnings if w.kind in ("uncounted", "measured_differs",
                                                          "params_differ")]
    # the relative position bias tables ((2·7 − 1)² × heads each) are read by the attention
    # call but counted by no formula: parameter layers, named in a warning
    tables = sum(p.numel() for n, p in module.named_parameters()
                 if n.endswith("relative_position_bias_table"))
    assert sum(exact(layer.params("torch")) for layer in network.layers
               if layer.op == "parameter") == tables
