"""The calibration runtimes (costmodel/kernels/runtimes.py): PyTorch eager and ONNX Runtime run
the same module to the same numbers, ORT's profile is read per call without its layout
nodes, what ONNX cannot express is refused by name before the exporter runs, and `costmodel
calibrate` writes, on either runtime, a profile that `latency` reads and that loads with
neither torch nor onnxruntime. Nothing here asserts a time (timing belongs in
benchmarks/latency_evidence.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from costmodel.errors import CostModelError
from costmodel.kernels import runtimes

ROOT = Path(__file__).resolve().parents[1]


def test_an_unknown_runtime_is_refused_by_name():
    with pytest.raises(CostModelError, match="--runtime 'tflite': use torch or onnxruntime"):
        runtimes.check("tflite")


def test_the_profile_is_read_per_call_without_layout_nodes():
    def node(op, microseconds):
        return {"cat": "Node", "name": f"{op}_kernel_time", "dur": microseconds,
                "args": {"op_name": op}}
    run = {"cat": "Session", "name": "model_run", "dur": 1000}
    events = [{"cat": "Session", "name": "session_initialization", "dur": 900},
              node("ReorderInput", 40), node("Conv", 87), node("ReorderOutput", 33), run,
              node("ReorderInput", 41), node("Conv", 90), node("Relu", 3),
              node("ReorderOutput", 30), {"cat": "Node", "name": "Conv_fence_before",
                                          "dur": 7}, run]
    assert runtimes.seconds_per_call(events) == [87e-6, 93e-6]
    # what the profiler adds to each node is taken off, never below 0
    assert runtimes.seconds_per_call(events, 2e-6) == pytest.approx([85e-6, 88e-6 + 1e-6])
    assert runtimes.seconds_per_call(events, 5e-6) == pytest.approx([82e-6, 85e-6])


@pytest.mark.slow
def test_onnx_runtime_computes_what_torch_does():
    pytest.importorskip("onnxruntime")
    import numpy as np
    import torch

    from costmodel.frontends import to_torch
    from costmodel.zoo import resolve

    for spec in ("shufflenet_v2:alpha=0.5,resolution=64", "mobilenet_v3_small:resolution=64"):
        module = to_torch(resolve(spec).build())  # nn.ChannelShuffle, hardswish, SE
        x = torch.randn(1, 3, 64, 64)
        call, args = runtimes.compiled("onnxruntime", module, (x,))
        with torch.no_grad():
            expected = module(x).numpy()
        np.testing.assert_allclose(call(*args)[0], expected, rtol=1e-3, atol=1e-4)


@pytest.mark.slow
def test_what_onnx_cannot_express_is_refused_before_the_exporter_runs(capfd):
    pytest.importorskip("onnxruntime")
    import torch

    pool = torch.nn.AdaptiveAvgPool2d(6)
    with pytest.raises(runtimes.Unsupported, match=r"AdaptiveAvgPool2d from 5×5 to 6×6"):
        runtimes.compiled("onnxruntime", pool, (torch.randn(1, 8, 5, 5),))
    assert "Torch IR graph" not in capfd.readouterr().err
    call, args = runtimes.compiled("onnxruntime", pool, (torch.randn(1, 8, 12, 12),))
    assert call(*args)[0].shape == (1, 8, 6, 6)


def _run(*args, cwd: Path, env_extra: dict | None = None):
    return subprocess.run([sys.executable, "-m", "costmodel", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                               "COLUMNS": "120", **(env_extra or {})})


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["torch", "onnxruntime"])
def test_calibrate_writes_a_profile_latency_reads_with_neither_runtime(tmp_path, runtime):
    pytest.importorskip(runtime)
    result = _run("calibrate", "--runtime", runtime, "--budget", "20", "-o", "p.json",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "kernels of" in result.stdout and "Torch IR" not in result.stderr
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["runtime"].startswith(runtime) and data["threads"] == 1
    assert data["notes"]["context_networks"] >= 8 and data["notes"]["samples"] > 0
    # the profile is plain data: latency reads it with torch and onnxruntime unimportable
    blocker = tmp_path / "blocked"
    blocker.mkdir()
    for name in ("torch", "onnxruntime", "onnx"):
        (blocker / f"{name}.py").write_text(f"raise ImportError('{name} is blocked')\n")
    result = _run("latency", "mobilenet_v2:height=160,width=224", "--hw", "p.json", "--batch",
                  "2", "-f", "json", cwd=tmp_path,
                  env_extra={"PYTHONPATH": f"{blocker}:{ROOT}"})
    assert result.returncode == 0, result.stderr
    estimate = json.loads(result.stdout)
    assert estimate["batch"] == 2 and estimate["total_seconds"] > 0
    assert estimate["dominant"] in ("compute", "memory", "overhead")


def test_a_budget_spent_before_any_kernel_is_one_error(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from costmodel.cli.app import app
    from costmodel.kernels import measure

    monkeypatch.setattr(runtimes, "check", lambda runtime: None)
    monkeypatch.setattr(measure, "calibrate_samples",
                        lambda *a, **k: measure.Measured((), (), ((None, 0.01),) * 8))
    out = tmp_path / "p.json"
    result = CliRunner().invoke(app, ["calibrate", "--runtime", "onnxruntime", "--budget",
                                      "5", "-o", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert result.output.strip().splitlines() == [
        "costmodel: error: --budget 5: the fusion rules and 8 whole networks took it all "
        "before any kernel was measured (onnxruntime); give --budget 30 or more (the "
        "default is 180 s)"]
