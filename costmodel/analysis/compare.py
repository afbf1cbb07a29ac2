"""The models of `compare` and `summary`, built: each SPEC's network and its exact counts.

The tables are drawn by :mod:`costmodel.report.compare_tables`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.network import Network, exact
from ..core.numbers import plain

UNITS = ("macs", "flops")


def settings_text(config: dict[str, Any]) -> str:
    return ", ".join(f"{key}={plain(value)}" for key, value in config.items())


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
