"""Roofline latency, hardware profiles, calibrate, the tracking statistics and the JSON
contracts of `latency`, `hardware` and `compare` (traffic_bytes, peak_bytes)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from costmodel import zoo
from costmodel.analysis import latency as L
from costmodel.analysis import memory as M
from costmodel.analysis import tracking as T
from costmodel.errors import CostModelError

ROOT = Path(__file__).resolve().parents[1]

PROFILE = """
name = "toy"
description = "1 GMAC/s, 2 GB/s, 1 µs per kernel"
dtype = "fp32"
peak_macs_per_second = 1e9
bandwidth_bytes_per_second = 2e9
overhead_seconds_per_layer = 1e-6
source = "made up for the test"
"""


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "costmodel", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


@pytest.fixture
def toy(tmp_path) -> Path:
    path = tmp_path / "toy.toml"
    path.write_text(PROFILE, encoding="utf-8")
    return path


def test_roofline_of_two_layers_by_hand(toy):
    """mobilenet_v1's dwsep1.dw and dwsep1.pw at 224 px, fp32, on 1 GMAC/s and 2 GB/s:
    dw: 112²·32·9 = 3,612,672 MACs; traffic 4·(401,408 + 401,408 + 288) bytes;
    pw: 112²·32·64 = 25,690,112 MACs; traffic 4·1,206,272 bytes."""
    est = L.estimate(zoo.resolve("mobilenet_v1").build(), L.load(str(toy)))
    by_name = {l.name: l for l in est.layers}
    dw, pw = by_name["dwsep1.dw"], by_name["dwsep1.pw"]
    assert (dw.macs, dw.bytes) == (3_612_672, 4 * 803_104)
    assert dw.bound == "compute"  # 3.6 ms of MACs against 1.6 ms of traffic
    assert dw.seconds == pytest.approx(max(3_612_672 / 1e9, 4 * 803_104 / 2e9) + 1e-6)
    assert pw.bound == "compute"
    assert pw.seconds == pytest.approx(25_690_112 / 1e9 + 1e-6)
    assert "dwsep1.dw.bn" not in by_name  # folded batch norm takes no time
    assert est.total_seconds == pytest.approx(sum(l.seconds for l in est.layers))


def test_batch_scales_feature_maps_not_weights(toy):
    net = zoo.resolve("mobilenet_v1").build()
    one = {l.name: l for l in L.estimate(net, L.load(str(toy))).layers}
    eight = {l.name: l for l in L.estimate(net, L.load(str(toy)), batch=8).layers}
    fc = M.layer_memory(next(l for l in net.layers if l.op == "fc"))
    assert eight["fc1"].bytes == 4 * (8 * (fc.read + fc.written) + fc.weights)
    assert eight["fc1"].macs == 8 * one["fc1"].macs


def test_builtin_profiles_cite_their_sources():
    names = L.builtin_names()
    assert {"pixel1", "gtx1080ti", "snapdragon810"} <= set(names)
    for profile in L.profiles():
        assert profile.source and profile.peak_macs_per_second > 0
        assert profile.bandwidth_bytes_per_second > 0


def test_bad_profiles_are_user_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\npeak_macs_per_second = -1\nbandwidth_bytes_per_second = 1\n')
    with pytest.raises(CostModelError, match="peak_macs_per_second"):
        L.load(str(bad))
    bad.write_text('name = "x"\n')
    with pytest.raises(CostModelError, match="missing"):
        L.load(str(bad))
    with pytest.raises(CostModelError, match="unknown hardware"):
        L.load("pixel9")


@pytest.mark.slow
def test_latency_json_contract(toy):
    result = run("latency", "mobilenet_v2", "--hw", str(toy), "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["hw"] == "toy" and data["total_seconds"] > 0
    assert data["total_seconds"] == pytest.approx(sum(l["seconds"] for l in data["layers"]))
    for layer in data["layers"]:
        assert {"name", "macs", "bytes", "seconds", "bound"} <= set(layer)
        assert layer["bound"] in ("compute", "memory")
    assert run("latency", "mobilenet_v2", "--hw", "nope").returncode == 2


@pytest.mark.slow
def test_hardware_json_lists_names():
    result = run("hardware", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert {"pixel1", "gtx1080ti"} <= {p["name"] for p in json.loads(result.stdout)}


@pytest.mark.slow
def test_compare_json_gains_traffic_and_peak_bytes():
    result = run("compare", "mobilenet_v1", "mobilenet_v2", "--format", "json")
    rows = json.loads(result.stdout)
    net = zoo.resolve("mobilenet_v2").build()
    assert rows[1]["traffic_bytes"] == 4 * M.traffic(net)
    assert rows[1]["peak_bytes"] == 4 * M.peak_memory(net).elements
    half = json.loads(run("compare", "mobilenet_v2", "--dtype", "fp16", "-f", "json").stdout)
    assert half[0]["traffic_bytes"] * 2 == rows[1]["traffic_bytes"]
    assert run("compare", "mobilenet_v2", "--dtype", "fp64").returncode == 2


@pytest.mark.slow
def test_memory_and_summary_commands(tmp_path):
    result = run("memory", "mobilenet_v2", "--dtype", "fp16", "-f", "json")
    data = json.loads(result.stdout)
    assert data["largest_materialized"]["bytes"] == 401_408
    assert data["traffic_bytes"] == 2 * M.traffic(zoo.resolve("mobilenet_v2").build())
    result = run("summary", "mobilenet_v1", "--memory")
    assert result.returncode == 0 and "MACs/byte" in result.stdout


@pytest.mark.slow
def test_calibrate_writes_a_profile_latency_reads(tmp_path):
    out = tmp_path / "here.toml"
    result = run("calibrate", "--out", str(out), "--size", "128", "--copy-mib", "8",
                 "--repeats", "1", "--library", "numpy")
    assert result.returncode == 0, result.stderr
    profile = L.load(str(out))
    assert profile.name == "this_machine" and profile.peak_macs_per_second > 0
    assert "numpy" in profile.source
    assert run("latency", "mobilenet_v1", "--hw", str(out)).returncode == 0


def test_spearman_and_fitted_scale_by_hand():
    assert T.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1)
    assert T.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1)
    # one swap in four: 1 - 6·Σd²/(n(n²-1)) = 1 - 6·2/60 = 0.8
    assert T.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    exact = T.fit("x", [1, 2, 4], [3, 6, 12])
    assert exact.scale == pytest.approx(3) and exact.max_abs_error == pytest.approx(0)
    off = T.fit("x", [1, 1], [1, 4])  # geometric mean scale 2: errors -50% and +100%
    assert off.scale == pytest.approx(2)
    assert sorted(off.errors) == pytest.approx([-0.5, 1.0])


def test_published_points_and_exclusions():
    pixel = T.pixel1_points()
    assert len(pixel) == 23  # 22 TF-slim checkpoints and MobileNet v1 from MobileNet v2 Table 4
    assert pixel[0].seconds == pytest.approx(0.138)  # TF-slim: 1.4 @ 224, 138 ms
    gpu = T.predict(T.table8_points("gpu"), L.load("gtx1080ti"), fused=False)
    excluded = [r.point.label for r in gpu if r.excluded]
    assert all("MobileNet v2 (their impl.)" in label for label in excluded) and excluded
