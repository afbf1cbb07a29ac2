"""The models of `compare` and `summary`, built, and `compare`'s figures: each SPEC's exact
counts, its ratios to the first, and (where asked) its memory traffic and peak, each computed
once. The tables are drawn by :mod:`costmodel.report.compare_tables`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.network import Network, exact
from ..core.numbers import plain
from ..core.warnings import records as warning_records

UNITS = ("macs", "flops")


def shape_array(shape) -> list[Any]:
    """A feature map as JSON and CSV carry it: ``[height, width, channels]``, the papers'
    H×W×C order as the tables print it (``[length, channels]`` for a sequence,
    ``[frames, height, width, channels]`` for a video clip)."""
    return [*(exact(side) for side in shape.sizes), exact(shape.c)]


def settings_text(config: dict[str, Any]) -> str:
    return ", ".join(f"{key}={plain(value, exact_fractions=True)}"
                     for key, value in config.items())


@dataclass(frozen=True)
class Row:
    """One built model in a comparison."""

    spec: str
    network: Network

    def counts(self, convention: str) -> tuple[Any, Any]:
        return exact(self.network.macs(convention)), exact(self.network.params(convention))


def build_all(specs: Sequence[str], input_shape: Sequence[int] | None = None) -> list[Row]:
    """Resolve and build each spec string (a model name, name:key=value,... or a file), on
    an N,C,H,W ``input_shape`` where given (see :func:`costmodel.frontends.build_spec`)."""
    from ..frontends import build_spec

    return [Row(text, build_spec(text, input_shape)) for text in specs]


def comparison(rows: Sequence[Row], convention: str = "paper", dtype: str = "fp32",
               memory: bool = False) -> list[dict[str, Any]]:
    """A record per model, in order: its settings, MACs, FLOPs, params, activations, ratios
    to the first model and warnings; with ``memory``, also its memory traffic and peak
    activation memory in bytes of ``dtype``. Each network is counted once (the first gives
    the ratios' base from its own record) and its memory walked only when asked."""
    from . import memory as M

    M.dtype_bytes(dtype)  # an unknown --dtype is refused, with --memory or not
    records = []
    for row in rows:
        macs, params = row.counts(convention)
        base = records[0] if records else {"macs": macs, "params": params}
        record = {
            "model": row.network.name,
            "config": {k: plain(v) for k, v in row.network.config},
            "settings": settings_text(row.network.settings),
            "macs": macs, "flops": 2 * macs, "params": params,
            "activations": exact(row.network.activations),
            "macs_ratio": _ratio(macs, base["macs"]),
            "params_ratio": _ratio(params, base["params"]),
            "convention": convention, "dtype": dtype,
            "warnings": warning_records(row.network),
        }
        if memory:
            record["traffic_bytes"] = exact(M.traffic_bytes(row.network, dtype))
            record["peak_bytes"] = exact(M.peak_memory(row.network).bytes(dtype))
        records.append(record)
    return records


#: The keys of `costmodel compare --format json`, in order (README, "compare ... json").
JSON_KEYS = ("model", "config", "macs", "flops", "params", "activations", "macs_ratio",
             "params_ratio", "convention", "traffic_bytes", "peak_bytes", "dtype", "warnings")


def compare_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The JSON contract of `costmodel compare`: one object per spec, in order, with model,
    config, macs, flops, params (exact integers), activations, ratios, convention,
    traffic_bytes and peak_bytes (in the dtype given, default fp32: ``records`` come from
    :func:`comparison` with ``memory``), and warnings (objects: kind, subject, count, names,
    message; empty when the count leaves nothing out)."""
    return [{key: plain(record[key]) for key in JSON_KEYS} for record in records]


def _ratio(value: Any, base: Any) -> float | None:
    return float(value) / float(base) if base else None
