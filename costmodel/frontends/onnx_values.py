"""The numbers of a small constant tensor of an ONNX file, read safely.

Only the few constants that counting needs are ever read (a Reshape's target, a Slice's
bounds, Clip's bounds, ReduceMean's axes), and only when a node needs them. A tensor's values
are inline (``raw_data``, ``int64_data``...) or *external data*: a ``location`` (a file name),
an ``offset`` and a ``length``. A crafted file could point that location anywhere (``~/.ssh``,
``/etc/passwd``, the working folder), so external data is read only

* from a file inside the model's own folder: no absolute path, no ``..``, no symlink that
  leads out of the folder, a regular file only (no FIFO, no device);
* after the offset and length are checked against that file's size, the tensor's element
  count and :data:`~costmodel.limits.MAX_ONNX_EXTERNAL_BYTES`.

The bytes read become numbers (never text), and only numeric tensors are read: a value
never reaches a message as the file's bytes.
"""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path

from .. import limits
from ..errors import CostModelError
from ..safe_io import printable
from .onnx_bounds import text

#: ONNX element types read as numbers, and their numpy dtypes.
_NUMERIC = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32",
            7: "int64", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64"}


def _fail(path: str, tensor_name: str, why: str) -> CostModelError:
    return CostModelError(f"{path}: the values of tensor {printable(text(tensor_name))} are "
                          f"needed to count the graph, but {why}")


def _entries(tensor) -> dict[str, str]:
    return {text(entry.key): text(entry.value) for entry in tensor.external_data}


def _whole(value: str, key: str, path: str, name: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        raise _fail(path, name, f"its external data {key} '{printable(value)}' is not a whole "
                                "number")
    return int(value)


def external_bytes(tensor, folder: Path, path: str, expected: int) -> bytes:
    """The ``expected`` bytes of ``tensor``'s external data, from a file in ``folder``."""
    entries = _entries(tensor)
    location = entries.get("location", "")
    shown = printable(location)
    parts = location.replace("\\", "/").split("/")
    if not location or "\x00" in location or os.path.isabs(location) or \
            location.startswith(("/", "\\", "~")) or ".." in parts or \
            (len(location) > 1 and location[1] == ":"):
        raise _fail(path, tensor.name, f"its external data location '{shown}' is not a file "
                                       "name inside the model's folder; refused")
    offset = _whole(entries.get("offset", "0"), "offset", path, tensor.name)
    length = _whole(entries["length"], "length", path, tensor.name) \
        if "length" in entries else expected
    if length != expected:
        raise _fail(path, tensor.name, f"its external data length {length:,} does not match "
                                       f"its dims and type ({expected:,} bytes)")
    if length > limits.MAX_ONNX_EXTERNAL_BYTES:
        raise _fail(path, tensor.name, f"its external data has {length:,} bytes, more than the "
                                       f"{limits.MAX_ONNX_EXTERNAL_BYTES:,} read for a constant "
                                       "(limit MAX_ONNX_EXTERNAL_BYTES)")
    root = folder.resolve()
    target = (root / location)
    try:
        real = target.resolve(strict=True)
    except (OSError, RuntimeError):
        raise _fail(path, tensor.name, f"its external data file '{shown}' does not exist "
                                       "beside the model") from None
    if root not in real.parents:
        raise _fail(path, tensor.name, f"its external data file '{shown}' leads outside the "
                                       "model's folder (a symlink?); refused")
    try:
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) |
                     getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise _fail(path, tensor.name, f"its external data file '{shown}' cannot be read: "
                                       f"{exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _fail(path, tensor.name, f"its external data file '{shown}' is not a regular "
                                           "file")
        if offset + length > info.st_size:
            raise _fail(path, tensor.name, f"its external data (offset {offset:,}, length "
                                           f"{length:,}) runs past the end of '{shown}' "
                                           f"({info.st_size:,} bytes)")
        stream.seek(offset)
        data = stream.read(length)
    if len(data) != length:
        raise _fail(path, tensor.name, f"its external data file '{shown}' changed while read")
    return data


def tensor_values(tensor, folder: Path, path: str) -> list | None:
    """The values of a numeric ``tensor`` (an initializer or a Constant's value) as a flat
    list of Python numbers, or None when it is too large to fold or not numeric. Inline values
    that do not match the dims are an error; external data is read as the module says."""
    import numpy as np
    from onnx import TensorProto, numpy_helper

    dtype = _NUMERIC.get(tensor.data_type)
    if dtype is None or any(d < 0 for d in tensor.dims):
        return None
    count = math.prod(tensor.dims)
    if count > limits.MAX_ONNX_CONSTANT_VALUES:
        return None
    if tensor.HasField("data_location") and tensor.data_location == TensorProto.EXTERNAL:
        if "location" not in _entries(tensor):
            return None  # a large weight whose values costmodel dropped after reading
        data = external_bytes(tensor, folder, path, count * np.dtype(dtype).itemsize)
        array = np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"))
    else:
        try:
            array = numpy_helper.to_array(tensor)
        except (ValueError, TypeError, IndexError, OverflowError):
            raise _fail(path, tensor.name, "its stored values do not match its dims and type") \
                from None
    flat = array.reshape(-1)
    if flat.size != count:
        raise _fail(path, tensor.name, "its stored values do not match its dims and type")
    return flat.tolist()
