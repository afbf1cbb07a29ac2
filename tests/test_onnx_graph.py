"""The ONNX front end: files written with onnx.helper, counted back.

Every zoo model written as ONNX (tests/onnx_writer.py) counts back to its spec's MACs and
params in both conventions; small hand-made graphs pin each ONNX op's translation with the
arithmetic beside the number; bad files each give one error line.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from costmodel import zoo
from costmodel.core import symbols as S
from costmodel.errors import CostModelError
from costmodel.frontends.onnx_file import load_spec
from tests.onnx_writer import network_to_onnx, onnx_readable

pytestmark = pytest.mark.slow  # onnx, and subprocesses

ROOT = Path(__file__).resolve().parents[1]


#: The zoo models whose every op the ONNX reader reads (tests/onnx_writer.py onnx_readable).
ONNX_ZOO = [name for name in zoo.names() if onnx_readable(zoo.build(name))]


def save(model, tmp_path, name="model.onnx") -> str:
    path = tmp_path / name
    onnx.save(model, str(path))
    return str(path)


def count(model, tmp_path, rest=""):
    return load_spec(save(model, tmp_path), rest).build()


@pytest.mark.parametrize("name", ONNX_ZOO)
def test_every_zoo_model_written_as_onnx_counts_back_to_its_spec(name, tmp_path):
    spec = zoo.build(name)
    net = count(network_to_onnx(spec), tmp_path)
    for convention in ("paper", "torch"):
        assert net.macs(convention) == spec.macs(convention)
        assert net.params(convention) == spec.params(convention)
    assert not [w.text() for w in net.warnings if w.kind == "uncounted"]
    names = {"input"}
    for layer in net.layers:  # the graph's edges: every source is an earlier layer
        assert set(layer.sources) <= names, layer.name
        names.add(layer.name)
    assert net.output == spec.output


def test_a_dynamic_input_is_counted_at_the_resolution_asked_for(tmp_path):
    path = save(network_to_onnx(zoo.build("mobilenet_v2"), dynamic=True), tmp_path)
    for resolution in (160, 224, 97):
        net = load_spec(path, f"resolution={resolution}").build()
        spec = zoo.build("mobilenet_v2", resolution=resolution)
        assert (net.macs(), net.params()) == (spec.macs(), spec.params())
        assert net.settings == {"resolution": resolution}
    assert load_spec(path).build(resolution="128").macs() == \
        zoo.build("mobilenet_v2", resolution=128).macs()
    with pytest.raises(CostModelError, match=r"input's height is dynamic \('H'.*resolution=224"):
        load_spec(path).build()
    with pytest.raises(CostModelError, match="costmodel import"):
        load_spec(path).build(resolution=S.R)
    with pytest.raises(CostModelError, match="no knob 'alpha'"):
        load_spec(path, "alpha=0.5")
    with pytest.raises(CostModelError, match="resolution must be a whole number >= 1; "
                                             "received resolution=0"):
        load_spec(path, "resolution=0").build()
    for bad in ("²", "١٢٨"):  # digits to str.isdigit, not to int() or to the spec language
        with pytest.raises(CostModelError, match="resolution must be a whole number >= 1"):
            load_spec(path, f"resolution={bad}").build()
    for huge in ("99999999999999999999", "9" * 5000):  # past int64 dims, past int()'s limit
        with pytest.raises(CostModelError, match="resolution must be at most 2,147,483,647"):
            load_spec(path, f"resolution={huge}").build()
    tiny = save(model([helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3])],
                      [weight("w", 4, 8, 3, 3)], shape=(1, 8, "H", "W")), tmp_path, "tiny.onnx")
    with pytest.raises(CostModelError, match="tiny.onnx: .*(too small|shape inference fails)"):
        load_spec(tiny, "resolution=2").build()


def test_an_input_shape_as_the_input_option_gives_it(tmp_path):
    path = save(network_to_onnx(zoo.build("mobilenet_v2"), dynamic=True), tmp_path)
    net = load_spec(path).build(input_shape=(8, 3, 160, 192))  # counts per sample: N aside
    assert net.settings == {"height": 160, "width": 192}
    assert net.input.h == 160 and net.input.w == 192
    assert load_spec(path, "resolution=128").build(input_shape=(1, 3, 160, 160)).settings == \
        {"resolution": 128}  # the SPEC's own size wins
    with pytest.raises(CostModelError, match="takes 3-channel input; --input gives C=1"):
        load_spec(path).build(input_shape=(1, 1, 160, 160))


def test_a_fixed_input_may_be_counted_at_another_size(tmp_path):
    path = save(network_to_onnx(zoo.build("resnet18")), tmp_path)
    assert load_spec(path, "resolution=256").build().macs() == \
        zoo.build("resnet18", resolution=256).macs()
    assert load_spec(path).config() == {"resolution": 224}


# --- hand-made graphs, one op family each --------------------------------------------------

def weight(name, *dims):
    return numpy_helper.from_array(np.zeros(dims, dtype=np.float32), name)


def ints(name, *values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def scalar(name, value):
    return numpy_helper.from_array(np.array(value, dtype=np.float32), name)


def model(nodes, inits, shape=(1, 8, 16, 16), opset=17, out_rank=4):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT,
                                       [None] * out_rank)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def layers(net):
    return [(layer.op, dict(layer.attrs), layer.counts.macs, layer.counts.weights)
            for layer in net.layers]


def test_conv_groups_dilation_and_padding(tmp_path):
    nodes = [
        # 8 -> 16, 3x3, 2 groups, dilation 2, pads 2: 16x16 stays 16x16
        # MACs = 16·16·16·(8/2)·9 = 147456; params = 16·4·9 + 16 = 592
        helper.make_node("Conv", ["x", "w1", "b1"], ["a"], kernel_shape=[3, 3], group=2,
                         dilations=[2, 2], pads=[2, 2, 2, 2], name="grouped"),
        # asymmetric pads (0 before, 1 after), stride 2: floor((16 + 1 - 3)/2) + 1 = 8
        # MACs = 8·8·16·16·9 = 147456
        helper.make_node("Conv", ["a", "w2"], ["b"], kernel_shape=[3, 3], strides=[2, 2],
                         pads=[0, 0, 1, 1], name="asym"),
        # auto_pad SAME_UPPER, stride 2: ceil(8/2) = 4; depthwise: MACs = 4·4·16·9 = 2304
        helper.make_node("Conv", ["b", "w3"], ["c"], kernel_shape=[3, 3], strides=[2, 2],
                         group=16, auto_pad="SAME_UPPER", name="same"),
    ]
    net = count(model(nodes, [weight("w1", 16, 4, 3, 3), weight("b1", 16),
                              weight("w2", 16, 16, 3, 3), weight("w3", 16, 1, 3, 3)]), tmp_path)
    assert [(m, p) for _, _, m, p in layers(net)] == [(147456, 592), (147456, 2304), (2304, 144)]
    assert [layer.kind for layer in net.layers] == ["gconv 3x3", "conv 3x3", "conv dw 3x3"]
    assert [layer.name for layer in net.layers] == ["grouped", "asym", "same"]
    assert net.layers[2].sources == ("asym",)
    assert any("auto_pad SAME" in note for note in net.notes)


def test_fc_from_gemm_and_from_matmul_plus_bias(tmp_path):
    nodes = [
        helper.make_node("GlobalAveragePool", ["x"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        # Gemm, weight stored [in, out] (transB=0): MACs = 8·10 = 80, params 80 + 10
        helper.make_node("Gemm", ["f", "w1", "b1"], ["y1"]),
        # MatMul then Add of a constant vector: one fc with bias, MACs 10·4, params 40 + 4
        helper.make_node("MatMul", ["y1", "w2"], ["y2"]),
        helper.make_node("Add", ["y2", "b2"], ["y3"]),
        helper.make_node("Relu", ["y3"], ["y4"]),
    ]
    net = count(model(nodes, [weight("w1", 8, 10), weight("b1", 10), weight("w2", 10, 4),
                              weight("b2", 4)], out_rank=2), tmp_path)
    assert [(op, m, p) for op, _, m, p in layers(net)] == [
        ("gap", 0, 0), ("fc", 80, 90), ("fc", 40, 44), ("relu", 0, 0)]
    assert dict(net.layers[2].attrs)["bias"] == 1
    assert net.layers[3].sources == (net.layers[2].name,)
    assert any("MatMul followed by an Add" in note for note in net.notes)


def test_batch_norm_pooling_and_activations(tmp_path):
    inits = [weight(n, 8) for n in ("s", "b", "m", "v")] + [
        scalar("lo", 0.0), scalar("hi", 6.0), ints("axes", 2, 3)]
    nodes = [
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["a"]),
        helper.make_node("Clip", ["a", "lo", "hi"], ["b1"]),           # ReLU6
        helper.make_node("HardSwish", ["b1"], ["c"]),
        helper.make_node("MaxPool", ["c"], ["d"], kernel_shape=[3, 3], strides=[2, 2],
                         ceil_mode=1),                                 # ceil(13/2)+1 = 8
        helper.make_node("AveragePool", ["d"], ["e"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("LRN", ["e"], ["f"], size=5),
        helper.make_node("Dropout", ["f"], ["g"]),
        helper.make_node("Identity", ["g"], ["h"]),
        helper.make_node("ReduceMean", ["h", "axes"], ["i"], keepdims=1),  # opset 18: input
        helper.make_node("HardSigmoid", ["i"], ["j"], alpha=1 / 6, beta=0.5),
        helper.make_node("Sigmoid", ["j"], ["k"]),
    ]
    net = count(model(nodes, inits, opset=18), tmp_path)
    assert [layer.op for layer in net.layers] == [
        "bn", "relu6", "hswish", "maxpool", "avgpool", "lrn", "dropout", "gap", "hsigmoid",
        "sigmoid"]
    assert [str(layer.output) for layer in net.layers][3:5] == ["8×8×8", "4×4×8"]
    assert net.params("paper") == 0 and net.params("torch") == 16  # BN scale and shift, 2·8
    assert net.layers[7].sources == ("dropout",) or net.layers[7].sources[0] == \
        net.layers[6].name  # Identity passes through


def test_older_opsets_clip_attributes_and_reduce_mean_axes(tmp_path):
    nodes = [helper.make_node("Clip", ["x"], ["a"], min=0.0, max=6.0),
             helper.make_node("ReduceMean", ["a"], ["b"], axes=[-2, -1], keepdims=0)]
    net = count(model(nodes, [], opset=10, out_rank=2), tmp_path)
    assert [layer.op for layer in net.layers] == ["relu6", "gap"]


def test_add_mul_concat_split_and_channel_shuffle(tmp_path):
    nodes = [
        helper.make_node("Split", ["x"], ["p", "q"], axis=1, num_outputs=2),
        helper.make_node("Relu", ["q"], ["r"]),
        helper.make_node("Concat", ["p", "r"], ["c"], axis=1),
        helper.make_node("Add", ["c", "x"], ["s"]),
        # channel shuffle, g = 2: 8 channels as 2×4, transposed, back to 8
        helper.make_node("Reshape", ["s", "shape5"], ["s5"]),
        helper.make_node("Transpose", ["s5"], ["t5"], perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t5", "shape4"], ["u"]),
        # a squeeze-excite gate: GAP, then the 1×1×8 map multiplies the 16×16×8 one
        helper.make_node("GlobalAveragePool", ["u"], ["gp"]),
        helper.make_node("Mul", ["u", "gp"], ["v"]),
    ]
    net = count(model(nodes, [ints("shape5", 1, 2, 4, 16, 16), ints("shape4", 1, 8, 16, 16)],
                      opset=18), tmp_path)
    ops_seen = [(layer.op, dict(layer.attrs)) for layer in net.layers]
    assert ops_seen == [("split", {"c": 4}), ("split", {"c": 4}), ("relu", {}), ("concat", {}),
                        ("add", {}), ("shuffle", {"g": 2}), ("gap", {}), ("mul", {})]
    shuffle = net.layers[5]
    assert shuffle.sources == (net.layers[4].name,)
    assert net.layers[7].sources == (shuffle.name, net.layers[6].name)


def test_unsupported_ops_are_listed_by_name_and_count(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[1, 1]),
             helper.make_node("Hardmax", ["a"], ["b"], axis=1),
             helper.make_node("LeakyRelu", ["b"], ["c"]),
             helper.make_node("Hardmax", ["c"], ["d"], axis=1),
             helper.make_node("Relu", ["d"], ["e"])]
    path = save(model(nodes, [weight("w", 4, 8, 1, 1)]), tmp_path)
    net = load_spec(path).build()
    assert [layer.op for layer in net.layers] == ["conv", "relu"]
    assert net.layers[1].sources == (net.layers[0].name,)  # reads past the uncounted ops
    assert [(w.kind, w.subject, w.count) for w in net.warnings] == \
        [("uncounted", "Hardmax", 2), ("uncounted", "LeakyRelu", 1)]
    assert net.warnings[0].text() == ("not counted: Hardmax × 2: no costmodel formula; the next "
                                      "layer reads past them")
    shown = subprocess.run([sys.executable, "-m", "costmodel", "summary", path], cwd=ROOT,
                           capture_output=True, text=True)
    assert shown.returncode == 0 and "warning: model: not counted: Hardmax × 2" in \
        " ".join(shown.stdout.split())
    compared = subprocess.run([sys.executable, "-m", "costmodel", "compare", path], cwd=ROOT,
                              capture_output=True, text=True)
    assert compared.returncode == 0 and "not counted: Hardmax × 2" in \
        " ".join(compared.stdout.split())
    assert "costmodel: warning: " in compared.stderr and "Hardmax × 2" in compared.stderr


def test_shared_and_computed_weights_are_counted_as_the_file_has_them(tmp_path):
    constant = helper.make_node("Constant", [], ["wc"],
                                value=numpy_helper.from_array(np.zeros((8, 8, 1, 1), np.float32)))
    nodes = [constant,
             helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[1, 1], name="first"),
             helper.make_node("Conv", ["a", "w"], ["b"], kernel_shape=[1, 1], name="second"),
             helper.make_node("Conv", ["b", "wc"], ["c"], kernel_shape=[1, 1], name="third")]
    net = count(model(nodes, [weight("w", 8, 8, 1, 1)]), tmp_path)
    # three 1x1 convs 8 -> 8 on 16×16: MACs 3·16·16·64; the shared 64 weights count once
    assert net.macs() == 3 * 16 * 16 * 64
    assert [layer.counts.weights for layer in net.layers] == [64, 0, 64]
    assert any("counted once, at the first (64 params fewer than counting every use): "
               "w (first, second)." in n for n in net.notes)
    assert any("computed in the graph" in n and "third" in n for n in net.notes)


# --- bad files: one error line each ------------------------------------------------------------

def error_line(path, tmp_path):
    result = subprocess.run([sys.executable, "-m", "costmodel", "compare", str(path)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("costmodel: error: "), result.stderr
    return lines[0]


def test_a_file_that_is_not_onnx(tmp_path):
    path = tmp_path / "notes.onnx"
    path.write_text("this is a text file, not a model\n")
    assert "not an ONNX file" in error_line(path, tmp_path)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    assert "not an ONNX file" in error_line(empty, tmp_path)
    assert "no such file" in error_line(tmp_path / "missing.onnx", tmp_path)


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.95])
def test_a_truncated_file(tmp_path, fraction):
    data = network_to_onnx(zoo.build("squeezenet"), external=False).SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[:int(len(data) * fraction)])
    assert "truncated" in error_line(path, tmp_path)


def test_a_graph_with_a_cycle(tmp_path):
    nodes = [helper.make_node("Add", ["x", "d"], ["a"], name="add1"),
             helper.make_node("Relu", ["a"], ["b"], name="relu1"),
             helper.make_node("Relu", ["b"], ["d"], name="relu2")]
    line = error_line(save(model(nodes, []), tmp_path), tmp_path)
    assert "the graph has a cycle" in line and "relu2" in line and "add1" in line


def test_a_graph_with_a_missing_input(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[1, 1], name="conv1"),
             helper.make_node("Add", ["a", "ghost"], ["b"], name="add1")]
    line = error_line(save(model(nodes, [weight("w", 8, 8, 1, 1)]), tmp_path), tmp_path)
    assert "node 'add1' (Add) reads 'ghost', which no node, initializer or graph input " \
           "provides" in line


def test_invalid_nodes_are_named(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3], name="c1")]
    line = error_line(save(model(nodes, [weight("w", 4, 5, 3, 3)]), tmp_path), tmp_path)
    assert "node 'c1' (Conv): its weight 4×5×3×3 does not fit 8 input channels" in line
    nodes = [helper.make_node("Flatten", ["x"], ["f"]),
             helper.make_node("Gemm", ["f", "w"], ["y"])]  # 2048 features, weight 7×10
    line = error_line(save(model(nodes, [weight("w", 7, 10)], out_rank=2), tmp_path), tmp_path)
    assert "ONNX shape inference fails at input 8×16×16" in line


@pytest.mark.parametrize("node", [
    helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[3, 3], group="x"),
    helper.make_node("LRN", ["x"], ["a"], size=2.5)])  # int() would have truncated it to 2
def test_attribute_types_are_checked_when_the_checker_is_skipped(node, tmp_path):
    w = weight("w", 4, 8, 3, 3)
    w.ClearField("raw_data")  # external data, as large models keep it: onnx.checker skipped
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="absent.bin")
    line = error_line(save(model([node], [w]), tmp_path), tmp_path)
    assert f"not a valid ONNX model: node #0 ({node.op_type}): Mismatched attribute type" in line


def test_importing_costmodel_does_not_import_onnx():
    code = ("import sys, costmodel.zoo, costmodel.cli.app\n"
            "assert 'onnx' not in sys.modules and 'torch' not in sys.modules\n")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


@pytest.mark.parametrize("command", [["derive"], ["solve", "--macs", "100M", "--for",
                                                   "resolution"], ["sweep", "--resolution", "96"]])
def test_symbolic_commands_point_to_the_spec_file_route(tmp_path, command):
    path = save(network_to_onnx(zoo.build("squeezenet")), tmp_path)
    result = subprocess.run([sys.executable, "-m", "costmodel", command[0], path, *command[1:]],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("costmodel: error: ") and len(result.stderr.splitlines()) == 1
    stem = Path(path).stem
    assert f"costmodel import {path} -o {stem}.cm, then use {stem}.cm" in result.stderr


def test_summary_json_carries_the_notes(tmp_path):
    path = save(network_to_onnx(zoo.build("mobilenet_v1")), tmp_path)
    result = subprocess.run([sys.executable, "-m", "costmodel", "summary", path, "-f", "json",
                             "--convention", "torch"], cwd=ROOT, capture_output=True, text=True)
    import json

    data = json.loads(result.stdout)
    assert data["total"]["macs"] == 568_740_352 and data["total"]["params"] == 4_231_976
    assert data["config"] == {"resolution": 224}
    assert data["notes"][0].startswith("Read from the ONNX file")


def test_an_op_of_another_domain_is_listed_with_its_domain(tmp_path):
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[1, 1]),
             helper.make_node("FusedThing", ["a"], ["b"], domain="com.example"),
             helper.make_node("Relu", ["b"], ["c"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [None] * 4)],
        [weight("w", 4, 8, 1, 1)])
    net = count(helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)]), tmp_path)
    # its output's shape is unknown, so the Relu after it cannot be counted either: both listed
    assert [layer.op for layer in net.layers] == ["conv"]
    assert [(w.subject, w.count) for w in net.warnings] == \
        [("Relu (not on a feature map)", 1), ("com.example.FusedThing", 1)]


def test_the_input_option_on_the_command_line(tmp_path):
    path = save(network_to_onnx(zoo.build("mobilenet_v2"), dynamic=True), tmp_path)
    result = subprocess.run([sys.executable, "-m", "costmodel", "compare", path, "--input",
                             "1,3,160,160", "-f", "json"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
    import json

    row = json.loads(result.stdout)[0]
    assert row["config"] == {"resolution": 160}
    assert row["macs"] == zoo.build("mobilenet_v2", resolution=160).macs()
    wrong = subprocess.run([sys.executable, "-m", "costmodel", "summary", path, "--input",
                            "1,1,160,160"], cwd=ROOT, capture_output=True, text=True)
    assert wrong.returncode == 2 and "takes 3-channel input; --input gives C=1" in wrong.stderr


def test_the_input_option_takes_ascii_whole_numbers_of_bounded_length():
    from costmodel.frontends import parse_input_shape

    assert parse_input_shape("1,3,224,224") == (1, 3, 224, 224)
    for bad in ("1,3,²,2", "1,3,224," + "9" * 61, "1,3,0,2"):
        with pytest.raises(CostModelError, match="--input takes N,C,H,W as positive whole numbers"):
            parse_input_shape(bad)


def test_a_kernel_shape_that_disagrees_with_the_weight_is_refused(tmp_path):
    # a 5×5 kernel_shape on a 3×3 weight: the file holds 8·3·3·3 = 216 weights, not 600
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[5, 5], name="c1")]
    line = error_line(save(model(nodes, [weight("w", 8, 8, 3, 3)]), tmp_path), tmp_path)
    assert "node 'c1' (Conv): its kernel_shape 5×5 disagrees with its weight w of 8×8×3×3" \
        in line


def test_external_data_of_a_constant_is_read_from_the_models_folder_only(tmp_path):
    from tests.hostile_paths.onnx import _external, clip_model

    (tmp_path / "secret.txt").write_bytes(b"\x00\x00\x00\x00\x00\x00\xc0\x40" * 8)
    (tmp_path / "m").mkdir()
    outside = tmp_path / "m" / "out.onnx"
    outside.write_bytes(clip_model(_external("lo", "../secret.txt"),
                                   _external("hi", "../secret.txt")))
    assert "is not a file name inside the model's folder; refused" in \
        error_line(outside, tmp_path)
    # inside the folder, the bytes are numbers: 0 and 6 make the Clip a ReLU6
    (tmp_path / "m" / "b.bin").write_bytes(np.array([0, 6], np.float32).tobytes())
    inside = tmp_path / "m" / "in.onnx"
    inside.write_bytes(clip_model(_external("lo", "b.bin", offset=0, length=4),
                                  _external("hi", "b.bin", offset=4, length=4)))
    assert [layer.op for layer in load_spec(str(inside)).build().layers] == ["conv", "relu6"]
    past = tmp_path / "m" / "past.onnx"
    past.write_bytes(clip_model(_external("lo", "b.bin", offset=6, length=4),
                                _external("hi", "b.bin", offset=4, length=4)))
    assert "(offset 6, length 4) runs past the end of 'b.bin' (8 bytes)" in \
        error_line(past, tmp_path)


def test_an_empty_graph_and_a_long_cycle_get_short_true_lines(tmp_path):
    empty = helper.make_model(helper.make_graph([], "g", [], []),
                              opset_imports=[helper.make_opsetid("", 17)])
    assert "the ONNX graph has no nodes" in error_line(save(empty, tmp_path, "e.onnx"), tmp_path)
    count = 5000
    nodes = [helper.make_node("Relu", [f"c{(i + 1) % count}"], [f"c{i}"], name=f"n{i}")
             for i in range(count)] + [helper.make_node("Add", ["x", "c0"], ["y"])]
    line = error_line(save(model(nodes, []), tmp_path, "c.onnx"), tmp_path)
    assert "the graph has a cycle" in line and f"… and {count - 6:,} more nodes" in line
    assert len(line) < 400
