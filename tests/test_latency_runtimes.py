"""The calibration runtimes (costmodel/kernels/runtimes.py), without torch: ORT's profile is
read per call without its layout nodes or the profiler's own cost, an unknown runtime and a
budget spent before any kernel are one error each. The runs on torch and ONNX Runtime are
in tests/test_latency_runtimes_torch.py. Nothing here asserts a time."""

from __future__ import annotations

import pytest

from costmodel.errors import CostModelError
from costmodel.kernels import runtimes


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
