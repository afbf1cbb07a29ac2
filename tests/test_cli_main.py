"""The command line as a newcomer meets it: `main`, `--version`, a bare `costmodel`, `list`'s
order, the SPEC syntax in the help, and tables that fit the terminal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from costmodel import __version__
from costmodel.cli.app import main, natural_order

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, columns: int | None = None) -> subprocess.CompletedProcess:
    env = None
    if columns is not None:
        import os
        env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-m", "costmodel", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_main_returns_the_status_and_the_caller_goes_on(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"costmodel {__version__}\n"
    assert main(["compare", "nosuch_model"]) == 2
    assert capsys.readouterr().err.startswith("costmodel: error: unknown model 'nosuch_model'")
    assert main(["compare", "mobilenet_v1", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["macs"] == 568_740_352


@pytest.mark.slow
def test_version_and_bare_costmodel_exit_zero():
    done = run("--version")
    assert done.returncode == 0 and done.stdout == f"costmodel {__version__}\n"
    bare = run()
    assert bare.returncode == 0 and "Usage: costmodel" in bare.stdout and "compare" in bare.stdout


@pytest.mark.slow
def test_list_sorts_numbers_as_numbers():
    done = run("list", "--format", "json")
    models = [row["model"] for row in json.loads(done.stdout)]
    resnets = [m for m in models if m.startswith("resnet")]
    assert resnets == ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]
    assert sorted(["resnet101", "resnet18", "b2", "b10", "a"], key=natural_order) == \
        ["a", "b2", "b10", "resnet18", "resnet101"]


@pytest.mark.slow
def test_help_explains_the_spec_syntax():
    for command in ("compare", "summary", "sweep", "solve", "breakdown", "derive"):
        text = " ".join(run(command, "--help", columns=200).stdout.split())
        assert "NAME:key=value,key=value" in text and "my_net.cm:alpha=0.5" in text, command


@pytest.mark.slow
def test_tables_and_notes_fit_the_terminal():
    for columns in (60, 80, 120):
        for args in (("compare", "mobilenet_v1", "vgg16"), ("summary", "mobilenet_v2"),
                     ("list",), ("sweep", "mobilenet_v1", "--alpha", "0.5,1")):
            lines = run(*args, columns=columns).stdout.splitlines()
            assert max(map(len, lines)) <= columns, (args, columns)
    # notes wrap at the terminal's width, not the table's
    notes = run("compare", "mobilenet_v1", columns=120).stdout.split("\n\n")[-1].splitlines()
    assert max(map(len, notes)) > 100


def test_summary_of_idealized_widths_prints_counts_that_are_not_whole(capsys):
    # rounding=none: 0.35·c channels, so the totals are fractions (248563488/5 MACs)
    assert main(["summary", "mobilenet_v2:rounding=none,alpha=0.35"]) == 0
    assert "total MACs 49,712,697.6" in " ".join(capsys.readouterr().out.split())
    assert main(["summary", "mobilenet_v2:rounding=none,alpha=0.35", "-f", "json"]) == 0
    total = json.loads(capsys.readouterr().out)["total"]
    assert total["macs"] == 248563488 / 5 and total["activations"] == 7_013_304
