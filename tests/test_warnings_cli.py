"""Warnings in every output, install hints, --input's batch and the hook fallback, through
the command line: what a count leaves out is in the JSON, the CSV, the tables and on stderr,
once; a missing optional dependency is one line saying what to install; a forward that
branches on its data counts the same on every run and says it followed one path."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # subprocesses, onnx and torch

ROOT = Path(__file__).resolve().parents[1]
HARDMAX = "not counted: Hardmax × 1: no costmodel formula; the next layer reads past them"


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "costmodel", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def hardmax_onnx(tmp_path_factory) -> str:
    """conv 8→4 1×1, Hardmax (no costmodel formula), ReLU, on 1×8×16×16."""
    import onnx
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], kernel_shape=[1, 1]),
             helper.make_node("Hardmax", ["a"], ["b"], axis=1),
             helper.make_node("Relu", ["b"], ["c"])]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [None] * 4)],
        [numpy_helper.from_array(np.zeros((4, 8, 1, 1), dtype=np.float32), "w")])
    path = tmp_path_factory.mktemp("onnx") / "soft.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return str(path)


def warned(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("costmodel: warning: ")]


def test_compare_json_lists_each_models_warnings_and_stderr_says_them_once(hardmax_onnx):
    result = run("compare", hardmax_onnx, "mobilenet_v1", "-f", "json")
    assert result.returncode == 0, result.stderr
    onnx_row, zoo_row = json.loads(result.stdout)
    assert [(w["kind"], w["subject"], w["count"]) for w in onnx_row["warnings"]] == \
        [("uncounted", "Hardmax", 1)]
    assert onnx_row["warnings"][0]["message"] == HARDMAX
    assert zoo_row["warnings"] == []
    assert warned(result.stderr) == [f"costmodel: warning: soft: {HARDMAX}"]
    assert result.stderr == f"costmodel: warning: soft: {HARDMAX}\n"  # nothing else, once


def test_a_network_without_warnings_prints_none(hardmax_onnx):
    result = run("compare", "mobilenet_v1", "-f", "csv")
    assert result.returncode == 0 and result.stderr == ""
    assert not result.stdout.startswith("#")


def test_csv_carries_warnings_as_comment_lines_before_the_header(hardmax_onnx):
    result = run("compare", hardmax_onnx, "-f", "csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"# warning: soft: {HARDMAX}"
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert rows[0]["model"] == "soft" and int(rows[0]["macs"]) == 16 * 16 * 4 * 8
    assert len(warned(result.stderr)) == 1


@pytest.mark.parametrize("command", ["summary", "memory", "latency", "explain"])
def test_every_json_object_output_has_a_warnings_list(hardmax_onnx, command):
    result = run(command, hardmax_onnx, "-f", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [w["message"] for w in data["warnings"]] == [HARDMAX]
    assert warned(result.stderr) == [f"costmodel: warning: soft: {HARDMAX}"]


def test_guidelines_and_diff_json_carry_the_warnings_too(hardmax_onnx):
    result = run("guidelines", hardmax_onnx, "-f", "json")
    assert result.returncode == 0, result.stderr
    checks = json.loads(result.stdout)
    assert [c["guideline"] for c in checks] == ["G1", "G2", "G3", "G4"]
    assert all([w["subject"] for w in c["warnings"]] == ["Hardmax"] for c in checks)
    result = run("diff", "mobilenet_v1", hardmax_onnx, "-f", "json")
    assert result.returncode == 0, result.stderr
    assert [(w["side"], w["subject"]) for w in json.loads(result.stdout)["warnings"]] == \
        [("b", "Hardmax")]
    assert warned(result.stderr) == [f"costmodel: warning: soft: {HARDMAX}"]


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex"])
def test_human_formats_show_warnings_as_notes(hardmax_onnx, fmt):
    result = run("summary", hardmax_onnx, "-f", fmt)
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    expected = f"warning: soft: {HARDMAX}"
    if fmt == "latex":
        expected = expected.replace("×", r"$\times$")
    assert expected in flat
    assert len(warned(result.stderr)) == 1


def test_a_torch_module_with_an_uncounted_call_warns_in_json_and_on_stderr(tmp_path):
    (tmp_path / "odd.py").write_text(
        "from torch import nn\n"
        "def build():\n    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.Mish(), nn.Flatten(),"
        " nn.Linear(8 * 14 * 14, 10))\n", encoding="utf-8")
    result = run("compare", "odd.py:build", "--input", "1,3,16,16", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    uncounted = [w for w in row["warnings"] if w["kind"] == "uncounted"]
    assert [(w["subject"], w["count"], w["names"]) for w in uncounted] == [("nn.Mish", 1, ["1"])]
    assert any("not counted: nn.Mish × 1 (1): no rule for this module" in line
               for line in warned(result.stderr))


# --- install hints --------------------------------------------------------------------------

HIDE = """
import sys, importlib.abc
HIDDEN = set(sys.argv[1].split(","))
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Hide())
from costmodel.cli.app import main
sys.exit(main(sys.argv[2:]))
"""


def run_without(modules: str, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """The CLI as after a plain ``pip install .``: ``modules`` cannot be imported."""
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-c", HIDE, modules, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("costmodel: error: ")
    return line


def test_without_torch_a_py_spec_is_one_line_naming_the_extra():
    line = one_error_line(run_without("torch", "compare", "examples/my_net.py:build"))
    assert "counting a PyTorch module needs torch" in line
    assert "pip install '.[torch]' from a costmodel checkout (or pip install torch)" in line
    # the zoo still works without torch
    result = run_without("torch", "compare", "mobilenet_v1", "-f", "json")
    assert result.returncode == 0 and json.loads(result.stdout)[0]["macs"] == 568_740_352


def test_without_onnx_an_onnx_spec_is_one_line_naming_the_extra(hardmax_onnx):
    line = one_error_line(run_without("onnx", "compare", hardmax_onnx))
    assert "reading an ONNX file needs onnx" in line
    assert "pip install '.[onnx]' from a costmodel checkout (or pip install onnx)" in line
    line = one_error_line(run_without("onnx,torch", "summary", hardmax_onnx, "-f", "json"))
    assert "pip install '.[onnx]'" in line


def test_a_users_file_that_imports_torch_gets_the_hint_too(tmp_path):
    (tmp_path / "net.py").write_text("import torch\ndef build():\n    return None\n",
                                     encoding="utf-8")
    # torch_file itself needs torch first: the hint names the SPEC either way
    line = one_error_line(run_without("torch", "summary", "net.py:build", cwd=tmp_path))
    assert "net.py" in line and "pip install '.[torch]'" in line


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path):
    result = run_without("pyarrow", "sweep", "mobilenet_v1", "--alpha", "0.5", "-f", "parquet",
                         "-o", str(tmp_path / "s.parquet"))
    line = one_error_line(result)
    assert "pip install '.[parquet]' from a costmodel checkout (or pip install pyarrow)" in line
    assert not (tmp_path / "s.parquet").exists()


def test_no_hint_names_the_unrelated_registry_package():
    texts = [ROOT / "README.md", *sorted((ROOT / "costmodel").rglob("*.py"))]
    for path in texts:
        assert not re.search(r"pip install ['\"]?costmodel\[", path.read_text("utf-8")), path


# --- --input's batch ----------------------------------------------------------------------------

def test_a_batch_in_input_is_counted_per_image_and_every_output_says_so():
    one = json.loads(run("compare", "mobilenet_v2", "--input", "1,3,160,160", "-f", "json").stdout)
    result = run("compare", "mobilenet_v2", "--input", "8,3,160,160", "-f", "json")
    assert result.returncode == 0, result.stderr
    (eight,) = json.loads(result.stdout)
    assert eight["macs"] == one[0]["macs"] and eight["activations"] == one[0]["activations"]
    assert [(w["kind"], w["count"]) for w in eight["warnings"]] == [("per_image", 8)]
    assert one[0]["warnings"] == []
    assert len(warned(result.stderr)) == 1 and "per image" in result.stderr
    table = run("compare", "mobilenet_v2", "--input", "8,3,160,160")
    assert "Model comparison (paper convention, per image)" in table.stdout
    assert "counts are per image: --input gives a batch of 8" in " ".join(table.stdout.split())
    summary = run("summary", "mobilenet_v2", "--input", "8,3,160,160", "-f", "csv")
    assert summary.stdout.startswith("# warning: mobilenet_v2: counts are per image")


def test_latency_takes_inputs_n_as_its_batch():
    by_input = json.loads(run("latency", "mobilenet_v2", "--input", "4,3,160,160",
                              "-f", "json").stdout)
    by_batch = json.loads(run("latency", "mobilenet_v2:resolution=160", "--batch", "4",
                              "-f", "json").stdout)
    single = json.loads(run("latency", "mobilenet_v2:resolution=160", "-f", "json").stdout)
    assert by_input["batch"] == by_batch["batch"] == 4 and single["batch"] == 1
    assert by_input["total_seconds"] == by_batch["total_seconds"] > single["total_seconds"]
    assert by_input["warnings"] == []  # latency counts the batch: no per-image warning
    line = one_error_line(run("latency", "mobilenet_v2", "--input", "4,3,160,160",
                              "--batch", "2"))
    assert "--batch 2" in line and "4,3,160,160" in line


# --- the forward-hook fallback ----------------------------------------------------------------

BRANCHY = """
from torch import nn


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.big = nn.Conv2d(8, 64, 3, padding=1)
        self.small = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x = self.conv(x)
        if x.sum() > 0:  # on the data (and the random weights): torch.fx cannot trace it
            return self.big(x)
        return self.small(x)


def build():
    return Branchy()
"""


def test_a_forward_that_branches_on_its_data_counts_the_same_every_run(tmp_path):
    (tmp_path / "branchy.py").write_text(BRANCHY, encoding="utf-8")
    counts, kinds = set(), None
    for _ in range(4):  # before the fixed seed, these took either branch at random
        result = run("compare", "branchy.py:build", "--input", "1,3,16,16", "-f", "json",
                     cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        (row,) = json.loads(result.stdout)
        counts.add(row["macs"])
        kinds = [w["kind"] for w in row["warnings"]]
        assert "follows the path one input took" in result.stderr
    conv = 16 * 16 * 8 * 3 * 9
    assert len(counts) == 1 and counts <= {conv + 16 * 16 * 64 * 8 * 9, conv + 16 * 16 * 8 * 8}
    assert kinds[:2] == ["traced_with_hooks", "data_dependent"]


def test_the_hook_fallback_leaves_torchs_random_state_as_it_was():
    import torch

    from costmodel import count_torch
    from tests.torch_modules import nets

    torch.manual_seed(1234)
    before = torch.random.get_rng_state()
    first = count_torch(nets.DataDependent(), (1, 3, 16, 16))
    torch.manual_seed(1234)
    assert torch.equal(torch.random.get_rng_state(), before)
    module = nets.DataDependent()
    state = torch.random.get_rng_state()
    again = count_torch(module, (1, 3, 16, 16))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert first.macs() == again.macs()
    assert "data_dependent" in [w.kind for w in again.warnings]


def test_names_from_a_traced_module_are_escaped():
    import torch
    from torch import nn

    from costmodel import count_torch

    evil = type("Evil\x1b[2J\u202e", (nn.Module,), {
        "__init__": lambda self: (nn.Module.__init__(self),
                                  self.add_module("conv\x1b]0;pwn\x07", nn.Conv2d(3, 4, 1)),
                                  self.add_module("act\nfake row", nn.Mish()), None)[-1],
        "forward": lambda self, x: getattr(self, "act\nfake row")(
            getattr(self, "conv\x1b]0;pwn\x07")(x))})
    network = count_torch(evil(), (1, 3, 8, 8))
    shown = [network.name, *(layer.name for layer in network.layers),
             *(w.text() for w in network.warnings), *(n for w in network.warnings
                                                      for n in (w.subject, *w.names))]
    for text in shown:
        assert text.isprintable(), text
    assert network.name == "Evil\\x1b[2J\\u202e"
    assert network.layers[0].name == "conv\\x1b]0;pwn\\x07"
    gelu = next(w for w in network.warnings if w.kind == "uncounted")
    assert gelu.names == ("act\\x0afake row",) and torch.__version__
