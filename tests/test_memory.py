"""Memory traffic, peak activation memory and the tensors to materialize
(costmodel.analysis.memory), against hand arithmetic and MobileNet v2's Table 3."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy

from costmodel import zoo
from costmodel.analysis import memory as M
from costmodel.analysis.derivations import memory_access_cost
from costmodel.core.ops import Result
from costmodel.data.published import figures
from costmodel.errors import CostModelError

SPECS = Path(__file__).parent / "specs"


def build(spec: str):
    return zoo.resolve(spec).build()


def layer(network, name):
    return next(l for l in network.layers if l.name == name)


def test_traffic_of_a_pointwise_layer_by_hand():
    net = build("mobilenet_v1")
    pw = M.layer_memory(layer(net, "dwsep1.pw"))
    # 112×112×32 in, 112×112×64 out, 32·64 weights (no bias)
    assert (pw.read, pw.written, pw.weights) == (112 * 112 * 32, 112 * 112 * 64, 32 * 64)
    assert pw.traffic == 401_408 + 802_816 + 2_048 == 1_206_272
    assert pw.traffic_bytes("fp32") == 4 * 1_206_272
    assert pw.traffic_bytes("fp16") == 2 * 1_206_272
    assert pw.traffic_bytes("int8") == 1_206_272
    # MACs per byte: 112²·32·64 / (4 · 1,206,272), exactly
    assert pw.intensity("fp32") == sympy.Rational(112 * 112 * 32 * 64, 4 * 1_206_272)


def test_conv_with_bias_and_a_3x3_kernel_by_hand():
    net = build("vgg16:resolution=32")
    conv = M.layer_memory(net.layers[0])  # 3 → 64 channels, 3×3, bias, 32×32
    assert conv.read == 3 * 32 * 32 and conv.written == 64 * 32 * 32
    assert conv.weights == 64 * 3 * 9 + 64


def test_single_input_traffic_is_shufflenet_v2s_memory_access_cost():
    """The same count as derive's memory_access_cost (the G1/G2 derivations' MAC)."""
    net = build("shufflenet_v2")
    for item in net.layers:
        if len(item.inputs) == 1 and not M.is_aliased(item):
            expected = memory_access_cost(item.inputs[0],
                                          Result(item.output, item.counts, item.kind))
            assert M.layer_memory(item).traffic == expected, item.name


def test_merges_read_every_input_and_folded_layers_move_nothing():
    net = build("resnet18")
    add = layer(net, "layer1.basic1.add1")
    assert M.layer_memory(add).read == 2 * 56 * 56 * 64
    assert M.layer_memory(add).written == 56 * 56 * 64
    bn = next(l for l in net.layers if l.op == "bn")
    relu = next(l for l in net.layers if l.op == "relu")
    assert M.layer_memory(bn).traffic == 0
    assert M.layer_memory(relu).traffic == 2 * relu.output.numel  # its own kernel
    assert M.layer_memory(relu, fused=True).traffic == 0          # in place
    assert M.traffic(net, fused=True) < M.traffic(net)


def test_network_traffic_is_the_sum_and_bytes_scale_with_dtype():
    net = build("mobilenet_v2")
    assert M.traffic(net) == sum(M.layer_memory(l).traffic for l in net.layers)
    assert M.traffic_bytes(net, "fp16") * 2 == M.traffic_bytes(net, "fp32")
    with pytest.raises(CostModelError, match="fp64"):
        M.dtype_bytes("fp64")


def test_traffic_stays_symbolic():
    from costmodel.core import symbols as S
    net = zoo.build("mobilenet_v1", alpha=S.alpha, rounding="none")
    expr = M.traffic(net)
    assert S.alpha in expr.free_symbols
    assert sympy.simplify(expr.subs(S.alpha, 1) - M.traffic(build("mobilenet_v1"))) == 0


# --- peak memory: tests/specs/branchy.cm, worked by hand ------------------------------------
#
#   input 2×4×4 = 32 ─ a (pw 4): 64 ─┬─ b (pw 2): 32 ────────────┐
#                                    └─ c (pw 6): 96 ─ d (pw 1): 16 ─ concat: 48 ─ e (pw 3): 48 ─ add: 48
#                                                                         └──────────────────────┘
# In the file's order a, b, c, d, concat, e, add, the buffers alive at each step are
#   a: input + a = 96;  b: a + b = 96;  c: a + b + c = 192;  d: b + c + d = 144;
#   concat: b + d + concat = 96;  e: concat + e = 96;  add: concat + e + add = 144.
# Running c and d before b instead: c: a + c = 160; d: a + c + d = 176; b: a + d + b = 112.

def test_peak_memory_on_a_network_with_branches_by_hand():
    net = build(str(SPECS / "branchy.cm"))
    peak = M.peak_memory(net)
    assert peak.elements == 192 and peak.step == "branch2.c"
    assert set(peak.alive) == {"a", "branch1.b", "branch2.c"}
    other = ["a", "branch2.c", "branch2.d", "branch1.b", "concat1", "e", "add1"]
    peak = M.peak_memory(net, order=other)
    assert peak.elements == 176 and peak.step == "branch2.d"
    assert peak.bytes("fp16") == 352


def test_an_order_that_is_not_topological_is_refused():
    net = build(str(SPECS / "branchy.cm"))
    with pytest.raises(CostModelError, match="before 'a'"):
        M.peak_memory(net, order=["branch1.b", "a", "branch2.c", "branch2.d", "concat1", "e",
                                  "add1"])
    with pytest.raises(CostModelError, match="every layer once"):
        M.peak_memory(net, order=["a"])


def test_a_shortcut_keeps_its_input_alive():
    """resnet18's first block: the block input stays alive across both convolutions."""
    net = build("resnet18")
    peak = M.peak_memory(net, fused=True)
    assert peak.elements >= 2 * 56 * 56 * 64


# --- MobileNet v2 Table 3 and §5.1 -------------------------------------------------------------

@pytest.mark.parametrize("spec, published_label, expected_bytes", [
    ("mobilenet_v1", "max / MobileNetV1", 112 * 112 * 64 * 2),
    ("mobilenet_v2", "max / MobileNetV2", 112 * 112 * 16 * 2),
])
def test_table3_largest_tensor_to_materialize(spec, published_label, expected_bytes):
    """Sandler et al., MobileNetV2, arXiv 1801.04381, Table 3 (16-bit): MobileNet v1 1600K,
    MobileNet v2 400K (costmodel/data/published.toml); KB = 1000 bytes."""
    largest = M.largest_materialized(build(spec))
    assert largest.numel * 2 == expected_bytes
    printed = next(f.memory_kb for f in figures(source="mobilenet_v2", table="Table 3")
                   if f.label == published_label)
    assert round(expected_bytes / 1000, -2) == printed


def test_table3_shufflenet_column_is_g2_widths():
    """The paper's ShuffleNet (2x, g=3) prints 600K with 400/800/1600 channels: g = 3's
    widths give 28×28×480 (752,640 bytes), g = 2's give 28×28×400 (627,200 bytes)."""
    g3 = M.largest_materialized(build("shufflenet_v1:alpha=2,g=3"))
    g2 = M.largest_materialized(build("shufflenet_v1:alpha=2,g=2"))
    assert (g3.c, g3.h, g3.numel * 2) == (480, 28, 752_640)
    assert (g2.c, g2.h, g2.numel * 2) == (400, 28, 627_200)


def test_inverted_residual_streams_its_expanded_tensors():
    net = build("mobilenet_v2")
    tensors = {t.name: t for t in M.materialized(net)}
    assert tensors["inverted_residual3.expand"].streamed
    assert tensors["inverted_residual3.dw"].streamed
    assert not tensors["inverted_residual3.project"].streamed
    assert not tensors["input"].streamed


def test_working_set_of_a_residual_block_by_hand():
    """inverted_residual3 (56×56×24 → ×6 → 24, with its shortcut): materialized, the
    depthwise step holds x and both expanded maps; streamed, x + y + one channel of each."""
    sets = {w.first: w for w in M.working_sets(build("mobilenet_v2"))}
    w = sets["inverted_residual3.expand"]
    x = 56 * 56 * 24
    expanded = 56 * 56 * 144
    assert (w.bottleneck_in, w.bottleneck_out, w.largest_inner) == (x, x, expanded)
    assert w.peak_materialized == x + 2 * expanded == 978_432
    assert w.peak_streamed == 2 * x + 2 * 56 * 56 == 156_800


@pytest.mark.slow
def test_memory_command_takes_an_execution_order(tmp_path):
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    order = tmp_path / "order.txt"
    order.write_text("a\nbranch2.c\nbranch2.d\nbranch1.b\nconcat1\ne\nadd1\n")
    result = subprocess.run([sys.executable, "-m", "costmodel", "memory",
                             str(SPECS / "branchy.cm"), "--order", str(order), "-f", "json"],
                            cwd=root, capture_output=True, text=True, timeout=120)
    data = json.loads(result.stdout)
    assert (data["peak_bytes"], data["peak_step"]) == (4 * 176, "branch2.d")
    order.write_text("branch1.b\na\n")
    result = subprocess.run([sys.executable, "-m", "costmodel", "memory",
                             str(SPECS / "branchy.cm"), "--order", str(order)],
                            cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("costmodel: error:")


def test_a_source_that_is_no_layer_is_its_own_buffer():
    """A traced module can read the output of an op no rule counts (nn.Mish): that tensor is
    a buffer of its own, written just before its reader."""
    from dataclasses import replace

    from costmodel.core.ops import Shape

    net = build(str(SPECS / "branchy.cm"))
    layers = list(net.layers)
    i = next(k for k, l in enumerate(layers) if l.name == "e")
    ghost = Shape.image(3, 4, 4, producer="uncounted")
    layers[i] = replace(layers[i], inputs=(ghost,))
    odd = replace(net, layers=tuple(layers))
    assert M.peak_memory(odd).elements == 192
    # the uncounted buffer lives only at e's step, so the peak stays at c
    order = [l.name for l in layers]
    assert M.peak_memory(odd, order=order).step == "branch2.c"
    assert M.largest_materialized(odd).numel == 64
    M.working_sets(odd)
