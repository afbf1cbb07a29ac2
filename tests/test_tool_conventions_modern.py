"""The tools' rules for the newer ops (core/conventions_modern.py) against the tools
themselves, as tests/test_tool_conventions.py does for the classic ones: each one-op network
as to_torch writes it, and each functional form a network may be written with, counted by
fvcore, thop, ptflops (both backends), torchprofile and calflops, equals the convention's
count exactly (MACs and params).

Attention is checked at two sequence lengths (its L² term and its projections' L term apart)
and with and without biases; a transposed convolution with groups, padding and output
padding (torchprofile and calflops each read its weight their own way).
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import pytest
import torch
from torch import nn
import torch.nn.functional as F

from costmodel import to_torch
from costmodel.core.conventions import TOOLS as RULES
from costmodel.spec.builder import build
from costmodel.spec.parser import parse_text
from tests.test_op_registry import several_inputs_network
from tests.tool_counts import TOOLS

pytestmark = pytest.mark.slow  # torch and the real counting tools

# name -> (input side, the spec's lines on a 3×side×side input)
SPECS = {
    "linear": (8, "channels_last\nlinear 5"),
    "linear_nobias": (8, "channels_last\nlinear 5 bias=0"),
    "layernorm": (8, "channels_last\nlayernorm"),
    "layernorm_plain": (8, "channels_last\nlayernorm affine=0"),
    "layernorm_scale_only": (8, "channels_last\nlayernorm bias=0"),
    "groupnorm": (8, "groupnorm g=3"),
    "groupnorm_plain": (8, "groupnorm g=1 affine=0"),
    "rmsnorm": (8, "channels_last\nrmsnorm"),
    "gelu": (8, "gelu"),
    "tanh": (8, "tanh"),
    "softmax": (8, "softmax"),
    "softmax_tokens": (8, "channels_last\nsoftmax"),
    "layerscale": (8, "layerscale"),
    "layerscale_tokens": (8, "channels_last\nlayerscale"),
    "cls_token": (8, "merge_positions\nchannels_last\ncls_token"),
    "pos_embed": (8, "merge_positions\nchannels_last\npos_embed"),
    "parameter": (8, "parameter elements=10"),
    "window": (8, "window 4\nunwindow size=8x8\nchannels_first"),
    "grid": (8, "window 2 grid=1\nunwindow size=8x8 grid=1"),
    "select": (8, "merge_positions\nchannels_last\nselect"),
    "mhsa": (8, "merge_positions\nchannels_last\nmhsa heads=3"),
    "mhsa_longer": (12, "merge_positions\nchannels_last\nmhsa heads=3"),
    "mhsa_nobias": (8, "merge_positions\nchannels_last\nmhsa heads=1 bias=0"),
    "mhsa_windows": (8, "window 4\nmhsa heads=1"),
    "mhsa_map": (8, "mhsa heads=3"),
    "mqa_kv_stride": (8, "mqa heads=2 key_dim=4 value_dim=4 kv_stride=2"),
    "mqa": (12, "mqa heads=2 key_dim=4 value_dim=6 c=5"),
    "convtranspose": (8, "convtranspose 4 k=2 s=2"),
    "convtranspose_grouped": (8, "convtranspose 6 k=3 s=2 p=1 op=1 g=3 bias=1"),
    "convtranspose_same_width": (8, "convtranspose 3 k=2 s=2 bias=1"),
    "upsample_nearest": (8, "upsample_nearest"),
    "upsample_bilinear": (8, "upsample_bilinear"),
    "pixelshuffle": (8, "pw 12\npixelshuffle 2"),
}


@cache
def network(name: str):
    side, lines = SPECS[name]
    return build(parse_text(f"model {name}\ninput 3 {side} {side}\n{lines}\n"))


def held(module: nn.Module) -> nn.Module:
    """Inside a container, with an empty parameter (calflops stops on a module without
    any; thop leaves out the root's own parameters): as test_tool_conventions holds one."""
    holder = nn.Sequential(module)
    holder.register_parameter("empty", nn.Parameter(torch.empty(0)))
    return holder


@cache
def measured(name: str, tool: str) -> tuple[int, int]:
    return TOOLS[tool](held(to_torch(network(name))), SPECS[name][0])


@pytest.mark.parametrize("tool", [t.name for t in RULES])
@pytest.mark.parametrize("name", list(SPECS))
def test_each_newer_op_as_to_torch_writes_it(name, tool):
    net = network(name)
    assert (net.macs(tool), net.params(tool)) == measured(name, tool)


class Tokens(nn.Module):
    """The 1×3×8×8 input as 64 tokens of 3 features, then ``function`` (looked up at each
    call: ptflops and calflops patch torch.nn.functional's attributes)."""

    def __init__(self, function, tokens: bool = True):
        super().__init__()
        self.function, self.tokens = function, tokens

    def forward(self, x):
        return self.function(x.flatten(2).transpose(1, 2) if self.tokens else x)


# PyTorch call -> (the module computing it on 1×3×8×8, the SPECS entry it computes)
CALLS = {
    "F.layer_norm": (lambda: Tokens(lambda t: F.layer_norm(t, (3,))), "layernorm_plain"),
    "F.gelu": (lambda: Tokens(lambda t: F.gelu(t), False), "gelu"),
    "torch.tanh": (lambda: Tokens(lambda t: torch.tanh(t), False), "tanh"),
    "Tensor.tanh": (lambda: Tokens(lambda t: t.tanh(), False), "tanh"),
    "F.softmax": (lambda: Tokens(lambda t: F.softmax(t, 1), False), "softmax"),
    "torch.softmax": (lambda: Tokens(lambda t: torch.softmax(t, 1), False), "softmax"),
    "Tensor.softmax": (lambda: Tokens(lambda t: t.softmax(1), False), "softmax"),
    "F.interpolate": (lambda: Tokens(lambda t: F.interpolate(t, scale_factor=2), False),
                      "upsample_nearest"),
    "F.linear": (lambda: FunctionalLinear(), "linear_nobias"),
}


class FunctionalLinear(nn.Module):
    """``F.linear`` with a parameter of the module (Swin's attention writes its projections
    so)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(5, 3))

    def forward(self, x):
        return F.linear(x.flatten(2).transpose(1, 2), self.weight)

# matmul's calls, on several_inputs_network("matmul"): tokens (64×3) times the map N×3×64
MATMULS = {
    "torch.matmul": lambda t, m: torch.matmul(t, m),
    "@": lambda t, m: t @ m,
    "torch.bmm": lambda t, m: torch.bmm(t, m),
    "torch.einsum": lambda t, m: torch.einsum("blc,bcm->blm", t, m),
}


class MatMul(nn.Module):
    def __init__(self, call: str):
        super().__init__()
        self.call = call

    def forward(self, x):
        m = x.flatten(2)
        return MATMULS[self.call](m.transpose(1, 2), m)


def _with_call(net, call: str):
    """``net`` with its one computing layer recorded as written with ``call``."""
    layers = list(net.layers)
    index = next(i for i, layer in reversed(list(enumerate(layers)))
                 if call in __import__("costmodel.core.ops", fromlist=["OPS"])
                 .OPS[layer.op].torch.calls)
    layers[index] = replace(layers[index], call=call)
    return replace(net, layers=tuple(layers))


@pytest.mark.parametrize("tool", [t.name for t in RULES])
@pytest.mark.parametrize("call", list(CALLS))
def test_each_functional_form(call, tool):
    factory, name = CALLS[call]
    net = _with_call(network(name), call)
    assert (net.macs(tool), net.params(tool)) == TOOLS[tool](held(factory()), 8)


@pytest.mark.parametrize("tool", [t.name for t in RULES])
@pytest.mark.parametrize("call", list(MATMULS))
def test_each_spelling_of_a_matmul(call, tool):
    net = _with_call(several_inputs_network("matmul"), call)
    assert (net.macs(tool), net.params(tool)) == TOOLS[tool](held(MatMul(call)), 8)


def test_the_sdpa_network_counts_as_its_to_torch_module():
    net = several_inputs_network("sdpa")
    for tool in [t.name for t in RULES]:
        assert (net.macs(tool), net.params(tool)) == TOOLS[tool](held(to_torch(net)), 8), tool


def test_torchs_counter_sees_attention_only_decomposed():
    # the torch convention counts attention's matmuls: FlopCounterMode does too, with
    # gradients enabled and SDPA's math backend (the attention as bmm); under no_grad it
    # sees nn.MultiheadAttention's fused path, the projections only (fvcore's figure)
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    for name in ("mhsa", "mhsa_windows", "mqa"):
        net = network(name)
        module = to_torch(net)
        x = torch.zeros(1, 3, SPECS[name][0], SPECS[name][0])
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
            module(x)
        assert counter.get_total_flops() // 2 == net.macs("torch"), name
    with torch.no_grad(), FlopCounterMode(display=False) as fused:
        to_torch(network("mhsa"))(torch.zeros(1, 3, 8, 8))
    assert fused.get_total_flops() // 2 == network("mhsa").macs("fvcore") < \
        network("mhsa").macs("torch")
