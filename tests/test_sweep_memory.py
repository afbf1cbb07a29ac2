"""`costmodel sweep --memory`: exact memory traffic (bytes of a dtype) at every grid point,
compiled with the other closed forms, and equal to the traffic of networks built one by one
(issue 12, item 1)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from costmodel import zoo
from costmodel.analysis import memory, sweep as sw
from costmodel.cli.app import app
from costmodel.errors import CostModelError
from costmodel.report import sweep_output as out

runner = CliRunner()


def built_traffic(spec, point, dtype):
    """The traffic in bytes of the network built at ``point`` (knob -> exact value)."""
    return memory.traffic_bytes(zoo.build(spec, **point), dtype)


def assert_traffic_matches_builds(result, spec, dtype, positions=None):
    positions = range(len(result)) if positions is None else positions
    for position in positions:
        got = result.counts["traffic_bytes"][position]
        got = got.item() if isinstance(got, np.generic) else got
        want = built_traffic(spec, result.knob_values(position), dtype)
        assert isinstance(got, int) and got == want, (result.knob_values(position), got, want)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["fp32", "fp16", "int8"])
def test_traffic_at_every_point_equals_one_by_one_builds(dtype):
    result = sw.sweep("mobilenet_v2", {"alpha": "0.35,0.75,1.4", "resolution": "96,160,224"},
                      dtype=dtype)
    assert result.symbolic == ("alpha", "resolution") and result.exact
    assert result.columns[-1] == "traffic_bytes" and result.dtype == dtype
    assert_traffic_matches_builds(result, "mobilenet_v2", dtype)


@pytest.mark.slow
def test_traffic_where_assumptions_fail_is_recomputed_exactly():
    # no sampled checks: `if t != 1` is recorded as Ne(t, 1); t = 1 at 17 resolutions is
    # recomputed with resolution symbolic (a sub-grid), at 2 resolutions one by one
    for resolution in ("96:224:8", "96,224"):
        result = sw.sweep("mobilenet_v2", {"t": "1:3:1", "resolution": resolution},
                          check=0, verify=False, dtype="int8")
        assert result.recomputed > 0 and result.recomputed_by == ("t",)
        t_one = [p for p in range(len(result)) if result.knob_values(p)["t"] == 1]
        assert_traffic_matches_builds(result, "mobilenet_v2", "int8",
                                      t_one[:3] + t_one[-2:] + [len(result) - 1])


@pytest.mark.slow
def test_traffic_with_a_grouped_knob():
    # g selects a table row and is built once per value
    result = sw.sweep("shufflenet_v1", {"g": "3,8", "alpha": "0.5,1,1.5"}, dtype="fp16")
    assert "g" in result.grouped
    assert_traffic_matches_builds(result, "shufflenet_v1", "fp16")


def test_traffic_past_int64_stays_exact():
    result = sw.sweep("mobilenet_v1", {"resolution": "224,100000000"}, dtype="fp32")
    want = built_traffic("mobilenet_v1", {"resolution": 100000000}, "fp32")
    assert want > 2 ** 63 and result.counts["traffic_bytes"][1] == want
    assert result.records([1])[0]["traffic_bytes"] == want


def test_sweep_agrees_with_compare_json():
    compared = json.loads(runner.invoke(app, ["compare", "mobilenet_v2", "--format", "json",
                                              "--dtype", "fp16"]).stdout)[0]
    result = sw.sweep("mobilenet_v2", {"alpha": "0.5,1"}, dtype="fp16")
    assert result.records([1])[0]["traffic_bytes"] == compared["traffic_bytes"]


def test_no_memory_column_without_a_dtype():
    result = sw.sweep("mobilenet_v2", {"alpha": "0.5,1"})
    assert "traffic_bytes" not in result.counts and "traffic_bytes" not in result.columns


def test_unknown_dtype_is_refused():
    with pytest.raises(CostModelError, match="unknown dtype 'fp64'"):
        sw.sweep("mobilenet_v2", {"alpha": "0.5,1"}, dtype="fp64")


@pytest.mark.slow
def test_cli_csv_and_json_have_the_column(tmp_path):
    args = ["sweep", "mobilenet_v2", "--alpha", "0.5,1", "--resolution", "160,224", "--memory"]
    done = runner.invoke(app, [*args, "-f", "csv", "--dtype", "int8"])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == ["alpha", "resolution", "macs", "flops", "params", "activations",
                             "traffic_bytes"]
    assert int(rows[3]["traffic_bytes"]) == built_traffic(
        "mobilenet_v2", {"alpha": 1, "resolution": 224}, "int8")
    path = tmp_path / "grid.json"
    done = runner.invoke(app, [*args, "-o", str(path)])
    assert done.exit_code == 0, done.output
    records = json.loads(path.read_text())
    assert records[0]["traffic_bytes"] == built_traffic(
        "mobilenet_v2", {"alpha": "0.5", "resolution": 160}, "fp32")
    done = runner.invoke(app, [*args[:-1], "-f", "csv"])
    assert "traffic_bytes" not in done.stdout.splitlines()[0]


def test_table_names_the_dtype():
    result = sw.sweep("mobilenet_v2", {"alpha": "0.5,1"}, dtype="fp16")
    text = out.table(result).render("table")
    assert "traffic (fp16 bytes)" in text and "peak activation memory is not swept" in text
