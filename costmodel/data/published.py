"""Published figures (MACs, parameters, accuracy, ...) from the papers, with their citations.

The numbers live in ``published.toml`` next to this module, exactly as the papers print them, so
that a reproduction can be checked against the source rather than against a number someone has
already "corrected".  This module only parses and validates that file; it knows nothing about
how costs are computed.

    >>> from costmodel.data.published import figures, cite
    >>> row = figures(source="mobilenet_v1", table="Table 6")[1]
    >>> row.label, row.macs, cite(row)[-25:]
    ('0.75 MobileNet-224', 325000000.0, 'arXiv 1704.04861, Table 6')
"""

from __future__ import annotations

import functools
import importlib.resources
import tomllib
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, Mapping

__all__ = ["PublishedFigure", "load_published", "sources", "figures", "cite"]

_DATA_FILE = "published.toml"
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _empty() -> Mapping[str, Any]:
    """Shared read-only empty mapping (dataclasses refuse unhashable defaults)."""
    return _EMPTY


@dataclass(frozen=True)
class PublishedFigure:
    """One printed row (or cell group) of a paper.  Field meanings are documented at the top of
    ``published.toml``; every field except ``source``, ``table`` and ``label`` is optional."""

    source: str
    table: str
    label: str
    model: str | None = None
    config: Mapping[str, Any] = field(default_factory=_empty, hash=False)
    macs: float | None = None
    macs_min: float | None = None
    params: float | None = None
    top1: float | None = None
    top1_err: float | None = None
    note: str | None = None
    sic: bool = False
    layer: str | None = None
    layer_type: str | None = None
    macs_share: float | None = None
    params_share: float | None = None
    derivation: str | None = None
    at: Mapping[str, Any] = field(default_factory=_empty, hash=False)
    channels: Mapping[str, int] = field(default_factory=_empty, hash=False)
    max_channels: int | None = None
    memory_kb: float | None = None
    measured: Mapping[str, Any] = field(default_factory=_empty, hash=False)
    extra: Mapping[str, Any] = field(default_factory=_empty, hash=False)
    #: the value of a figure's last printed digit, in units, where the stored number cannot
    #: show it (0.70e9 printed "0.70B" has step 0.01e9; 1.0e9 printed "1.0B", 0.1e9)
    step: Mapping[str, float] = field(default_factory=_empty, hash=False)


_FIELDS = {f.name for f in fields(PublishedFigure)}
_REQUIRED = ("source", "table", "label")
_MAPPINGS = ("config", "at", "channels", "measured", "extra", "step")
# Printed counts such as 22_855_952 parse as int; make every number field one type so callers
# can compare without caring how the TOML literal was written.
_FLOATS = ("macs", "macs_min", "params", "top1", "top1_err", "macs_share", "params_share",
           "memory_kb")


def _freeze(value: Any) -> Any:
    """Read-only copy of parsed TOML, so the cached figures cannot be edited by a caller."""
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _figure(index: int, raw: dict[str, Any], known_sources: Mapping[str, str]) -> PublishedFigure:
    """Validate one ``[[figures]]`` table; a typo in a key must fail loudly, not vanish."""
    where = f"{_DATA_FILE}: figures[{index}] ({raw.get('label', '?')!r})"
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(_FIELDS)}")
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise ValueError(f"{where}: missing required key(s) {missing}")
    if raw["source"] not in known_sources:
        raise ValueError(f"{where}: source {raw['source']!r} is not one of "
                         f"{sorted(known_sources)}")
    values = {k: _freeze(v) for k, v in raw.items()}
    for key in _FLOATS:
        if key in values:
            values[key] = float(values[key])
    return PublishedFigure(**values)


@functools.lru_cache(maxsize=1)
def _parsed() -> tuple[Mapping[str, str], tuple[PublishedFigure, ...]]:
    """Parse the data file once per process; everything public reads from this."""
    text = importlib.resources.files(__package__).joinpath(_DATA_FILE).read_text("utf-8")
    data = tomllib.loads(text)
    citations = MappingProxyType({key: entry["citation"]
                                  for key, entry in data.get("sources", {}).items()})
    rows = tuple(_figure(i, raw, citations) for i, raw in enumerate(data.get("figures", [])))
    return citations, rows


def load_published() -> list[PublishedFigure]:
    """Every published figure, in file order (grouped by paper, then table)."""
    return list(_parsed()[1])


def sources() -> dict[str, str]:
    """Source key -> citation (authors, title, arXiv id)."""
    return dict(_parsed()[0])


def figures(source: str | None = None, table: str | None = None,
            model: str | None = None) -> list[PublishedFigure]:
    """The figures matching every filter given (``None`` means any)."""
    return [f for f in _parsed()[1]
            if (source is None or f.source == source)
            and (table is None or f.table == table)
            and (model is None or f.model == model)]


def cite(figure: PublishedFigure) -> str:
    """Citation string for a figure: the paper, then where in it the number is printed."""
    return f"{_parsed()[0][figure.source]}, {figure.table}"
