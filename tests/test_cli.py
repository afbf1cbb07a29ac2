"""The command line through typer's CliRunner, bad input included."""

import json

import pytest
from typer.testing import CliRunner

from costmodel.cli.app import app
from tests.printed import agrees

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_compare_table_shows_the_published_figures():
    result = invoke("compare", "mobilenet_v1", "vgg16")
    assert result.exit_code == 0, result.output
    assert "568.7M" in result.stdout and "15.47G" in result.stdout
    assert "4.210M" in result.stdout and "138.4M" in result.stdout  # 4 significant digits
    assert "1 MAC = 2 FLOPs" in result.stdout and "Convention paper" in result.stdout


def test_compare_json_contract():
    result = invoke("compare", "mobilenet_v1:alpha=0.5,resolution=160", "vgg16", "-f", "json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["model"] for r in rows] == ["mobilenet_v1", "vgg16"]
    assert rows[0]["config"]["alpha"] == 0.5 and rows[0]["config"]["resolution"] == 160
    # MobileNet v1 paper Table 9: 0.50 MobileNet-160, 76M Mult-Adds, 1.32M params
    assert agrees(rows[0]["macs"], 76, 1) and agrees(rows[0]["params"], 1.32, 0.01)
    assert rows[0]["flops"] == 2 * rows[0]["macs"]
    assert isinstance(rows[1]["macs"], int) and rows[1]["params"] == 138_357_544
    assert rows[1]["macs_ratio"] == pytest.approx(rows[1]["macs"] / rows[0]["macs"])


def test_compare_csv_has_exact_integers():
    result = invoke("compare", "mobilenet_v1", "vgg16", "-f", "csv")
    header, first, _ = result.stdout.strip().splitlines()
    assert header.startswith("model,settings,macs,flops,params")
    assert ",568740352,1137480704,4210088," in first


@pytest.mark.parametrize("fmt, marker", [("markdown", "| model |"), ("latex", r"\toprule")])
def test_compare_markdown_and_latex(fmt, marker):
    result = invoke("compare", "mobilenet_v1", "vgg16", "-f", fmt)
    assert result.exit_code == 0 and marker in result.stdout and "568.7M" in result.stdout


def test_units_and_convention():
    flops = json.loads(invoke("compare", "mobilenet_v1", "--units", "flops", "-f", "json").stdout)
    assert flops[0]["flops"] == 1_137_480_704
    torch = json.loads(invoke("compare", "mobilenet_v1", "--convention", "torch", "-f",
                              "json").stdout)
    assert torch[0]["params"] == 4_231_976 and torch[0]["convention"] == "torch"
    assert "1.137G" in invoke("compare", "mobilenet_v1", "--units", "flops").stdout


def test_summary_per_layer_and_by_type():
    result = invoke("summary", "mobilenet_v1")
    assert result.exit_code == 0
    assert "dwsep13.pw" in result.stdout and "7×7×1024" in result.stdout
    assert "94.86%" in result.stdout  # 1x1 convs' share of the MACs (paper Table 2)
    data = json.loads(invoke("summary", "mobilenet_v1", "-f", "json").stdout)
    assert data["total"]["macs"] == sum(layer["macs"] for layer in data["layers"])
    fc = next(g for g in data["by_type"] if g["type"] == "fc")
    assert fc["params_share"] == pytest.approx(24.35, abs=0.01)
    assert any("1.91%" in note for note in data["notes"])


def test_summary_units_flops():
    data = json.loads(invoke("summary", "mobilenet_v1", "--units", "flops", "-f", "json").stdout)
    assert data["layers"][0]["flops"] == 2 * 10_838_016


def test_list_shows_models_and_knobs():
    result = invoke("list")
    assert "mobilenet_v1" in result.stdout and "alpha=1" in result.stdout
    data = json.loads(invoke("list", "-f", "json").stdout)
    assert {"mobilenet_v1", "vgg16"} <= {m["model"] for m in data}


def test_architecture_file_as_spec(tmp_path):
    path = tmp_path / "mine.cm"
    path.write_text("model mine\nknob alpha 1 positive\ninput 3 32 32\n"
                    "conv 16*alpha k=3 s=2\ngap\nfc 10\n")
    rows = json.loads(invoke("compare", str(path), f"{path}:alpha=0.5", "-f", "json").stdout)
    # conv: 16·16·16·3·9 = 110,592 MACs; fc 16·10 = 160
    assert rows[0]["macs"] == 110_592 + 160
    assert rows[1]["config"] == {"alpha": 0.5}


@pytest.mark.parametrize("args, message", [
    (["compare", "mobilnet_v1"], "did you mean mobilenet_v1"),
    (["compare", "mobilenet_v1:beta=2"], "knobs are: alpha, resolution, height, width, classes, rounding"),
    (["compare", "mobilenet_v1:alpha=0"], "received alpha=0"),
    (["compare", "mobilenet_v1:alpha=nan"], "received alpha=nan"),
    (["compare", "mobilenet_v1:alpha=inf"], "received alpha=inf"),
    (["compare", "mobilenet_v1:resolution=1.5"], "whole number"),
    (["compare", "vgg16:resolution=16"], "smallest resolution that works is 32"),
    (["compare", "mobilenet_v1:alpha"], "write key=value"),
    (["compare", "missing.cm"], "missing.cm: no such file"),
    (["summary", "vgg16:classes=0"], "classes must be at least 1"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_malformed_file_and_code_in_file(tmp_path):
    evil = tmp_path / "evil.cm"
    marker = tmp_path / "ran"
    evil.write_text(f'input 3 32 32\nconv __import__("os").system("touch {marker}") k=3\n')
    result = invoke("compare", str(evil))
    assert result.exit_code == 2 and f"{evil}:2:" in result.stderr
    assert not marker.exists()


def test_groups_that_do_not_divide(tmp_path):
    path = tmp_path / "g.cm"
    path.write_text("knob g 3 int min=1\ninput 3 32 32\nconv 8 k=3\nconv 8 k=1 g=g\n")
    result = invoke("compare", f"{path}:g=3")
    assert result.exit_code == 2 and "groups g=3 do not divide the 8 input channels" in result.stderr


def test_unknown_option_value_is_a_usage_error():
    result = invoke("compare", "mobilenet_v1", "--format", "yaml")
    assert result.exit_code == 2
