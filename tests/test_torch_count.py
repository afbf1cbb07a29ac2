"""count_torch: a user's nn.Module traced into the Network its .cm twin builds, exactly.

The hand-written modules (tests/torch_modules/nets.py) are written as people write PyTorch:
nn.Sequential, functional relu and pooling, torch.cat, ``x * gate``, a view/transpose/view
channel shuffle. Each counts the same, layer for layer, as its spec (the .cm beside it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from costmodel import count_torch, to_torch, zoo
from costmodel.core.network import exact
from costmodel.frontends.torch_trace import trace_torch
from costmodel.spec.builder import load_model
from tests.torch_modules import nets

pytestmark = pytest.mark.slow  # torch

HERE = Path(__file__).parent / "torch_modules"


def same_network(traced, built):
    """Equal raw counts in total, and the same layer types, shapes and per-layer counts in order
    (the type, not the op: a spec's ``conv k=1`` is traced back as the ``pw`` it equals)."""
    assert traced.total == built.total
    assert [(l.kind, l.output, l.counts) for l in traced.layers] == \
        [(l.kind, l.output, l.counts) for l in built.layers]
    # the graph: each layer reads the outputs of the same layers (by position)
    position = {layer.name: i for i, layer in enumerate(traced.layers)} | {"input": -1}
    built_position = {layer.name: i for i, layer in enumerate(built.layers)} | {"input": -1}
    assert [tuple(position[s] for s in l.sources) for l in traced.layers] == \
        [tuple(built_position[s] for s in l.sources) for l in built.layers]


@pytest.mark.parametrize("factory, spec, values", [
    (nets.SmallResNet, "small_resnet.cm", {}),
    (nets.DenseBlockNet, "dense_block.cm", {}),
    (lambda: nets.DenseBlockNet(growth=8), "dense_block.cm", {"growth": "8"}),
    (nets.SENet, "se_net.cm", {}),
])
@pytest.mark.parametrize("resolution", [32, 64])
def test_a_hand_written_module_counts_as_its_spec(factory, spec, values, resolution):
    module = factory()
    trace = trace_torch(module, (1, 3, resolution, resolution))
    built = load_model(HERE / spec, {**values, "resolution": str(resolution)})
    assert trace.method == "fx" and not trace.uncounted and not trace.network.notes
    assert not trace.network.warnings
    same_network(trace.network, built)
    # and torch's own measures agree (FlopCounterMode FLOPs / 2, parameters)
    assert trace.measured_macs == exact(built.macs())
    assert trace.module_params == exact(built.params("torch"))


def test_layers_are_named_after_the_modules_and_the_graph_is_recorded():
    network = count_torch(nets.SmallResNet(), (1, 3, 32, 32))
    names = [layer.name for layer in network.layers]
    assert names[:3] == ["stem.0", "stem.1", "relu1"]
    assert "add1" in names and "shuffle1" in names and names[-1] == "fc"
    add = next(l for l in network.layers if l.op == "add")
    assert add.sources == ("conv2.1", "relu1")  # the residual: conv2's BN and the block input
    shuffle = next(l for l in network.layers if l.op == "shuffle")
    assert shuffle.sources == ("relu4",) and dict(shuffle.attrs) == {"g": 4}
    ops = {l.name: l.op for l in network.layers}
    assert ops["gconv1.0"] == "pw" and ops["dw.0"] == "dw" and ops["fc"] == "fc"


def test_a_module_counted_twice_gets_two_layers():
    block = torch.nn.Sequential(torch.nn.Conv2d(3, 3, 3, padding=1), torch.nn.ReLU())

    class Twice(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.block = block

        def forward(self, x):
            return self.block(self.block(x))

    network = count_torch(Twice(), (1, 3, 16, 16))
    assert [l.name for l in network.layers] == ["block.0", "block.1", "block.0_1", "block.1_1"]
    assert network.macs() == 2 * 16 * 16 * 3 * 3 * 9
    assert network.layers[2].sources == ("block.1",)


def test_calls_it_cannot_count_are_listed_by_name_with_torchs_measure():
    trace = trace_torch(nets.WithUncountedOps(), (1, 3, 16, 16))
    calls = {(u.name, u.call) for u in trace.uncounted}
    assert ("act", "nn.Mish") in calls
    assert any(call == "torch.addmm" for _, call in calls)
    notes = "\n".join(w.text() for w in trace.network.warnings)
    assert "not counted: nn.Mish × 1 (act)" in notes
    mish = next(w for w in trace.network.warnings if w.subject == "nn.Mish")
    assert (mish.kind, mish.count, mish.names) == ("uncounted", 1, ("act",))
    assert not trace.network.notes  # warnings are values, not notes with a prefix
    # FlopCounterMode sees the matmul (8 × 8 MACs); costmodel counts the conv only
    conv_macs = 16 * 16 * 8 * 3 * 9
    assert exact(trace.network.macs()) == conv_macs
    assert trace.measured_macs == conv_macs + 64
    assert f"measures {conv_macs + 64:,} MACs" in notes
    # conv 8·3·3² + 8 bias = 224; the matrix 8·8 = 64 more, read by a call not counted:
    # held by a parameter layer, so the parameters are parameters()'s 288, with a warning
    assert exact(trace.network.params("torch")) == 288 == trace.module_params
    held = next(w for w in trace.network.warnings if w.kind == "not_called")
    assert held.names == ("proj",) and "counted as parameter layers" in held.text()
    assert [l.op for l in trace.network.layers][0] == "parameter"


def test_a_module_fx_cannot_trace_falls_back_to_forward_hooks_and_says_what_that_loses():
    trace = trace_torch(nets.DataDependent(), (1, 3, 16, 16))
    assert trace.method == "hooks"
    kinds = [w.kind for w in trace.network.warnings]
    assert kinds[:2] == ["traced_with_hooks", "data_dependent"]
    note = trace.network.warnings[0].text()
    assert note.startswith("torch.fx could not trace this module")
    assert "functional calls in forward" in note and "unknown (source '?')" in note
    assert "follows the path one input took" in trace.network.warnings[1].text()
    # every module call is counted; the functional pooling is not seen, so fc's input is '?'
    assert [l.op for l in trace.network.layers] == ["conv", "bn", "fc"]
    assert trace.network.layers[1].sources == ("conv",)
    assert trace.network.layers[2].sources == ("?",)
    assert exact(trace.network.macs()) == 16 * 16 * 8 * 27 + 80 == trace.measured_macs
    assert trace.module_params == exact(trace.network.params("torch"))


def test_batch_size_counts_per_sample_and_the_users_module_is_left_as_it_was():
    module = nets.SENet().train()
    weight = module.conv[0].weight.detach().clone()
    network = count_torch(module, (4, 3, 32, 32))
    assert network.macs() == load_model(HERE / "se_net.cm").macs()
    assert module.training and torch.equal(module.conv[0].weight, weight)
    assert dict(network.config)["input"] == "4×3×32×32"


ROUND_TRIP = ["alexnet", "googlenet", "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large",
              "mobilenet_v3_small", "resnet18", "resnet50", "resnext50_32x4d",
              "shufflenet_v1", "shufflenet_v2", "squeezenet", "vgg16", "xception"]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_count_torch_of_to_torch_is_the_zoo_network_again(name):
    """spec → module → Network: the same ops, shapes, counts and graph (on the meta device)."""
    built = zoo.build(name)
    with torch.device("meta"):
        module = to_torch(built)
    trace = trace_torch(module, (1, 3, int(built.input.h), int(built.input.w)))
    assert not trace.uncounted and not trace.network.notes and not trace.network.warnings
    same_network(trace.network, built)


def test_flop_counter_agrees_on_a_real_cpu_forward():
    """The meta-device measurements elsewhere are the same on real tensors."""
    module = nets.SmallResNet()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.randn(1, 3, 32, 32))
    assert counter.get_total_flops() == 2 * load_model(HERE / "small_resnet.cm",
                                                       {"resolution": "32"}).macs()


@pytest.mark.parametrize("factory", [nets.SmallResNet, nets.DenseBlockNet, nets.SENet],
                         ids=["small_resnet", "dense_block", "se_net"])
def test_import_of_a_traced_module_keeps_its_counts_and_gives_a_closed_form_in_R(factory):
    """count_torch → costmodel import → a spec that builds to the traced counts at other
    resolutions too, and whose closed form in R is those counts (R a multiple of the stride)."""
    from costmodel.core import symbols as S
    from costmodel.frontends.to_spec import network_to_spec
    from costmodel.spec.builder import build
    from costmodel.spec.parser import parse_text

    module = factory()
    text = network_to_spec(count_torch(module, (1, 3, 32, 32)), source="nets.py")
    spec = parse_text(text, "imported.cm")
    closed = build(spec, {"resolution": S.R})
    assert closed.free_symbols == {S.R}
    for resolution in (32, 64, 96):
        traced = count_torch(module, (1, 3, resolution, resolution))
        assert build(spec, {"resolution": str(resolution)}).total == traced.total
        assert closed.evaluate({"R": resolution}, "torch") == traced.evaluate(convention_name="torch")
