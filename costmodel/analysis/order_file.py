"""`costmodel memory --order FILE`: an execution order read from a text file, one layer name a
line, checked against the network before the peak-memory analysis runs it.

The file is data from outside: it is read through :func:`costmodel.safe_io.read_text_bounded`
(a regular file of at most ``MAX_ORDER_BYTES``, so a pipe cannot block and ``/dev/zero`` cannot
fill memory; UTF-8, a byte-order mark dropped), and each problem is reported by line with the
name printed through :func:`costmodel.safe_io.printable`: a name the network does not have, a
name listed twice, layers left out, and a layer run before one it reads.
"""

from __future__ import annotations

from pathlib import Path

from .. import limits
from ..core.network import Network
from ..errors import CostModelError
from ..safe_io import printable, read_text_bounded


def _quoted(name: str) -> str:
    return f"'{printable(name)}'"


def _first_layers(network: Network, count: int = 3) -> str:
    names = [_quoted(layer.name) for layer in network.layers[:count]]
    return ", ".join(names) + (", …" if len(network.layers) > count else "")


def read_order(path: str | Path, network: Network) -> tuple[str, ...]:
    """The layer names of the file ``path``, one a line (blank lines and the spaces around a
    name ignored), once each, in an order that runs every layer after the layers it reads."""
    shown = f"--order {printable(path, limits.MAX_QUOTED_PATH_CHARS)}"
    text = read_text_bounded(path, limits.MAX_ORDER_BYTES, "--order file", "MAX_ORDER_BYTES")
    return check_order_lines(text.splitlines(), network, shown)


def check_order_lines(lines: list[str], network: Network, shown: str) -> tuple[str, ...]:
    """``lines`` (a file's, numbered from 1) as an execution order of ``network``; ``shown``
    names the file in messages."""
    net = printable(network.name)
    by_name = {layer.name: layer for layer in network.layers}
    line_of: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        name = line.strip()
        if not name:
            continue
        if name not in by_name:
            raise CostModelError(f"{shown} line {number}: {_quoted(name)} is not a layer of "
                                 f"{net} (its layers: {_first_layers(network)}; "
                                 "`costmodel summary` lists them all)")
        if name in line_of:
            raise CostModelError(f"{shown} line {number}: {_quoted(name)} is listed again (first "
                                 f"on line {line_of[name]}); list each layer once")
        line_of[name] = number
    if not line_of:
        raise CostModelError(f"{shown}: lists no layer names; list each of {net}'s "
                             f"{len(by_name)} layers once, one per line, in the order to run them")
    left_out = [name for name in by_name if name not in line_of]
    if left_out:
        raise CostModelError(f"{shown}: leaves out {len(left_out)} layer(s) of {net}, the first "
                             f"{_quoted(left_out[0])}; list every layer once")
    done = {"input"}
    for name in line_of:  # dicts keep the file's order
        for source in by_name[name].sources:
            if source in by_name and source not in done:  # a source that is no layer: free
                raise CostModelError(
                    f"{shown} line {line_of[name]}: runs {_quoted(name)} before "
                    f"{_quoted(source)} (line {line_of[source]}), which it reads; list "
                    f"{_quoted(source)} first")
        done.add(name)
    return tuple(line_of)
