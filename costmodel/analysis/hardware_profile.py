"""Hardware profiles: the roofline figures of one device, kept as a small TOML file.

A profile file is data from anywhere (downloaded, shared, written by `costmodel calibrate`):
it is read through :func:`costmodel.safe_io.read_text_bounded` (a regular file of at most
``MAX_PROFILE_BYTES``), parsed by ``tomllib`` (which never runs code), and every value is
checked before it is used: each key must be one costmodel knows (a misspelt
``overhead_seconds_per_layr`` would otherwise silently count as 0, so an unknown key is an
error listing the known ones), each string a string of bounded length, each figure a finite
number in the physically sane range of :mod:`costmodel.limits` (``nan``, ``inf`` and
``1e400``, which TOML reads as inf, are refused by key). A profile gives its peak for the
dtype of its figures (``dtype``, ``peak_macs_per_second``) and, optionally, for others in a
``[peaks]`` table (``int8 = 3.4e10``): an estimate in a dtype the profile has no peak for is
refused rather than computed with another dtype's peak.
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .. import limits
from ..errors import CostModelError
from ..safe_io import printable, read_text_bounded
from .memory import DTYPE_BYTES

REQUIRED = ("name", "peak_macs_per_second", "bandwidth_bytes_per_second")
TEXT_KEYS = ("name", "description", "dtype", "source")
NUMBER_KEYS = ("peak_macs_per_second", "bandwidth_bytes_per_second",
               "overhead_seconds_per_layer")
KNOWN_KEYS = ("name", "description", "dtype", "peak_macs_per_second",
              "bandwidth_bytes_per_second", "overhead_seconds_per_layer", "source", "peaks")

#: Each figure's sane range (inclusive), its unit and the limit that bounds it, for messages.
RANGES = {
    "peak_macs_per_second": (limits.MIN_PEAK_MACS_PER_SECOND, limits.MAX_PEAK_MACS_PER_SECOND,
                             "MACs per second", "MIN_PEAK_MACS_PER_SECOND",
                             "MAX_PEAK_MACS_PER_SECOND"),
    "bandwidth_bytes_per_second": (limits.MIN_BANDWIDTH_BYTES_PER_SECOND,
                                   limits.MAX_BANDWIDTH_BYTES_PER_SECOND, "bytes per second",
                                   "MIN_BANDWIDTH_BYTES_PER_SECOND",
                                   "MAX_BANDWIDTH_BYTES_PER_SECOND"),
    "overhead_seconds_per_layer": (0, limits.MAX_OVERHEAD_SECONDS_PER_LAYER, "seconds", "",
                                   "MAX_OVERHEAD_SECONDS_PER_LAYER"),
}


@dataclass(frozen=True)
class Hardware:
    """A roofline: peak MACs per second, bandwidth in bytes per second, a fixed cost per
    kernel, the dtype of its figures, and where those figures come from. ``peaks`` holds the
    peaks of other dtypes, as ``(dtype, MACs per second)`` pairs."""

    name: str
    peak_macs_per_second: float
    bandwidth_bytes_per_second: float
    overhead_seconds_per_layer: float = 0.0
    dtype: str = "fp32"
    description: str = ""
    source: str = ""
    path: str = ""
    peaks: tuple[tuple[str, float], ...] = field(default=())

    @property
    def ridge(self) -> float:
        """MACs per byte above which a layer is compute-bound (in the profile's dtype)."""
        return self.peak_macs_per_second / self.bandwidth_bytes_per_second

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The dtypes this profile has a peak for, its own first."""
        return (self.dtype,) + tuple(d for d, _ in self.peaks if d != self.dtype)

    def peak_for(self, dtype: str) -> float:
        """Peak MACs per second in ``dtype``; a dtype the profile has no peak for is an error
        (using another dtype's peak would be a silent guess: int8 often runs 4× fp32)."""
        if dtype == self.dtype:
            return self.peak_macs_per_second
        for name, value in self.peaks:
            if name == dtype:
                return value
        raise CostModelError(
            f"hardware profile {printable(self.name)} has a peak for "
            f"{', '.join(self.dtypes)} only, not {dtype}; give its {dtype} peak in the "
            f"profile file (a [peaks] table with {dtype} = <MACs per second>) or leave out "
            "--dtype")


def _kind(value: object) -> str:
    """What a TOML value is, in words (never the value itself, which may be huge)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (int, float)):
        return "a number"
    return "a date or time"


def _figure(value: object, key: str, where: str) -> float:
    """``value`` of ``key`` as a float, if it is a finite number in its sane range."""
    low, high, unit, low_name, high_name = RANGES["peak_macs_per_second"
                                                  if key.startswith("peaks.") else key]
    wanted = f"a number of {unit} from {low:g} to {high:g}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CostModelError(f"hardware profile {where}: {key} is {_kind(value)}; give {wanted}")
    if isinstance(value, float) and not math.isfinite(value):
        why = " (TOML reads 1e400 and beyond as inf)" if math.isinf(value) else ""
        raise CostModelError(f"hardware profile {where}: {key} = {value!r}{why}; give a finite "
                             f"{wanted[2:]}")
    if not low <= value <= high:
        shown = f"{value:g}" if abs(value) < 1e300 else f"a number of {len(str(value))} digits"
        hit = high_name if value > high else low_name
        limit = f" (limit {hit} in costmodel/limits.py)" if hit else ""
        raise CostModelError(f"hardware profile {where}: {key} = {shown} is outside the sane "
                             f"range {low:g} to {high:g} {unit}{limit}")
    return float(value)


def _text(data: dict, key: str, where: str, default: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise CostModelError(f"hardware profile {where}: {key} is {_kind(value)}; give a "
                             "string in double quotes")
    limit_name = "MAX_PROFILE_NAME_CHARS" if key == "name" else "MAX_PROFILE_TEXT_CHARS"
    limit = getattr(limits, limit_name)
    if len(value) > limit:
        raise CostModelError(f"hardware profile {where}: {key} has {len(value):,} characters, "
                             f"more than the {limit} allowed (limit {limit_name})")
    if key == "name" and not value.strip():
        raise CostModelError(f"hardware profile {where}: name is empty; give the device's name")
    return value


def _parse(text: str, where: str) -> dict:
    for number, line in enumerate(text.splitlines(), 1):
        if len(line) > limits.MAX_PROFILE_LINE_CHARS:
            raise CostModelError(f"hardware profile {where}: line {number} has {len(line):,} "
                                 f"characters, more than the {limits.MAX_PROFILE_LINE_CHARS} "
                                 "allowed (limit MAX_PROFILE_LINE_CHARS)")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CostModelError(f"hardware profile {where}: not valid TOML "
                             f"({printable(exc, 120)})") from None
    except RecursionError:  # arrays or inline tables nested hundreds deep
        raise CostModelError(f"hardware profile {where}: not valid TOML (nested too deeply); "
                             "a profile holds flat key = value lines") from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise CostModelError(f"hardware profile {where}: not valid TOML "
                             f"({printable(exc, 120)})") from None


def from_toml(text: str, where: str) -> Hardware:
    """The profile in ``text`` (``where`` names it in messages: a path or a built-in name)."""
    where = printable(where, limits.MAX_QUOTED_PATH_CHARS)
    data = _parse(text, where)
    unknown = [key for key in data if key not in KNOWN_KEYS]
    if unknown:
        raise CostModelError(f"hardware profile {where}: unknown key '{printable(unknown[0])}'; "
                             f"the keys are {', '.join(KNOWN_KEYS)}")
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        raise CostModelError(f"hardware profile {where}: missing {missing[0]!r} (needs "
                             f"{', '.join(REQUIRED)})")
    texts = {key: _text(data, key, where, "fp32" if key == "dtype" else "")
             for key in TEXT_KEYS}
    if texts["dtype"] not in DTYPE_BYTES:
        raise CostModelError(f"hardware profile {where}: dtype '{printable(texts['dtype'])}' "
                             f"is not one of {', '.join(DTYPE_BYTES)}")
    numbers = {key: _figure(data.get(key, 0.0), key, where) for key in NUMBER_KEYS}
    return Hardware(texts["name"], numbers["peak_macs_per_second"],
                    numbers["bandwidth_bytes_per_second"], numbers["overhead_seconds_per_layer"],
                    texts["dtype"], texts["description"], texts["source"], where,
                    _peaks(data.get("peaks", {}), texts["dtype"],
                           numbers["peak_macs_per_second"], where))


def _peaks(table: object, dtype: str, own: float, where: str) -> tuple[tuple[str, float], ...]:
    if not isinstance(table, dict):
        raise CostModelError(f"hardware profile {where}: peaks is {_kind(table)}; give a table "
                             "[peaks] of dtype = MACs per second lines")
    peaks = []
    for name, value in table.items():
        if name not in DTYPE_BYTES:
            raise CostModelError(f"hardware profile {where}: peaks.{printable(name)} is not a "
                                 f"dtype; use {', '.join(DTYPE_BYTES)}")
        figure = _figure(value, f"peaks.{name}", where)
        if name == dtype and figure != own:
            raise CostModelError(f"hardware profile {where}: peaks.{name} = {figure:g} differs "
                                 f"from peak_macs_per_second = {own:g}, the peak of the "
                                 f"profile's dtype {dtype}; keep one")
        peaks.append((name, figure))
    return tuple(peaks)


def builtin_names() -> tuple[str, ...]:
    folder = importlib.resources.files("costmodel.hardware")
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def profiles() -> tuple[Hardware, ...]:
    """The built-in profiles, by name."""
    return tuple(load(name) for name in builtin_names())


def _exists(path: Path) -> bool:
    """Whether ``path`` names anything (a dangling symlink too); a name too long to be a
    path names nothing."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return False


def load(name_or_path: str) -> Hardware:
    """A built-in profile by name, or a profile file by path (a file is data: parsed as TOML,
    never executed). Text that names no built-in profile is a path if it ends in ``.toml``,
    holds a ``/`` or names something that exists (a directory or a pipe is then refused as
    such, rather than called an unknown profile)."""
    if name_or_path in builtin_names():
        resource = importlib.resources.files("costmodel.hardware") / f"{name_or_path}.toml"
        return from_toml(resource.read_text(encoding="utf-8"), f"{name_or_path} (built in)")
    path = Path(name_or_path)
    if name_or_path and (path.suffix == ".toml" or "/" in name_or_path or _exists(path)):
        text = read_text_bounded(path, limits.MAX_PROFILE_BYTES, "hardware profile",
                                 "MAX_PROFILE_BYTES")
        return from_toml(text, str(path))
    raise CostModelError(f"unknown hardware '{printable(name_or_path)}'; built in: "
                         f"{', '.join(builtin_names())} (or give the path of a .toml profile, "
                         "e.g. one written by `costmodel calibrate`)")
