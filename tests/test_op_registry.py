"""The op registry (core/opdef.py, core/ops.py): every registered op reaches every convention,
to_torch, count_torch, the ONNX reader and the memory analysis; a new op defined once, in
this file, does too; an incomplete definition is refused when it is registered."""

from __future__ import annotations

from dataclasses import replace

import pytest

from costmodel.core import opdef
from costmodel.core.conventions import CONVENTIONS, TOOLS, parse_rule
from costmodel.core.ops import OPS, Memory, Onnx, Result, Counts, Shape, op, registered, \
    unary_torch
from costmodel.errors import CostModelError
from costmodel.spec.builder import build
from costmodel.spec.parser import parse_text

pytestmark = pytest.mark.slow  # imports torch and onnx, runs the real counting tools

# op -> one line using it on a 3×8×8 input (merges: the spec around them gives two inputs)
ONE_LINE = {
    "conv": "conv 4 k=3 bias=1", "dw": "dw k=3", "pw": "pw 6", "fc": "fc 10",
    "maxpool": "maxpool 2", "avgpool": "avgpool 2", "gap": "gap", "adaptivepool":
    "adaptivepool 2", "bn": "bn", "lrn": "lrn size=3", "dropout": "dropout",
    "shuffle": "shuffle g=3", "split": "split 2",
    "add": "residual:\n    conv 3 k=3\n",
    "concat": "concat:\n    branch a:\n        pw 2\n    branch b:\n        pw 3\n",
    "mul": "pw 3\nmul:\n    branch:\n        identity\n    branch gate:\n        gap\n"
           "        sigmoid\n",
    # the newer ops (core/ops_modern.py, ops_tokens.py, ops_attention.py)
    "linear": "channels_last\nlinear 5", "channels_last": "channels_last",
    "channels_first": "channels_last\nchannels_first", "merge_positions": "merge_positions",
    "window": "window 4", "unwindow": "window 4 grid=1\nunwindow size=8x8 grid=1",
    "select": "merge_positions\nchannels_last\nselect",
    "mhsa": "merge_positions\nchannels_last\nmhsa heads=3",
    "mqa": "mqa heads=2 key_dim=4 value_dim=4 kv_stride=2",
    "layernorm": "channels_last\nlayernorm", "groupnorm": "groupnorm g=3",
    "rmsnorm": "channels_last\nrmsnorm", "layerscale": "layerscale",
    "cls_token": "merge_positions\nchannels_last\ncls_token",
    "pos_embed": "merge_positions\nchannels_last\npos_embed", "parameter": "parameter elements=10",
    "convtranspose": "convtranspose 4 k=2 s=2", "upsample_nearest": "upsample_nearest",
    "upsample_bilinear": "upsample_bilinear", "pixelshuffle": "pw 12\npixelshuffle 2",
}

#: ops of several inputs the language has no section for (its merges are add, concat and
#: mul): built here from token tensors of the 3×8×8 input, the op, its inputs' layer lines
SEVERAL_INPUTS = {"matmul": 2, "sdpa": 3}


def one_op_network(name: str):
    if name in SEVERAL_INPUTS:
        return several_inputs_network(name)
    line = ONE_LINE.get(name, name)  # an activation: its name alone
    return build(parse_text(f"model one_{name}\ninput 3 8 8\n{line}\n"))


def several_inputs_network(name: str):
    """The 3×8×8 input as 64 tokens of 3 features (``x.flatten(2)``, then ``transpose``):
    sdpa attends with q = k = v = the tokens; matmul multiplies the tokens (64×3) by the
    flattened map before its transpose, N×3×64 read as a matrix (3×64): 64×64."""
    from dataclasses import replace

    from costmodel.core.network import Layer, Network
    from costmodel.core.ops import Shape, apply

    base = build(parse_text("model tokens\ninput 3 8 8\nmerge_positions\nchannels_last\n"))
    flat, tokens = (layer.output for layer in base.layers)
    if name == "matmul":
        inputs = [tokens, Shape(flat.positions, (flat.c,), flat.producer, "last")]
    else:
        inputs = [tokens] * SEVERAL_INPUTS[name]
    result = apply(name, inputs, {})
    layer = Layer(name, name, result.kind, (), tuple(inputs),
                  replace(result.shape, producer=name), result.counts)
    return Network(f"one_{name}", (), base.input, (*base.layers, layer))


def test_every_op_has_a_spec_line_here():
    assert set(OPS) - set(ONE_LINE) - set(SEVERAL_INPUTS) == set(opdef.activations())


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_through_every_convention_and_the_memory_analysis(name):
    from costmodel.analysis import memory

    network = one_op_network(name)
    assert any(layer.op == name for layer in network.layers)
    for convention in CONVENTIONS:
        macs, params = network.macs(convention), network.params(convention)
        assert macs.is_Integer and params.is_Integer, (convention, macs, params)
    assert memory.traffic(network).is_Integer
    assert memory.peak_memory(network).elements > 0
    memory.materialized(network)


@pytest.mark.parametrize("name", list(OPS))
def test_every_op_through_to_torch_and_count_torch(name):
    import torch

    from costmodel import count_torch, to_torch

    network = one_op_network(name)
    module = to_torch(network)
    with torch.no_grad():
        module(torch.randn(1, 3, 8, 8))
    back = count_torch(module, (1, 3, 8, 8))
    assert [layer.op for layer in back.layers] == [layer.op for layer in network.layers]
    for convention in CONVENTIONS:
        assert back.macs(convention) == network.macs(convention), convention
        assert back.params(convention) == network.params(convention), convention


@pytest.mark.parametrize("name", [n for n, d in OPS.items() if d.onnx.types])
def test_every_op_through_the_onnx_reader(name, tmp_path):
    import onnx

    from costmodel.frontends.onnx_file import load_spec
    from tests.onnx_writer import network_to_onnx

    network = one_op_network(name)
    path = tmp_path / "one.onnx"
    onnx.save(network_to_onnx(network), str(path))
    back = load_spec(str(path)).build()
    assert back.macs("paper") == network.macs("paper")
    assert back.params("torch") == network.params("torch")


def test_every_onnx_type_has_a_reader():
    from costmodel.frontends.onnx_ops import OpHandlers

    for name, definition in OPS.items():
        for op_type in definition.onnx.types:
            assert getattr(OpHandlers(), f"op_{op_type}", None) is not None, (name, op_type)


def test_every_tool_has_a_rule_for_every_call_of_every_op():
    for tool in TOOLS:
        for name, definition in OPS.items():
            for call in definition.torch.calls:
                rule, why = tool.rule(name, call)
                assert rule is None or parse_rule(rule) is not None
                assert isinstance(why, str)


# --- an incomplete definition is refused when it is registered ----------------------------------

def _identity(x: Shape) -> Result:
    return Result(x, Counts(activations=x.numel))


FULL = dict(category="activation", display="act", torch=unary_torch("nn.Softsign"),
            onnx=Onnx(("Softsign",), reads=("Softsign",)), memory=Memory(alias="fused"))


@pytest.mark.parametrize("field", ["category", "display", "torch", "onnx", "memory"])
def test_a_missing_fact_is_an_error_naming_the_op_and_field(field):
    facts = {k: v for k, v in FULL.items() if k != field}
    with pytest.raises(CostModelError, match=rf"op 'incomplete': missing {field}="):
        op("incomplete", **facts)(_identity)
    assert "incomplete" not in OPS


@pytest.mark.parametrize("change, says", [
    (dict(category="nonlinear"), "category='nonlinear' is not one of"),
    (dict(memory=Memory(alias="sometimes")), "memory alias='sometimes'"),
    (dict(onnx=Onnx(())), "give note="),
    (dict(onnx=Onnx(("Softsign",), reads=("Gelu",))), "reads= names 'Gelu'"),
    (dict(torch=replace(unary_torch("nn.Softsign"), reads=("nn.GELU",))), "names 'nn.GELU'"),
])
def test_an_inconsistent_fact_is_an_error(change, says):
    with pytest.raises(CostModelError, match=says):
        op("inconsistent", **{**FULL, **change})(_identity)
    assert "inconsistent" not in OPS


def test_a_second_registration_is_an_error():
    with pytest.raises(CostModelError, match="registered twice"):
        op("relu", **FULL)(_identity)


# --- a new op, defined once, here --------------------------------------------------------------

def _softsign(x: Shape) -> Result:
    """softsign x / (1 + |x|): an abs, an add and a divide per element; no MACs."""
    return Result(x, Counts(elementwise=3 * x.numel, activations=x.numel))


SOFTSIGN = opdef.OpDef(
    "softsign", (), _softsign, "softsign", category="activation", display="act",
    torch=unary_torch("nn.Softsign", "F.softsign"),
    onnx=Onnx(("Softsign",), reads=("Softsign",)), memory=Memory(alias="fused"))

NEW_OP_SPEC = """model with_softsign
input 3 16 16
conv 8 k=3 s=2 bn=1 act=softsign
pw 16 act=softsign
gap
fc 10
"""


@pytest.fixture
def softsign():
    with registered(SOFTSIGN):
        yield
    assert "softsign" not in OPS  # gone again: other tests see the built-in ops only


def test_the_registration_is_undone(softsign):
    assert "softsign" in opdef.activations()


def test_a_new_op_defined_once_reaches_every_part(softsign, tmp_path):
    import torch

    from costmodel import count_torch, to_torch
    from costmodel.analysis import memory
    import onnx

    from costmodel.frontends.onnx_file import load_spec
    from tests.onnx_writer import network_to_onnx
    from tests.tool_counts import TOOLS as RUN

    network = build(parse_text(NEW_OP_SPEC))
    assert [layer.op for layer in network.layers].count("softsign") == 2
    # every convention: the tools skip it (no hook, rule or handler for Softsign in any of
    # them: the activation category's rule), and each tool's own count of the module agrees
    module = to_torch(network)
    assert sum(isinstance(m, torch.nn.Softsign) for m in module.modules()) == 2
    for tool, run in RUN.items():
        assert (network.macs(tool), network.params(tool)) == run(module, 16), tool
    assert network.macs("paper") == 8 * 8 * 8 * 27 + 8 * 8 * 16 * 8 + 16 * 10
    # read back from torch
    back = count_torch(module, (1, 3, 16, 16))
    assert [layer.op for layer in back.layers] == [layer.op for layer in network.layers]
    for convention in CONVENTIONS:
        assert back.macs(convention) == network.macs(convention), convention
    # read back from ONNX: as an ONNX Softsign node (torch's exporters, both of them, write
    # Abs, Add and Div instead, which is no Softsign to read)
    path = tmp_path / "softsign.onnx"
    onnx.save(network_to_onnx(network), str(path))
    from_onnx = load_spec(str(path)).build()
    assert [layer.op for layer in from_onnx.layers].count("softsign") == 2  # (pw reads as conv)
    for convention in CONVENTIONS:
        assert from_onnx.macs(convention) == network.macs(convention), convention
    # memory: in place when fused, a kernel of its own otherwise
    fused = memory.traffic(network, fused=True)
    # each unfused softsign reads and writes its map: 8×8×8 after the conv, 8×8×16 after pw
    assert memory.traffic(network) - fused == 2 * (8 * 8 * 8 + 8 * 8 * 16)


def test_the_readmes_adding_an_op_snippet_registers(tmp_path):
    # the README's "Adding an op" definition, run as written, makes a working op
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    marker = "<!-- adding-an-op: tests/test_op_registry.py registers this definition -->"
    snippet = readme.split(marker, 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    try:
        exec(compile(snippet, "README.md", "exec"), {})  # our own README, not outside input
        assert OPS["softsign"].category == "activation"
        network = build(parse_text("model m\ninput 3 8 8\nconv 4 k=3 act=softsign\n"))
        assert network.layers[-1].op == "softsign"
        assert network.total.elementwise == 3 * 4 * 8 * 8
        assert {network.macs(c) for c in CONVENTIONS} == {4 * 64 * 27}  # no tool counts it
    finally:
        OPS.pop("softsign", None)


def test_every_named_exception_names_a_registered_op_or_call():
    for tool in TOOLS:
        assert tool.unknown_names() == [], tool.name
