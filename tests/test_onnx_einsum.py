"""The ONNX reader on small graphs written with onnx.helper (no torch): Einsum nodes of two
computed tensors as ``matmul`` layers with the arithmetic beside each number, the ones that
are no matmul listed as uncounted, a malformed equation refused naming its node, and a
departition Transpose (the features back to axis 1) read as a channels-first map again."""

from __future__ import annotations

import subprocess
import sys

import pytest
from onnx import TensorProto, helper

from costmodel.core.network import exact
from costmodel.errors import CostModelError
from costmodel.frontends.onnx_file import load_spec
from tests.test_onnx_graph import ROOT, save, weight

pytestmark = pytest.mark.slow  # onnx (a second, no torch)


def attention(second: str, first: str = "bhid,bhjd->bhij", tail=(), out_rank=4):
    """x (1×2×6×8, channels first) to tokens t (1×6×8×2: 6 rows of 8 tokens of 2 features),
    the scores t·tᵀ (``first``), a softmax, and ``second`` of the weights and t."""
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
             helper.make_node("Einsum", ["t", "t"], ["s"], equation=first),
             helper.make_node("Softmax", ["s"], ["p"], axis=-1),
             helper.make_node("Einsum", ["p", "t"] if second.startswith("bhij") else ["t", "p"],
                              ["o"], equation=second), *tail]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 8])],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, [None] * out_rank)],
        [weight("w", 4, 2, 1, 1)] if tail else [])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_both_einsums_of_attention_are_matmuls(tmp_path):
    net = load_spec(save(attention("bhij,bhjd->bhid"), tmp_path)).build()
    assert [layer.op for layer in net.layers] == ["channels_last", "matmul", "softmax",
                                                  "matmul"]
    scores, weighted = net.layers[1], net.layers[3]
    # 6 rows (h) of 8 queries (i) against 8 keys (j) of 2 features (d): 6·8·8·2 each
    assert exact(scores.macs("torch")) == exact(weighted.macs("torch")) == 6 * 8 * 8 * 2
    assert scores.output.sizes[-1] == 8 and scores.output.c == 8  # 6×8×8, softmax's last
    assert weighted.output.c == 2 and not net.warnings


def test_the_weights_as_the_second_operand_are_the_same_product(tmp_path):
    # (vᵀ·pᵀ)ᵀ written with v first: the output ends with v's free axis d
    net = load_spec(save(attention("bhjd,bhij->bhid"), tmp_path)).build()
    assert [exact(layer.macs("torch")) for layer in net.layers if layer.op == "matmul"] == \
        [6 * 8 * 8 * 2] * 2 and not net.warnings


def test_the_features_moved_back_to_axis_one_are_a_map_a_convolution_reads(tmp_path):
    # o is 1×6×8×2 (tokens); Transpose(0, 3, 2, 1) makes 1×2×8×6: 2 channels of 8×6
    tail = (helper.make_node("Transpose", ["o"], ["m"], perm=[0, 3, 2, 1]),
            helper.make_node("Conv", ["m", "w"], ["y"], kernel_shape=[1, 1]))
    net = load_spec(save(attention("bhij,bhjd->bhid", tail=tail), tmp_path)).build()
    conv = net.layers[-1]
    assert conv.op == "conv" and conv.inputs[0].layout == "first"
    assert (conv.inputs[0].c, conv.inputs[0].sizes) == (2, (8, 6))
    assert exact(conv.macs("torch")) == 4 * 2 * 8 * 6 and not net.warnings


@pytest.mark.parametrize("equation,why", [
    ("bhij,bhkd->bhijkd", "last axis"),  # an outer product: N is k and d, the last d
    ("bhij,bhkd->bhid", "summed within one operand"),
    ("...ij,...jd->...id", "ellipsis"),
])
def test_an_einsum_no_matmul_expresses_is_listed_uncounted(equation, why, tmp_path):
    rank = len(equation.split("->")[1].replace("...", "bh"))
    net = load_spec(save(attention(equation, out_rank=rank), tmp_path)).build()
    (warning,) = [w for w in net.warnings if w.kind == "uncounted"]
    assert warning.subject.startswith("Einsum (") and why in warning.subject
    assert [layer.op for layer in net.layers].count("matmul") == 1  # the scores still are


def test_a_malformed_equation_is_refused_naming_the_node(tmp_path):
    model = attention("bhij,bhjd->bhid", first="bhid;bhjd->bhij")
    model.graph.node[1].name = "scores"
    with pytest.raises(CostModelError, match=r"node 'scores' \(Einsum\): its equation holds "
                                             r"';'.*\('bhid;bhjd->bhij'\); refused"):
        load_spec(save(model, tmp_path)).build()


def test_an_equation_onnxs_shape_inference_hangs_on_is_refused_before_it(tmp_path):
    # onnx.shape_inference never returns on "-->" (onnx 1.x): checked before it runs
    path = save(attention("bhij,bhjd->bhid", first="bhid,bhjd-->bhij"), tmp_path)
    result = subprocess.run([sys.executable, "-m", "costmodel", "compare", path], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("costmodel: error: ") and "#1 (Einsum)" in line
    assert "not one '->'" in line and "refused" in line


def test_a_hostile_equation_is_not_echoed_raw(tmp_path):
    model = attention("bhij,bhjd->bhid", first="bhid,bhjd->bhij\x1b[31m" + "\u202e" * 500)
    path = save(model, tmp_path)
    result = subprocess.run([sys.executable, "-m", "costmodel", "summary", path], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2 and "\x1b" not in result.stderr
    assert "\u202e" not in result.stderr and len(result.stderr) < 1000
    assert "characters, more than the 200 read" in result.stderr
