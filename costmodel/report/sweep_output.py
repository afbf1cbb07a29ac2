"""A sweep's grid rendered: the table, and the files (CSV, JSON, Parquet) with exact counts.

The CSV and JSON writers build each block of rows as one byte matrix with numpy (a column's
distinct values formatted once, digits cut arithmetically), about 10^6 rows in 0.2 s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..analysis.grid import Axis, text
from ..analysis.sweep import Progress, SweepResult, count
from ..errors import CostModelError
from ..safe_io import write_atomic_with
from .table import UNIT_NOTE, convention_note

#: Rows written per block (and per step of the progress bar).
CHUNK = 250_000


def describe(result: SweepResult) -> list[str]:
    """Notes that say what a sweep counts and how it was computed."""
    fixed = ", ".join(f"{k}={text(v)}" for k, v in result.fixed.items()) or "none"
    how = (f"Closed forms compiled once with {', '.join(result.symbolic)} symbolic"
           if result.symbolic else "Networks built one by one")
    if result.grouped:
        how += f"; built once per value of {', '.join(result.grouped)}"
    if result.symbolic:
        n = result.recomputed
        how += (f"; recomputed at {n:,} grid point{'s' if n != 1 else ''} where an assumption "
                f"of the closed forms fails (conditions on {', '.join(result.recomputed_by)})"
                if n else "; every assumption of the closed forms holds on the grid")
        n = result.checked
        how += (f"; checked against networks built one by one at {n:,} grid "
                f"point{'s' if n != 1 else ''}" if n else
                "; not checked against networks built one by one")
    notes = [UNIT_NOTE, convention_note(result.convention),
             "activations: elements of every layer's output, summed.",
             *((f"traffic_bytes: feature maps read and written and weights read by every "
                f"kernel (batch norm folded, dropout the identity, activations separate "
                f"kernels), in {result.dtype} bytes; peak activation memory is not swept "
                "(costmodel compare --memory and costmodel memory SPEC show it).",)
               if result.dtype else ()),
             f"Other knobs: {fixed}.", f"{how}."]
    if not result.exact:
        notes.append("Some counts are not whole (idealized widths c·alpha): shown as float64.")
    return notes


def table(result: SweepResult, rows: int = 10):
    """The grid as a :class:`~costmodel.report.table.Table`: every row of a small grid, else
    the first and last ``rows`` with a note."""
    from .table import Column, Table

    n = len(result)
    shown = list(range(n)) if n <= max(2 * rows + 1, 50) else [*range(rows), *range(n - rows, n)]
    records = []
    for r in shown:
        record = {a.name: a.texts[i] for a, i in zip(result.axes, result.index(r))}
        record.update({c: count(result.counts[c][r]) for c in result.count_columns})
        records.append(record)
    columns = (*(Column(a.name, a.name) for a in result.axes),
               Column("macs", "MACs", "count"), Column("flops", "FLOPs", "count"),
               Column("params", "params", "count"), Column("activations", "activations", "count"),
               *((Column("traffic_bytes", f"traffic ({result.dtype} bytes)", "count"),)
                 if result.dtype else ()))
    notes = describe(result)
    if len(shown) < n:
        records.insert(rows, {c.key: "…" for c in columns})
        notes.insert(0, f"Showing the first {rows} and the last {rows} of {n:,} rows; "
                        "--format csv|json|parquet --output FILE writes them all.")
    title = (f"{result.model} sweep: {n:,} configuration{'s' if n != 1 else ''} "
             f"({result.convention} convention)")
    return Table(title, columns, tuple(records), tuple(notes))


_POWERS = 10 ** np.arange(1, 19, dtype=np.int64)


def _digits(values: np.ndarray) -> np.ndarray:
    """Non-negative int64 values as ASCII digits, one column per value (width × n), leading
    positions zero bytes (dropped when the rows are joined). The low 8 digits are cut in
    uint32, which numpy divides about twice as fast as int64."""
    width = len(str(int(values.max()))) if len(values) else 1
    out = np.empty((width, len(values)), np.uint8)
    high = values // 100_000_000
    parts = [((values - high * 100_000_000).astype(np.uint32), range(width - 1, width - 9, -1)),
             (high.astype(np.uint32) if width <= 17 else high, range(width - 9, -1, -1))]
    for v, positions in parts:
        for j in positions:
            if j < 0:
                break
            q = v // 10
            out[j] = v - q * 10
            v = q
    count = np.searchsorted(_POWERS, values, side="right") + 1  # digits of each value
    out += 48
    out *= np.arange(width)[:, None] >= (width - count)[None, :]
    return out


def _text_bytes(texts: Sequence[str]) -> np.ndarray:
    """Short texts as a (width × count) byte matrix, zero-padded."""
    array = np.array([t.encode() for t in texts], dtype="S")
    width = max(array.dtype.itemsize, 1)
    return array.view(np.uint8).reshape(len(texts), width).T if len(texts) else \
        np.zeros((1, 0), np.uint8)


def _count_bytes(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.int64 and (len(values) == 0 or values.min() >= 0):
        return _digits(values)
    if values.dtype == object:  # exact Python ints past int64
        return _text_bytes([str(v) for v in values.tolist()])
    return _text_bytes([repr(v) if v != int(v) else str(int(v))
                        for v in values.astype(np.float64).tolist()])


def _column_bytes(result: SweepResult, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A column as a byte matrix (width × m) and, unless m is the number of rows, the index
    of each row's entry: a knob's distinct values are formatted once, and so is a count on
    the knobs it depends on (params, constant along resolution, 1,000 times not 10^6)."""
    shape = result.shape
    if name not in result.counts:
        return _text_bytes(_axis(result, name).texts), result.knob_index(name)
    grid = result.counts[name].reshape(shape)
    constant = [k for k, n in enumerate(shape)
                if n > 1 and np.array_equal(np.broadcast_to(grid.take([0], axis=k), shape), grid)]
    if not constant:
        return _count_bytes(result.counts[name]), None
    reduced = grid[tuple(0 if k in constant else slice(None) for k in range(len(shape)))]
    index = np.zeros(len(result), dtype=np.int64)
    stride = 1
    for k in reversed(range(len(shape))):
        if k not in constant:
            index += result.knob_index_of(k) * stride
            stride *= shape[k]
    return _count_bytes(reduced.reshape(-1)), index


def _write_rows(result: SweepResult, out, pieces: Sequence[bytes | str],
                progress: Progress) -> None:
    """Every row, ``pieces`` (literal bytes and column names, in order) joined, in blocks."""
    n = len(result)
    advance = progress.task("writing rows", -(-n // CHUNK)) if n > CHUNK else \
        (lambda k=1: None)
    sources = {p: _column_bytes(result, p) for p in pieces if isinstance(p, str)}
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        blocks = []
        for piece in pieces:
            if isinstance(piece, bytes):
                blocks.append(np.frombuffer(piece, np.uint8)[:, None].repeat(stop - start, 1))
            else:
                matrix, index = sources[piece]
                blocks.append(matrix[:, start:stop] if index is None else
                              matrix[:, index[start:stop]])
        flat = np.ascontiguousarray(np.concatenate(blocks, axis=0).T).ravel()
        out.write(flat[flat != 0].tobytes())
        advance(1)


def write_csv(result: SweepResult, out, progress: Progress | None = None) -> None:
    """CSV to the binary stream ``out``: the knobs, then macs, flops, params, activations
    (exact integers)."""
    out.write((",".join(result.columns) + "\n").encode())
    pieces: list[bytes | str] = []
    for name in result.columns:
        pieces += [name, b","]
    pieces[-1] = b"\n"
    _write_rows(result, out, pieces, progress or Progress())


def write_json(result: SweepResult, out, progress: Progress | None = None) -> None:
    """A JSON list of records, one line each: knob values, then macs, flops, params,
    activations (exact integers)."""
    import json

    pieces: list[bytes | str] = []
    for k, name in enumerate(result.columns):
        pieces.append((("{" if k == 0 else ", ") + json.dumps(name) + ": ").encode())
        pieces.append(name)
    pieces.append(b"},\n")
    quoted = _quoted_axes(result)
    out.write(b"[\n")
    n = len(result)
    if n:
        last = bytearray()

        class _Tail:
            def write(self, data: bytes) -> None:
                nonlocal last
                if last:
                    out.write(bytes(last))
                last = bytearray(data)
        _write_rows(quoted, _Tail(), pieces, progress or Progress())
        out.write(bytes(last[:-2]) + b"\n")
    out.write(b"]\n")


def _quoted_axes(result: SweepResult) -> SweepResult:
    """The same sweep with string knob values quoted, for JSON, and a fraction without a
    finite decimal (alpha=1/3, which CSV writes exactly) as the nearest JSON number."""
    import dataclasses
    import json

    def literal(axis: Axis) -> Axis:
        if not axis.numeric:
            return Axis(axis.knob, tuple(json.dumps(v) for v in axis.values))
        if all("/" not in text for text in axis.texts):
            return axis
        return Axis(axis.knob, tuple(json.dumps(float(v)) if "/" in text else text
                                     for v, text in zip(axis.values, axis.texts)))

    axes = [literal(a) for a in result.axes]
    return dataclasses.replace(result, axes=axes)


def require_pyarrow() -> None:
    """Refuse Parquet output before any work when pyarrow is not installed."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        from ..extras import install_hint

        raise CostModelError("writing Parquet needs pyarrow, which is not installed: "
                             f"{install_hint('pyarrow')} (or use --format csv)") from None


def write_parquet(result: SweepResult, path) -> None:
    """A Parquet file (needs pyarrow): the knob columns, then macs, flops, params,
    activations; the model, convention and units in the file's metadata. Written beside
    ``path`` and renamed over it, so a failed write leaves an old file whole."""
    require_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: result.column(name) for name in result.columns}
    metadata = {"model": result.model, "convention": result.convention,
                "units": "macs: multiply-accumulates; flops = 2 x macs; params: parameters; "
                         "activations: output elements" +
                         (f"; traffic_bytes: memory traffic in {result.dtype} bytes"
                          if result.dtype else ""),
                "notes": " ".join(describe(result))}
    table_ = pa.table(columns).replace_schema_metadata(metadata)
    write_atomic_with(path, lambda temp: pq.write_table(table_, str(temp)), "sweep output")


def _axis(result: SweepResult, name: str) -> Axis:
    return next(a for a in result.axes if a.name == name)
