"""Issue 16, items 3, 4, 6 and 7 for output files and SPEC paths: every file costmodel writes
is written beside its target and renamed over it, so a full disk leaves the old file whole;
targets are checked before the work; a fractional channel count written as a number, control
characters in a .cm file and bad .py:factory files are one error line.

A full disk cannot be made here without mounting one, so ``os.write`` / ``os.fsync`` are made
to fail with ENOSPC, in the helpers and through the command line (in process)."""

from __future__ import annotations

import errno
import json
import os

import pytest
from typer.testing import CliRunner

from costmodel import limits, safe_io
from costmodel.cli.app import app
from costmodel.errors import CostModelError, SpecError
from costmodel.spec.builder import build
from costmodel.spec.parser import parse_text

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _full_disk(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.fixture
def old_file(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes(b"the old contents\n")
    return path


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- the helpers -------------------------------------------------------------------------------

def test_write_atomic_on_a_full_disk_keeps_the_old_file(monkeypatch, old_file):
    monkeypatch.setattr(os, "write", _full_disk)
    with pytest.raises(CostModelError, match="No space left on device; the existing file is "
                                             "unchanged"):
        safe_io.write_atomic(old_file, "new contents " * 1000)
    assert old_file.read_bytes() == b"the old contents\n"
    assert _leftovers(old_file.parent) == []  # the temporary file is removed


def test_write_atomic_with_fsync_failing_keeps_the_old_file(monkeypatch, old_file):
    monkeypatch.setattr(os, "fsync", _full_disk)
    with pytest.raises(CostModelError, match="No space left"):
        safe_io.write_atomic_with(old_file, lambda temp: temp.write_bytes(b"partial"))
    assert old_file.read_bytes() == b"the old contents\n"
    assert _leftovers(old_file.parent) == []


def test_write_atomic_with_a_failing_writer_keeps_the_old_file(old_file):
    def writer(temp):
        temp.write_bytes(b"half a fig")
        raise ValueError("the library gave up")
    with pytest.raises(ValueError, match="gave up"):  # not an OSError: raised as it is
        safe_io.write_atomic_with(old_file, writer)
    assert old_file.read_bytes() == b"the old contents\n"
    assert _leftovers(old_file.parent) == []


def test_write_atomic_with_passes_a_path_with_the_targets_suffix(tmp_path):
    seen = []
    safe_io.write_atomic_with(tmp_path / "figure.SVG", lambda temp: (seen.append(temp),
                                                                     temp.write_text("<svg/>")))
    assert seen[0].suffix == ".SVG" and seen[0].parent == tmp_path
    assert (tmp_path / "figure.SVG").read_text() == "<svg/>" and not seen[0].exists()


def test_write_atomic_keeps_the_permission_bits_of_the_old_file(old_file):
    old_file.chmod(0o600)
    safe_io.write_atomic(old_file, b"new")
    assert old_file.read_bytes() == b"new" and (old_file.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize("make, says", [
    (lambda d: (d / "t").mkdir(), "is a directory"),
    (lambda d: os.mkfifo(d / "t"), "not a regular file"),
])
def test_targets_that_are_not_regular_files_are_refused(tmp_path, make, says):
    make(tmp_path)
    with pytest.raises(CostModelError, match=says):
        safe_io.check_writable_target(tmp_path / "t")


def test_a_target_in_a_missing_folder_or_under_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(CostModelError, match="does not exist"):
        safe_io.check_writable_target(tmp_path / "missing" / "t.csv")
    with pytest.raises(CostModelError, match="Not a directory"):
        safe_io.check_writable_target(tmp_path / "file" / "t.csv")
    # figure commands create missing folders, but not under a file
    assert safe_io.check_writable_target(tmp_path / "a" / "b" / "t.png", create_folders=True)
    with pytest.raises(CostModelError, match="is not a folder|Not a directory"):
        safe_io.check_writable_target(tmp_path / "file" / "b" / "t.png", create_folders=True)


# --- through the command line, on a full disk --------------------------------------------------

@pytest.mark.slow  # runs commands (sympy builds)
@pytest.mark.parametrize("args, name", [
    (("sweep", "mobilenet_v1", "--alpha", "0.5,1", "-q", "-o"), "grid.csv"),
    (("sweep", "mobilenet_v1", "--alpha", "0.5,1", "-q", "-o"), "grid.json"),
    (("sweep", "mobilenet_v1", "--alpha", "0.5,1", "-q", "-o"), "grid.txt"),
    (("import", "mobilenet_v1", "-o"), "net.cm"),
])
def test_a_full_disk_leaves_the_old_output_whole(monkeypatch, tmp_path, args, name):
    target = tmp_path / name
    target.write_bytes(b"precious\n")
    monkeypatch.setattr(os, "fsync", _full_disk)
    result = invoke(*args, target)
    assert result.exit_code == 2, result.output
    assert "No space left on device; the existing file is unchanged" in result.stderr
    assert "Traceback" not in result.output
    assert target.read_bytes() == b"precious\n" and _leftovers(tmp_path) == []


@pytest.mark.slow  # runs commands (sympy builds)
def test_sweep_and_import_write_the_same_bytes_as_to_stdout(tmp_path):
    for args, name in ((("sweep", "mobilenet_v1", "--alpha", "0.5,1", "-f", "csv"), "g.csv"),
                       (("import", "mobilenet_v1"), "m.cm")):
        printed = invoke(*args).stdout
        assert invoke(*args, "-o", tmp_path / name).exit_code == 0
        assert (tmp_path / name).read_text() == printed
    rows = json.loads(invoke("sweep", "mobilenet_v1", "--alpha", "0.5,1", "-f", "json").stdout)
    assert [r["alpha"] for r in rows] == [0.5, 1]


@pytest.mark.slow  # runs commands (sympy builds)
def test_sweep_refuses_a_bad_target_before_the_sweep(monkeypatch, tmp_path):
    from costmodel.analysis import sweep as sw

    def no_sweep(*_a, **_k):
        raise AssertionError("the sweep ran before the target was checked")
    monkeypatch.setattr(sw, "sweep", no_sweep)
    (tmp_path / "d.csv").mkdir()
    for option, target, says in (("-o", tmp_path / "d.csv", "is a directory"),
                                 ("-o", tmp_path / "no" / "x.csv", "does not exist"),
                                 ("--plot", tmp_path / "no" / "x.png", "does not exist"),
                                 ("--plot", tmp_path / "x.gif", "must end in")):
        result = invoke("sweep", "mobilenet_v1", "--alpha", "0.5,1", option, target)
        assert result.exit_code == 2 and says in result.stderr, result.output


# --- the grid bound ----------------------------------------------------------------------------

@pytest.mark.slow  # runs commands (sympy builds)
def test_a_grid_past_the_limit_is_refused_before_any_work():
    result = invoke("sweep", "mobilenet_v2", "--alpha", "0.35:1.349:0.001",
                    "--resolution", "96:1096:1")  # 1000 x 1001 points
    assert result.exit_code == 2
    assert "1,001,000 points" in result.stderr and "MAX_GRID_POINTS" in result.stderr
    assert limits.MAX_GRID_POINTS == 1_000_000  # the benchmark's grid, 1000 x 1000, fits


# --- SPEC files --------------------------------------------------------------------------------

def _net(body: str) -> str:
    return f"model t\nknob alpha 0.3 positive\ninput 3 32 32\n{body}\n"


@pytest.mark.parametrize("body, token", [
    ("conv 2.5 k=3", "c=2.5"), ("conv c=5/2 k=3", "c=5/2"), ("fc 0.5", "c=0.5"),
    ("pw 1.5", "c=1.5"), ("conv (10/4) k=3", "c=(10/4)"), ("conv 8 k=3\nsplit 2.5", "c=2.5"),
])
def test_a_fractional_channel_count_written_as_a_number_is_refused(body, token):
    with pytest.raises(SpecError, match="fractional channel count written as a number") as info:
        build(parse_text(_net(body)))
    assert token in str(info.value)


def test_fractional_widths_from_knobs_still_count():
    network = build(parse_text(_net("conv 10*alpha k=3")))
    assert network.layers[-1].output.c == 3  # 10 * 3/10, exact
    idealized = build(parse_text(_net("conv 8*alpha k=1")), {"alpha": "0.5"})
    assert idealized.layers[-1].output.c == 4
    fractional = build(parse_text(_net("conv 9*alpha k=1")), {"alpha": "0.5"})
    assert str(fractional.layers[-1].output.c) == "9/2"  # kept exact, as rounding=none does
    assert build(parse_text(_net("conv 8/2 k=3"))).layers[-1].output.c == 4  # whole: fine


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x0c", "\x7f", "\x9b", "\u202e", "\u2028"])
def test_control_characters_in_a_cm_file_are_refused(char):
    with pytest.raises(SpecError, match="control character") as info:
        parse_text(f"model t\nnote hi{char}there\ninput 3 8 8\nrelu\n", "f.cm")
    assert info.value.line == 2 and char not in str(info.value)


@pytest.mark.slow  # runs commands (sympy builds)
def test_a_file_name_with_escapes_is_shown_escaped(tmp_path):
    name = tmp_path / "ne\x1b[2Jw\nline.cm"
    name.write_text("input 3 8 8\nconv 4 k=1\n")
    result = invoke("compare", name, "-f", "json")
    assert result.exit_code == 0, result.output
    model = json.loads(result.stdout)[0]["model"]
    assert model == "ne\\x1b[2Jw\\x0aline"
    table = invoke("compare", name).stdout
    assert "ne\\x1b[2Jw\\x0aline" in table and "\x1b" not in table


@pytest.mark.slow  # runs commands (sympy builds)
def test_a_fifo_or_directory_spec_names_the_real_cause(tmp_path):
    os.mkfifo(tmp_path / "f.cm")
    (tmp_path / "d.cm").mkdir()
    assert "not a regular file" in invoke("compare", tmp_path / "f.cm").stderr
    assert "is a directory" in invoke("compare", tmp_path / "d.cm").stderr
