"""`costmodel compare` does its work once: each network counted once per convention (the
first row too, which is the ratios' base), and its memory walked only where the output shows
it (`--memory`, or the JSON contract, which always carries traffic_bytes and peak_bytes)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from costmodel.analysis import memory as M
from costmodel.analysis.compare import Row
from costmodel.cli.app import app

SPECS = ("mobilenet_v1", "vgg16", "mobilenet_v1:alpha=0.5")


@pytest.fixture
def calls(monkeypatch):
    """Counts of Row.counts per spec, and of the memory walks per network."""
    seen: Counter = Counter()
    counts, traffic, peak = Row.counts, M.traffic_bytes, M.peak_memory

    def counted(self, convention):
        seen[("counts", self.spec)] += 1
        return counts(self, convention)

    def traffic_counted(network, *args, **kwargs):
        seen[("traffic", id(network))] += 1
        return traffic(network, *args, **kwargs)

    def peak_counted(network, *args, **kwargs):
        seen[("peak", id(network))] += 1
        return peak(network, *args, **kwargs)

    monkeypatch.setattr(Row, "counts", counted)
    monkeypatch.setattr(M, "traffic_bytes", traffic_counted)
    monkeypatch.setattr(M, "peak_memory", peak_counted)
    return seen


def compare(*args: str):
    result = CliRunner().invoke(app, ["compare", *SPECS, *args])
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_each_row_is_counted_once_and_memory_only_with_the_flag(calls, fmt):
    out = compare("-f", fmt)
    assert "traffic" not in out
    assert calls == Counter({("counts", spec): 1 for spec in SPECS})
    calls.clear()
    out = compare("-f", fmt, "--memory")
    assert "traffic" in out
    assert set(calls.values()) == {1}  # each network counted and walked once
    assert Counter(kind for kind, _ in calls) == {"counts": 3, "traffic": 3, "peak": 3}


def test_json_counts_once_and_carries_memory(calls):
    rows = json.loads(compare("-f", "json"))
    assert calls[("counts", SPECS[0])] == 1 and sum(calls.values()) == 3 * len(SPECS)
    # the base row's ratios are 1, from the same single count
    assert rows[0]["macs_ratio"] == 1.0 and rows[0]["params_ratio"] == 1.0
    assert rows[1]["macs_ratio"] == pytest.approx(rows[1]["macs"] / rows[0]["macs"])
    assert all(isinstance(r["traffic_bytes"], int) and isinstance(r["peak_bytes"], int)
               for r in rows)


def test_an_unknown_dtype_is_refused_without_memory_too():
    result = CliRunner().invoke(app, ["compare", "mobilenet_v1", "--dtype", "fp64"])
    assert result.exit_code == 2 and "unknown dtype" in result.output
