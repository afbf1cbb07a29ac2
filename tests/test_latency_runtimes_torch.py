"""The calibration runtimes (costmodel/kernels/runtimes.py) on torch and ONNX Runtime: both run
the same module to the same numbers, what ONNX cannot express is refused by name before the
exporter runs (and prints its graph), and `costmodel calibrate` writes, on either runtime, a
profile that `latency` reads with neither torch nor onnxruntime importable. Nothing here
asserts a time (timing belongs in benchmarks/latency_evidence.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime  # noqa: F401  (the runtime under test: a test extra)
import pytest
import torch

from costmodel.kernels import runtimes

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]


def test_onnx_runtime_computes_what_torch_does():
    from costmodel.frontends import to_torch
    from costmodel.zoo import resolve

    for spec in ("shufflenet_v2:alpha=0.5,resolution=64", "mobilenet_v3_small:resolution=64"):
        module = to_torch(resolve(spec).build())  # nn.ChannelShuffle, hardswish, SE
        x = torch.randn(1, 3, 64, 64)
        call, args = runtimes.compiled("onnxruntime", module, (x,))
        with torch.no_grad():
            expected = module(x).numpy()
        np.testing.assert_allclose(call(*args)[0], expected, rtol=1e-3, atol=1e-4)


def test_what_onnx_cannot_express_is_refused_before_the_exporter_runs(capfd):
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


@pytest.mark.parametrize("runtime", ["torch", "onnxruntime"])
def test_calibrate_writes_a_profile_latency_reads_with_neither_runtime(tmp_path, runtime):
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


def test_a_kernel_the_runtime_optimizes_away_times_above_zero():
    # a graph of one Identity, priced less than the profiler's own cost: floored, never 0
    seconds, spread = runtimes.node_seconds(torch.nn.Dropout(0.5).eval(),
                                            (torch.randn(1, 8, 4, 4),), 1, 3, 0.002, 1.0)
    assert seconds == runtimes.FLOOR_SECONDS and spread == 0
