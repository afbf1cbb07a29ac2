"""Every command's terminal output fits 80, 100 and 120 columns without splitting a number
or a word: no line is longer than the terminal, and every word printed at that width is a
word the same command prints in a terminal too wide to wrap anything (a number cut across
two lines, ``10.8`` / ``4M``, leaves pieces that are not).

Commands run in-process through typer's CliRunner with ``COLUMNS`` set, as a shell sets it.
Those that write files (``breakdown``, ``report``, ``calibrate``) write them into one folder,
``{tmp}``, so that the paths they print are the same words at every width.
"""

import re

import pytest
from typer.testing import CliRunner

from costmodel.report.text_layout import display_width

#: 80 columns in the fast tier; 100 and 120 (about 7 s more) with the slow tests
WIDTHS = (80, pytest.param(100, marks=pytest.mark.slow), pytest.param(120, marks=pytest.mark.slow))
WIDE = 2000  # nothing wraps and nothing is hidden
BOX = re.compile(r"[\u2500-\u257f]+")  # rules and panel borders: their length is the width's

COMMANDS = {
    "list": ["list"],
    "compare": ["compare", "mobilenet_v1", "vgg16", "shufflenet_v1:g=3"],
    "compare --memory": ["compare", "mobilenet_v1:alpha=0.5,resolution=160", "vgg16",
                         "--memory"],
    "summary": ["summary", "mobilenet_v1"],
    "summary --memory": ["summary", "shufflenet_v2", "--memory"],
    "derive": ["derive"],
    "derive conv": ["derive", "conv", "--at", "H=14,W=14,C=512,k=512"],
    "derive network": ["derive", "mobilenet_v2", "--symbols", "resolution,alpha"],
    "solve": ["solve", "mobilenet_v1", "--macs", "300M", "--for", "alpha"],
    "sweep": ["sweep", "mobilenet_v1", "--alpha", "0.25,0.5,1/3", "--resolution", "128,224"],
    "diff": ["diff", "mobilenet_v1", "mobilenet_v2"],
    "memory": ["memory", "mobilenet_v2"],
    "guidelines": ["guidelines", "shufflenet_v2"],
    "latency": ["latency", "mobilenet_v2", "--hw", "pixel1"],
    "hardware": ["hardware"],
    "explain": ["explain", "mobilenet_v2"],
    "collapse": ["collapse"],
    "import": ["import", "mobilenet_v2"],
    "breakdown": ["breakdown", "mobilenet_v1", "-o", "{tmp}/breakdown.svg"],
    "report": ["report", "--only", "mobilenet_v1_table6", "-o", "{tmp}/report"],
    "calibrate --from": ["calibrate", "--from", "{tmp}/measured.csv", "-o", "{tmp}/fitted.json"],
    "--help": ["--help"],
    "latency --help": ["latency", "--help"],
}

#: the note a narrow table adds, naming what it hid (its words are not in the wide output)
HIDDEN_NOTE = re.compile(r"Hidden to fit \d+ columns: .*? shows (it|them)\.", re.S)


#: whole-network latencies for ``calibrate --from`` (made up, and the same at every width)
MEASURED = "".join(f"{spec},{ms}\n" for spec, ms in (
    ("mobilenet_v1", 25.0), ("mobilenet_v1:alpha=0.5", 9.0), ("mobilenet_v2", 21.0),
    ("mobilenet_v2:alpha=0.5", 8.5), ("shufflenet_v1:g=3", 14.0), ("shufflenet_v2", 12.0),
    ("resnet18", 60.0), ("vgg16", 480.0)))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("width")
    (path / "measured.csv").write_text(MEASURED, encoding="utf-8")
    return str(path)


def _run(args, columns, folder=None):
    args = [arg.replace("{tmp}", folder) if folder else arg for arg in args]
    result = CliRunner().invoke(__import__("costmodel.cli.app", fromlist=["app"]).app,
                                args, env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.stdout


_cache: dict = {}


def _wide(name, folder):
    if name not in _cache:
        _cache[name] = set(_run(COMMANDS[name], WIDE, folder).split())
    return _cache[name]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", COMMANDS)
def test_fits_the_terminal_and_splits_nothing(name, width, folder):
    text = _run(COMMANDS[name], width, folder)
    long = [line for line in text.splitlines() if display_width(line) > width]
    assert not long, f"{name} at {width} columns: {len(long)} lines too long: {long[:3]}"
    allowed = _wide(name, folder) | {word for note in HIDDEN_NOTE.finditer(" ".join(text.split()))
                             for word in note.group(0).split()}
    split = [word for word in text.split() if word not in allowed and not BOX.fullmatch(word)]
    assert not split, f"{name} at {width} columns splits {split[:8]}"


def test_a_narrow_table_says_what_it_hid_and_how_to_see_it():
    text = " ".join(_run(["compare", "mobilenet_v1", "vgg16", "--memory"], 80).split())
    note = HIDDEN_NOTE.search(text)
    assert note and "settings" in note.group(0) and "COLUMNS=" in note.group(0)
    need = int(re.search(r"COLUMNS=(\d+)", note.group(0)).group(1))
    assert 80 < need and not HIDDEN_NOTE.search(" ".join(_run(
        ["compare", "mobilenet_v1", "vgg16", "--memory"], need).split()))


def test_titles_wrap_at_the_terminal_not_the_table():
    lines = _run(["explain", "mobilenet_v2"], 80).splitlines()
    title = lines[:lines.index("")]
    assert " ".join(title).startswith("Why counters differ: mobilenet_v2 (alpha=1,")
    assert all(display_width(line) > 60 for line in title[:-1])  # full lines, not a column


def test_the_readme_quotes_the_note_the_command_prints():
    from pathlib import Path

    readme = " ".join((Path(__file__).parent.parent / "README.md").read_text().split())
    note = HIDDEN_NOTE.search(" ".join(_run(["compare", "mobilenet_v1", "vgg16", "--memory"],
                                           80).split())).group(0)
    assert f"`compare mobilenet_v1 vgg16 --memory` at 80 columns: `{note}`" in readme
