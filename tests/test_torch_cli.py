"""The PyTorch bridge on the command line: file.py:factory SPECs, --input, and costmodel diff."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.cli.app import app
from costmodel.core.network import exact

pytestmark = pytest.mark.slow  # torch, and subprocesses

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = "examples/my_net.py:build"
runner = CliRunner(env={"COLUMNS": "120"})  # the layout the asserts read, whatever the shell has


def invoke(*args):
    return runner.invoke(app, list(args))


def flat(text: str) -> str:
    """Output with rich's box characters and line breaks taken out."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def test_compare_counts_a_module_from_a_py_file_beside_a_zoo_model(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("compare", EXAMPLE, "mobilenet_v2", "-f", "json")
    assert result.exit_code == 0, result.output
    mine, theirs = json.loads(result.stdout)
    assert mine["model"] == "my_net:build" and mine["config"] == {"input": "1×3×224×224"}
    import torch  # noqa: F401 - the example's module, traced by hand for the expected counts
    from costmodel import count_torch
    from examples import my_net

    network = count_torch(my_net.build(), (1, 3, 224, 224))
    assert mine["macs"] == exact(network.macs()) and mine["params"] == exact(network.params())
    assert theirs["macs"] == 300_774_272


def test_resolution_and_factory_keywords_in_a_py_spec_and_input(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("compare", f"{EXAMPLE}:width=8,resolution=128", EXAMPLE, "mobilenet_v2",
                    "--input", "1,3,160,160", "-f", "json")
    assert result.exit_code == 0, result.output
    narrow, default, mobilenet = json.loads(result.stdout)
    assert narrow["config"] == {"input": "1×3×128×128", "width": 8}   # resolution= wins
    assert default["config"] == {"input": "1×3×160×160"}
    assert mobilenet["config"]["resolution"] == 160                   # --input sets it
    assert mobilenet["macs"] == exact(zoo.build("mobilenet_v2", resolution="160").macs())


def test_summary_of_a_py_spec_lists_layers_named_after_the_modules(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke("summary", EXAMPLE, "--input", "1,3,96,96", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    names = [row["name"] for row in data["layers"]]
    assert names[0] == "stem.0" and "blocks.0.add1" in names and names[-1] == "classifier"
    assert data["notes"] == []


def test_uncounted_calls_are_shown_by_compare(monkeypatch, tmp_path):
    (tmp_path / "odd.py").write_text(
        "from torch import nn\n"
        "def build():\n    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.Mish(), nn.Flatten(),"
        " nn.Linear(8 * 14 * 14, 10))\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = invoke("compare", "odd.py:build", "--input", "1,3,16,16")
    assert result.exit_code == 0, result.output
    text = flat(result.stdout)
    assert "warning: odd:build: not counted: nn.Mish × 1 (1): no rule for this module" in text
    result = invoke("diff", "odd.py:build", "mobilenet_v1", "--input", "1,3,16,16")
    assert result.exit_code == 0, result.output
    assert "warning: A: not counted: nn.Mish × 1 (1): no rule for this module" in flat(result.stdout)


def test_bad_input_and_bad_py_specs_are_one_line_errors(monkeypatch, tmp_path):
    (tmp_path / "fixed.py").write_text(
        "from torch import nn\n"
        "def build():\n    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.Flatten(), nn.Linear(8 * 14 * 14, 10))\n",
        encoding="utf-8")
    monkeypatch.chdir(ROOT)
    for args, message in [
        (("compare", "mobilenet_v2", "--input", "1,3,224"), "--input takes N,C,H,W"),
        (("compare", "mobilenet_v2", "--input", "1,1,224,224"), "takes 3-channel input"),
        (("compare", "examples/my_net.py:nothing"), "has no function 'nothing'"),
        (("compare", "examples/missing.py:build"), "no such file"),
        (("compare", "examples/my_net.py"), "name the function that returns the module"),
        (("compare", "examples/my_net.py:build:depth=3"), "unexpected keyword argument 'depth'"),
        (("compare", f"{tmp_path}/fixed.py:build", "--input", "1,3,32,32"),
         "Sequential failed on a 1×3×32×32 input"),
    ]:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("costmodel: error: ") and message in result.stderr, \
            (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1


def test_help_says_which_files_run():
    for command in ("compare", "summary", "diff"):
        result = invoke(command, "--help")
        text = flat(result.stdout)
        assert ".cm files are data and never run; a .py:factory SPEC runs that file" in text, command
        assert "--input" in text


def test_commands_without_torch_never_import_it_nor_any_py_file():
    code = ("import sys; from costmodel.cli.app import app\n"
            "try:\n    app(['compare', 'mobilenet_v1', 'examples/../README.md.cm'])\n"
            "except SystemExit: pass\n"
            "try:\n    app(['diff', 'mobilenet_v1', 'mobilenet_v1:alpha=0.5', '--input', '1,3,160,160'])\n"
            "except SystemExit: pass\n"
            "print('torch' in sys.modules, any(m.startswith('costmodel_user') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.stdout.strip().splitlines()[-1] == "False False", out.stderr


def test_diff_by_stage_and_type_adds_up_to_the_totals():
    result = invoke("diff", "shufflenet_v2", "shufflenet_v2:impl=torchvision", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    a, b = zoo.build("shufflenet_v2"), zoo.build("shufflenet_v2", impl="torchvision")
    total = data["total"]
    assert (total["a_macs"], total["b_macs"]) == (exact(a.macs()), exact(b.macs()))
    assert total["delta_macs"] == exact(b.macs() - a.macs())
    for rows in (data["by_stage"], data["by_type"]):
        assert sum(r["delta_macs"] for r in rows) == total["delta_macs"]
        assert sum(r["delta_params"] for r in rows) == total["delta_params"]
    # torchvision's first unit differs (its left branch is c/2 wide): stride 8 only, and the
    # classifier's bias
    changed = {r["key"] for r in data["by_stage"] if r["delta_macs"] or r["delta_params"]}
    assert changed == {"stride 8", "head"}
    assert {r["key"] for r in data["by_layer"]} == {
        "stage2.shufflenet_v2_unit1.left.conv1", "stage2.shufflenet_v2_unit1.right.conv2", "fc1"}


def test_diff_lines_up_stages_at_different_resolutions_and_renders_tables():
    result = invoke("diff", "mobilenet_v2", "mobilenet_v2:alpha=0.75,resolution=160")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "by stage" in text and "by layer type" in text and "layer by layer" in text
    assert "stride 8    28×28     20×20" in text
    assert "Δ = B − A" in text and "1 MAC = 2 FLOPs" in text


def test_commands_that_need_a_spec_say_to_import_the_module_first(monkeypatch):
    monkeypatch.chdir(ROOT)
    for args in (("derive", EXAMPLE), ("sweep", EXAMPLE, "--resolution", "96,128"),
                 ("solve", EXAMPLE, "--macs", "100M", "--for", "resolution")):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "counted at one input size" in result.stderr and \
            "costmodel import examples/my_net.py:build -o my_net.cm" in result.stderr, args
        assert len(result.stderr.strip().splitlines()) == 1
