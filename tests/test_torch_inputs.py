"""Several inputs, and inputs of any rank, through ``count_torch`` and ``--input`` (issue 18,
front ends): a two-tower model (a conv tower on an image, a Linear on a second tensor,
concatenated) and cross-attention (nn.MultiheadAttention's query from one input, key and
value from another) count exactly against torch's FlopCounterMode (MACs = FLOPs / 2, per
sample, attention decomposed) and ``sum(p.numel())``; the second input is a Shape of its own
(``input2``) that layers read, and that the memory analysis keeps alive."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from costmodel.analysis.memory import peak_memory
from costmodel.cli.app import main
from costmodel.core.network import exact
from costmodel.errors import CostModelError
from costmodel.frontends import count_torch, to_torch
from costmodel.frontends.torch_params import decomposed_attention
from tests.hostile_paths.torch_inputs import TWO as TWO_TOWER_SOURCE  # TwoTower, as a .py file

pytestmark = pytest.mark.slow  # imports torch


class TwoTower(nn.Module):
    def __init__(self, words: int = 77):
        super().__init__()
        self.image = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
                                   nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.text = nn.Sequential(nn.Linear(words, 16), nn.ReLU())
        self.head = nn.Linear(24, 10)

    def forward(self, x, y):
        return self.head(torch.cat([self.image(x), self.text(y)], dim=1))


class CrossAttention(nn.Module):
    """A decoder's cross-attention block: queries from one sequence, keys and values from
    another, a residual and a layer norm."""

    def __init__(self, width: int = 32, heads: int = 4):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm = nn.LayerNorm(width)

    def forward(self, q, memory):
        out, _ = self.attn(q, memory, memory)
        return self.norm(out + q)


class SharedKV(nn.Module):
    """Keys and values of their own widths, three inputs, the attention called twice."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(32, 4, batch_first=True, kdim=20, vdim=12)

    def forward(self, q, k, v):
        once = self.attn(q, k, v, need_weights=False)[0]
        return self.attn(once, k, v)[0]


def torch_measures(module: nn.Module, sizes) -> tuple[int, int]:
    """FlopCounterMode's MACs per sample (attention decomposed) and sum(numel)."""
    module.eval()
    with decomposed_attention(), FlopCounterMode(display=False) as counter:
        module(*(torch.randn(size) for size in sizes))
    return (counter.get_total_flops() // (2 * sizes[0][0]),
            sum(p.numel() for p in module.parameters()))


CASES = {
    "two-tower": (TwoTower, [(1, 3, 32, 32), (1, 77)]),
    "two-tower-batch": (TwoTower, ((2, 3, 16, 24), (2, 77))),
    "cross-attention": (CrossAttention, [(1, 10, 32), (1, 7, 32)]),
    "kdim-vdim-called-twice": (SharedKV, [(1, 10, 32), (1, 7, 20), (1, 7, 12)]),
}


@pytest.mark.parametrize("case", CASES)
def test_several_inputs_count_exactly_against_torch(case):
    factory, sizes = CASES[case]
    module = factory()
    net = count_torch(module, sizes)
    macs, params = torch_measures(module, [tuple(s) for s in sizes])
    assert (exact(net.macs("torch")), exact(net.params("torch"))) == (macs, params)
    assert not [w for w in net.warnings if w.kind != "fused_attention"], net.warnings
    assert len(net.inputs) == len(sizes)
    assert [s.producer for s in net.extra_inputs] == \
        [f"input{i}" for i in range(2, len(sizes) + 1)]
    read = {source for layer in net.layers for source in layer.sources}
    assert {"input", *(s.producer for s in net.extra_inputs)} <= read


def test_the_second_input_is_a_shape_its_layers_read():
    net = count_torch(TwoTower(), [(1, 3, 32, 32), (1, 77)])
    text = next(layer for layer in net.layers if layer.name == "text.0")
    assert text.sources == ("input2",) and text.inputs[0] == net.extra_inputs[0]
    assert (int(net.extra_inputs[0].c), int(net.extra_inputs[0].numel)) == (77, 77)
    assert dict(net.config)["input"] == "1×3×32×32, 1×77"
    # alive from the start, as the first input is
    peak = peak_memory(net)
    assert {"input", "input2"} <= set(peak.alive)
    assert int(peak.elements) == 3 * 32 * 32 + 77 + 8 * 16 * 16


def test_cross_attention_is_its_projections_and_attention():
    net = count_torch(CrossAttention(32, 4), [(1, 10, 32), (1, 7, 32)])
    by_name = {layer.name: layer for layer in net.layers}
    lq, lk, width = 10, 7, 32
    assert by_name["attn.q_proj"].sources == ("input",)
    assert by_name["attn.k_proj"].sources == by_name["attn.v_proj"].sources == ("input2",)
    assert int(by_name["attn.attention"].counts.macs) == 2 * lq * lk * width
    projections = sum(int(by_name[f"attn.{part}_proj"].counts.macs)
                      for part in ("q", "k", "v", "out"))
    assert projections == 2 * lq * width * width + 2 * lk * width * width


def test_one_shape_and_a_list_of_one_are_the_same_count():
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    a, b = count_torch(module, (1, 3, 16, 16)), count_torch(module, [(1, 3, 16, 16)])
    assert exact(a.macs()) == exact(b.macs()) and not b.extra_inputs
    assert exact(count_torch(module, torch.Size([1, 3, 16, 16])).macs()) == exact(a.macs())


def test_a_token_input_is_read_as_tokens_where_a_call_needs_them():
    module = nn.Sequential(nn.Linear(16, 8), nn.LayerNorm(8))
    net = count_torch(module, (2, 5, 16))
    macs, params = torch_measures(module, [(2, 5, 16)])
    assert (exact(net.macs("torch")), exact(net.params("torch"))) == (macs, params)
    assert not net.warnings


@pytest.mark.parametrize("shape, says", [
    ([(1, 3, 32, 32), (2, 77)], "batch N"),
    ([(1, 3, 32, 32)], "takes 2 inputs; 1 was given"),
    ([(1, 3, 32, 32), (1, 77), (1, 5)], "3 were given"),
    ([(1, 3, 32, 32), 77], "one shape"),
    ([], "one shape"),
    ((1,), "N followed by"),
    ([(1, 3, 32, 32), (1, 0)], "positive"),
    ([(1, 3, 32, 32), (True, 77)], "one shape"),
    ([(1, 2, 2, 2, 2, 2, 2, 2, 2), (1, 77)], "N followed by"),
])
def test_bad_input_shapes_are_refused_saying_why(shape, says):
    with pytest.raises(CostModelError, match=says):
        count_torch(TwoTower(), shape)


def test_integer_inputs_are_refused_saying_inputs_are_float():
    class Tokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(100, 8)

        def forward(self, ids):
            return self.embed(ids)

    with pytest.raises(CostModelError, match="float inputs only"):
        count_torch(Tokens(), (1, 77))


def test_a_network_of_several_inputs_is_not_written_as_one():
    net = count_torch(TwoTower(), [(1, 3, 32, 32), (1, 77)])
    with pytest.raises(CostModelError, match="2 inputs"):
        to_torch(net)


def test_input_repeated_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "two.py"
    path.write_text(TWO_TOWER_SOURCE)
    spec = f"{path}:build"
    inputs = ["--input", "2,3,32,32", "--input", "2,77"]
    assert main(["compare", spec, *inputs, "--format", "json"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    expected = count_torch(_load(path), [(2, 3, 32, 32), (2, 77)])
    assert (row["macs"], row["params"]) == (exact(expected.macs()), exact(expected.params()))
    assert "per_image" in {w["kind"] for w in row["warnings"]}
    for command in (["summary", spec], ["memory", spec], ["guidelines", spec],
                    ["diff", spec, spec], ["latency", spec, "--hw", "pixel1"]):
        assert main([*command, *inputs, "--format", "json"]) == 0, command
        capsys.readouterr()
    assert main(["import", spec, *inputs]) == 2
    assert "2 inputs" in capsys.readouterr().err
    assert main(["compare", "mobilenet_v1", *inputs]) == 2
    assert "takes one input" in capsys.readouterr().err


def _load(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("two_tower_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build()
