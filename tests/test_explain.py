"""`costmodel explain` and the texts generated from it: the lines sum exactly; the README,
docs/conventions.md and the zoo's notes quote what the code computes now."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.analysis.explain import explain, records
from costmodel.report.explain_text import explain_table, why_lines, why_note
from costmodel.cli.app import app
from costmodel.core.conventions import CONVENTIONS
from costmodel.errors import CostModelError

ROOT = Path(__file__).parent.parent
runner = CliRunner(env={"COLUMNS": "120"})  # the layout the asserts read, whatever the shell has


def countable(network) -> list[str]:
    """The conventions that have a rule for every layer of ``network``."""
    names = []
    for name in CONVENTIONS:
        try:
            network.macs(name)
        except CostModelError:
            continue
        names.append(name)
    return names


@pytest.mark.parametrize("model", zoo.names())
def test_the_lines_sum_exactly_to_each_total(model):
    network = zoo.build(model)
    result = explain(network, countable(network))
    for target in result.targets:
        assert result.macs[result.base] + sum(result.delta(line, target)
                                              for line in result.lines) == result.macs[target]
        assert result.macs[target] == network.macs(target)
    assert sum(line.ops for line in result.lines) == len(network.layers)


def test_mobilenet_v2_from_the_paper_to_each_tool():
    result = explain(zoo.build("mobilenet_v2"))
    assert result.base == "paper" and result.macs["paper"] == 300_774_272
    # the tools' own figures (tests/test_tool_conventions.py measures them)
    assert {t: result.macs[t] for t in result.targets} == {
        "torch": 300_774_272, "fvcore": 314_193_216, "thop": 327_486_720,
        "ptflops": 320_300_008, "ptflops-aten": 300_775_272, "torchprofile": 307_453_664,
        "calflops": 300_774_272}
    bn = next(line for line in result.lines if line.call == "nn.BatchNorm2d")
    assert (bn.ops, bn.input_elements) == (52, 6_678_112)
    assert result.delta(bn, "thop") == 4 * 6_678_112 and bn.rules["thop"] == "4 in"


def _flat(text: str) -> str:
    return " ".join(text.split())


TOOL_COLUMNS = ["paper", "fvcore", "thop", "ptflops", "ptflops-aten", "torchprofile", "calflops"]


@pytest.mark.parametrize("model", zoo.names())
def test_the_zoo_notes_quote_explain(model):
    doc = zoo.spec(model).doc
    found = re.search(r"`costmodel explain (\S+)` shows", _flat(doc))
    if found is None:
        assert "Counters" not in doc, "a note on counters without its explain lines"
        return
    spec = found.group(1)
    result = explain(zoo.build(spec), TOOL_COLUMNS)
    for line in why_lines(result):
        assert _flat(line) in _flat(doc)
    assert why_note(result, spec) in zoo.spec(model).notes


def test_the_readme_table_is_current():
    from costmodel.report.conventions_doc import README_END, README_START, readme_block

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(README_START, 1)[1].split(README_END, 1)[0]
    assert block == readme_block(), \
        "regenerate: python -m costmodel.report.conventions_doc --readme README.md"
    assert block == explain_table(explain(zoo.build("mobilenet_v2"))).render("markdown")
    assert "314.2M, 327.5M and 320.3M for torchvision's MobileNet v2" in readme
    net = zoo.build("mobilenet_v2")
    assert [f"{net.macs(t) / 1e6:.1f}M" for t in ("fvcore", "thop", "ptflops")] == \
        ["314.2M", "327.5M", "320.3M"]


def test_docs_conventions_is_current():
    from costmodel.report.conventions_doc import render

    assert (ROOT / "docs/conventions.md").read_text(encoding="utf-8") == render(), \
        "regenerate: python -m costmodel.report.conventions_doc > docs/conventions.md"


def test_cli_explain_table_json_markdown():
    result = runner.invoke(app, ["explain", "mobilenet_v2", "--between", "paper", "fvcore",
                                 "thop"])
    assert result.exit_code == 0, result.output
    assert "314,193,216" in result.stdout and "327,486,720" in result.stdout
    assert "+13,356,224 (2 in)" in result.stdout and "ptflops" not in result.stdout
    data = json.loads(runner.invoke(app, ["explain", "mobilenet_v2", "--between",
                                          "paper,ptflops", "-f", "json"]).stdout)
    assert data["totals"]["ptflops"]["macs"] == 320_300_008
    assert data["totals"]["paper"]["macs"] + sum(
        line["deltas"]["ptflops"]["macs"] for line in data["lines"]) == 320_300_008
    markdown = runner.invoke(app, ["explain", "shufflenet_v2:impl=torchvision", "-f",
                                   "markdown"]).stdout
    assert "| Tensor.mean |" in markdown


def test_cli_explain_bad_input():
    result = runner.invoke(app, ["explain", "mobilenet_v2", "--between", "paper", "fvc"])
    assert result.exit_code == 2 and "'fvc' is not a convention" in result.stderr
    result = runner.invoke(app, ["explain", "mobilenet_v2", "resnet50"])
    assert result.exit_code == 2 and "'resnet50' is not a convention" in result.stderr


def test_compare_prints_a_tools_own_figure():
    result = runner.invoke(app, ["compare", "mobilenet_v2", "--convention", "fvcore"])
    assert result.exit_code == 0 and "314,193,216 MACs, 3,504,872 params" in result.stdout
    rows = json.loads(runner.invoke(app, ["compare", "mobilenet_v2", "--convention", "ptflops",
                                          "-f", "json"]).stdout)
    assert rows[0]["macs"] == 320_300_008


def test_records_are_json_ready():
    data = records(explain(zoo.build("squeezenet"), ["paper", "thop"]))
    assert json.loads(json.dumps(data)) == data


@pytest.mark.parametrize("command", [
    ["summary", "mobilenet_v2", "-f", "json"],
    ["sweep", "mobilenet_v2", "--alpha", "0.5,1", "--resolution", "160,224", "-f", "json",
     "-q"],
    ["derive", "mobilenet_v2", "-f", "json"],
    ["solve", "mobilenet_v2", "--macs", "200M", "--for", "alpha", "-f", "json"],
    ["diff", "mobilenet_v2", "mobilenet_v2:alpha=0.75", "-f", "json"],
])
def test_every_command_counts_under_a_tools_convention(command):
    result = runner.invoke(app, [*command, "--convention", "thop"])
    assert result.exit_code == 0, result.output
    if command[0] == "summary":
        data = json.loads(result.stdout)
        assert data["total"]["macs"] == 327_486_720
        assert sum(layer["macs"] for layer in data["layers"]) == 327_486_720
    if command[0] == "sweep":
        rows = json.loads(result.stdout)
        rows = rows["rows"] if isinstance(rows, dict) else rows
        point = next(r for r in rows if r["alpha"] == 1 and r["resolution"] == 224)
        assert point["macs"] == 327_486_720
