"""Hardware profiles read as data (every figure finite and in range, by key; unknown keys
refused; peaks per dtype), `latency --dtype` without a peak for it refused (issue 16 item 15),
`memory --order` files checked by line, and `calibrate`'s bounded options and atomic --out.
In-process checks first; the command-line ones (subprocesses) are marked slow."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from costmodel import limits, zoo
from costmodel.analysis import latency as L
from costmodel.analysis import memory as M
from costmodel.analysis.calibrate import Calibration, check_options
from costmodel.analysis.hardware_profile import KNOWN_KEYS
from costmodel.analysis.order_file import read_order
from costmodel.errors import CostModelError

ROOT = Path(__file__).resolve().parents[1]
NET = "model t\ninput 3 32 32\nconv 8 k=3 s=2 bn=1 act=relu\ngap\nfc 10\n"
LAYERS = ("conv1", "conv1.bn", "conv1.relu", "gap1", "fc1")
TOY = ('name = "toy"\ndtype = "fp32"\npeak_macs_per_second = 1e9\n'
       'bandwidth_bytes_per_second = 2e9\noverhead_seconds_per_layer = 0\n')


def _refuses(text: str, *words: str) -> str:
    with pytest.raises(CostModelError) as info:
        L.from_toml(text, "t.toml")
    for word in words:
        assert word in str(info.value), str(info.value)
    return str(info.value)


@pytest.mark.parametrize("value", ["nan", "+nan", "-nan", "inf", "-inf", "1e400", "-1e400"])
@pytest.mark.parametrize("key", ["peak_macs_per_second", "bandwidth_bytes_per_second",
                                 "overhead_seconds_per_layer"])
def test_non_finite_figures_are_refused_by_key(key, value):
    text = "\n".join(f"{key} = {value}" if line.startswith(key) else line
                     for line in TOY.splitlines())
    _refuses(text, key, "finite")


@pytest.mark.parametrize("key, value, limit", [
    ("peak_macs_per_second", limits.MAX_PEAK_MACS_PER_SECOND * 10, "MAX_PEAK_MACS_PER_SECOND"),
    ("peak_macs_per_second", limits.MIN_PEAK_MACS_PER_SECOND - 1, "MIN_PEAK_MACS_PER_SECOND"),
    ("bandwidth_bytes_per_second", limits.MAX_BANDWIDTH_BYTES_PER_SECOND * 10,
     "MAX_BANDWIDTH_BYTES_PER_SECOND"),
    ("bandwidth_bytes_per_second", 0, "MIN_BANDWIDTH_BYTES_PER_SECOND"),
    ("overhead_seconds_per_layer", limits.MAX_OVERHEAD_SECONDS_PER_LAYER + 1,
     "MAX_OVERHEAD_SECONDS_PER_LAYER"),
])
def test_figures_outside_the_sane_range_name_their_limit(key, value, limit):
    text = "\n".join(f"{key} = {value}" if line.startswith(key) else line
                     for line in TOY.splitlines())
    _refuses(text, key, limit)


def test_the_range_ends_are_accepted():
    text = TOY.replace("1e9", str(limits.MAX_PEAK_MACS_PER_SECOND)).replace(
        "2e9", str(limits.MIN_BANDWIDTH_BYTES_PER_SECOND))
    hw = L.from_toml(text, "t.toml")
    assert hw.peak_macs_per_second == 1e18 and hw.bandwidth_bytes_per_second == 1000.0


@pytest.mark.parametrize("value, kind", [('"1e9"', "a string"), ("true", "a boolean"),
                                         ("[1e9]", "an array"), ("{ v = 1 }", "a table"),
                                         ("1979-05-27", "a date")])
def test_wrong_types_say_what_they_are(value, kind):
    _refuses(TOY.replace("= 1e9", f"= {value}"), "peak_macs_per_second", kind)


def test_unknown_keys_are_refused_with_the_known_ones():
    message = _refuses(TOY + "overhead_seconds_per_layr = 1\n", "overhead_seconds_per_layr")
    for key in KNOWN_KEYS:
        assert key in message


def test_deep_nesting_and_long_lines_are_errors_not_tracebacks():
    _refuses(TOY + "x = " + "\n".join(["[" * 400] * 10), "nested too deeply")
    _refuses(TOY + "# " + "x" * limits.MAX_PROFILE_LINE_CHARS, "MAX_PROFILE_LINE_CHARS")


def test_a_profile_without_a_peak_for_the_dtype_refuses_it():
    hw = L.load("pixel1")
    assert hw.dtypes == ("fp32",)
    with pytest.raises(CostModelError, match=r"fp32 only, not int8.*\[peaks\]"):
        L.estimate(zoo.build("mobilenet_v1"), hw, "int8")


def test_an_int8_peak_is_used_for_int8(tmp_path):
    """With peaks.int8 = 4e9 every layer is priced with 4e9 MAC/s and 1-byte elements."""
    hw = L.from_toml(TOY + "[peaks]\nint8 = 4e9\n", "t.toml")
    assert hw.dtypes == ("fp32", "int8") and hw.peak_for("int8") == 4e9
    path = tmp_path / "net.cm"
    path.write_text(NET)
    network = zoo.build(str(path))
    est = L.estimate(network, hw, "int8")
    for layer, m in zip(est.layers, (m for m in M.layers_memory(network, False)
                                     if m.macs or m.read + m.written + m.weights)):
        traffic = int(m.read + m.written + m.weights)
        assert layer.bytes == traffic
        assert layer.seconds == pytest.approx(max(int(m.macs) / 4e9, traffic / 2e9))
    assert L.record(est)["peak_macs_per_second"] == 4e9


def test_order_file_errors_name_the_line(tmp_path):
    path = tmp_path / "net.cm"
    path.write_text(NET)
    network = zoo.build(str(path))
    order = tmp_path / "order.txt"
    order.write_bytes(b"\xef\xbb\xbf" + "\n".join(LAYERS).encode())
    assert read_order(order, network) == LAYERS
    for text, words in ((LAYERS[1] + "\n" + "\n".join(LAYERS[:1] + LAYERS[2:]),
                         ("line 1", "before 'conv1' (line 2)")),
                        ("\n".join(LAYERS) + "\nconv1", ("line 6", "listed again")),
                        ("\n".join(LAYERS) + "\nx\x1b[2J", ("line 6", "'x\\x1b[2J'")),
                        ("\n".join(LAYERS[:3]), ("leaves out 2",)), ("", ("no layer names",))):
        order.write_text(text)
        with pytest.raises(CostModelError) as info:
            read_order(order, network)
        assert all(w in str(info.value) for w in words), str(info.value)
    order.write_bytes(b"conv1\ncaf\xe9\n")
    with pytest.raises(CostModelError, match="not UTF-8"):
        read_order(order, network)


@pytest.mark.parametrize("option, args", [
    ("--size", dict(size=limits.MAX_CALIBRATE_SIZE + 1)), ("--size", dict(size=63)),
    ("--copy-mib", dict(copy_mib=3000)), ("--repeats", dict(repeats=10**9)),
    ("--threads", dict(threads=0)), ("--threads", dict(threads=10**6)),
])
def test_calibrate_options_are_bounded_before_work(option, args):
    values = dict(name="m", threads=1, size=64, copy_mib=8, repeats=1, library="numpy") | args
    with pytest.raises(CostModelError, match=f"^{option} .* from "):
        check_options(**values)


def test_a_calibrated_name_with_escapes_round_trips():
    name = 'a"b\\c\nd = 1\n[x]\x1b[31m\x7f'
    text = Calibration(name, "numpy", 1, 1e9, 2e9, 64, 8 * 2**20, 1, "cpu\tx").toml()
    assert L.from_toml(text, "t.toml").name == name


# --- through the command line -------------------------------------------------------------

def run(*args: str, cwd: Path, preexec=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "costmodel", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, preexec_fn=preexec,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def _strict_json(text: str):
    def refuse(constant: str):
        raise AssertionError(f"bare {constant} in JSON")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.slow
def test_cli_latency_dtype_without_its_peak_is_refused(tmp_path):
    (tmp_path / "net.cm").write_text(NET)
    result = run("latency", "net.cm", "--hw", "pixel1", "--dtype", "int8", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("costmodel: error: hardware profile pixel1 has a peak for "
                                    "fp32 only, not int8")
    (tmp_path / "p.toml").write_text(TOY + "[peaks]\nint8 = 4e9\n")
    result = run("latency", "net.cm", "--hw", "p.toml", "--dtype", "int8", "-f", "json",
                 cwd=tmp_path)
    data = _strict_json(result.stdout)
    assert data["dtype"] == "int8" and data["peak_macs_per_second"] == 4e9
    conv = data["layers"][0]
    assert conv["seconds"] == pytest.approx(max(conv["macs"] / 4e9, conv["bytes"] / 2e9))


@pytest.mark.slow
def test_cli_profiles_with_nan_or_escapes(tmp_path):
    (tmp_path / "net.cm").write_text(NET)
    (tmp_path / "p.toml").write_text(TOY.replace("1e9", "1e400"))
    result = run("latency", "net.cm", "--hw", "p.toml", "-f", "json", cwd=tmp_path)
    assert result.returncode == 2 and "peak_macs_per_second = inf" in result.stderr
    (tmp_path / "p.toml").write_text(TOY.replace('"toy"', '"\\u001b[2Jtoy\\nrow"'))
    result = run("latency", "net.cm", "--hw", "p.toml", cwd=tmp_path)
    assert result.returncode == 0 and "\x1b" not in result.stdout
    assert "on \\x1b[2Jtoy\\x0arow" in result.stdout.splitlines()[0]
    result = run("latency", "net.cm", "--hw", "p.toml", "-f", "json", cwd=tmp_path)
    assert _strict_json(result.stdout)["hw"] == "\x1b[2Jtoy\nrow"  # JSON escapes it
    result = run("hardware", "-f", "json", cwd=tmp_path)
    assert {p["name"] for p in _strict_json(result.stdout)} >= {"pixel1", "gtx1080ti"}


@pytest.mark.slow
def test_cli_order_file_bom_fifo_and_latin1(tmp_path):
    (tmp_path / "net.cm").write_text(NET)
    plain = _strict_json(run("memory", "net.cm", "-f", "json", cwd=tmp_path).stdout)
    (tmp_path / "o.txt").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(LAYERS).encode())
    result = run("memory", "net.cm", "--order", "o.txt", "-f", "json", cwd=tmp_path)
    assert _strict_json(result.stdout)["peak_bytes"] == plain["peak_bytes"]
    os.mkfifo(tmp_path / "pipe")
    result = run("memory", "net.cm", "--order", "pipe", cwd=tmp_path)
    assert result.returncode == 2 and "not a regular file" in result.stderr
    (tmp_path / "o.txt").write_bytes(b"conv1\ncaf\xe9\n")
    result = run("memory", "net.cm", "--order", "o.txt", cwd=tmp_path)
    assert result.returncode == 2 and "0xe9 at offset 9" in result.stderr
    assert "Traceback" not in result.stderr


def _small_file_limit():
    resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))


@pytest.mark.slow
def test_cli_calibrate_bounds_and_keeps_the_old_file(tmp_path):
    old = tmp_path / "old.toml"
    old.write_text("# the old profile\n")
    result = run("calibrate", "-o", "old.toml", "--size", "30000", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith(
        "costmodel: error: --size 30000: give a whole number from 64 to 4096")
    fast = ("--library", "numpy", "--size", "64", "--copy-mib", "8", "--repeats", "1")
    # a write that fails half way (the file size limit: like a full disk) leaves it whole
    result = run("calibrate", "-o", "old.toml", *fast, cwd=tmp_path, preexec=_small_file_limit)
    assert result.returncode == 2, result.stderr
    assert "cannot write the profile file" in result.stderr and "unchanged" in result.stderr
    assert old.read_text() == "# the old profile\n"
    assert [p.name for p in tmp_path.iterdir()] == ["old.toml"]  # no temporary file left
    result = run("calibrate", "-o", "/dev/full", *fast, cwd=tmp_path)
    assert result.returncode == 2 and "not a regular file" in result.stderr
    result = run("calibrate", "-o", "old.toml", "--name", "x\x1b[31m\ny", *fast, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("x\\x1b[31m\\x0ay: ")
    assert L.load(str(old)).name == "x\x1b[31m\ny"
