"""Measure this machine's roofline: sustained matrix-multiply throughput (MACs per second) and
memory bandwidth (bytes per second), with torch where it is installed and numpy otherwise, into
a hardware profile (see :mod:`costmodel.analysis.latency`).

A roof is an upper bound, and other jobs on a shared machine can only slow a run down, so each
figure keeps the fastest of its repeated runs (with a fixed thread count); the profile records
the threads, repeats and library used.
"""

from __future__ import annotations

import os
import platform
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from .. import limits
from ..errors import CostModelError

LIBRARIES = ("auto", "torch", "numpy")

#: Each bounded option: its least and greatest value and the limits naming them.
BOUNDS = {
    "--threads": (1, limits.MAX_CALIBRATE_THREADS, "", "MAX_CALIBRATE_THREADS"),
    "--size": (limits.MIN_CALIBRATE_SIZE, limits.MAX_CALIBRATE_SIZE, "MIN_CALIBRATE_SIZE",
               "MAX_CALIBRATE_SIZE"),
    "--copy-mib": (limits.MIN_CALIBRATE_COPY_MIB, limits.MAX_CALIBRATE_COPY_MIB,
                   "MIN_CALIBRATE_COPY_MIB", "MAX_CALIBRATE_COPY_MIB"),
    "--repeats": (1, limits.MAX_CALIBRATE_REPEATS, "", "MAX_CALIBRATE_REPEATS"),
}


def check_options(name: str, threads: int, size: int, copy_mib: int, repeats: int,
                  library: str) -> None:
    """Refuse, before any work, an option outside its bounds: the error names the option and
    the range allowed."""
    for option, value in (("--threads", threads), ("--size", size), ("--copy-mib", copy_mib),
                          ("--repeats", repeats)):
        low, high, low_name, high_name = BOUNDS[option]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            hit = high_name if isinstance(value, int) and value > high else low_name
            raise CostModelError(f"{option} {value}: give a whole number from {low} to "
                                 f"{high}" + (f" (limit {hit} in costmodel/limits.py)"
                                              if hit else ""))
    if library not in LIBRARIES:
        from ..safe_io import printable

        raise CostModelError(f"--library '{printable(library)}': use auto, torch or numpy")
    if not name.strip():
        raise CostModelError("--name is empty; give the profile a name")
    if len(name) > limits.MAX_PROFILE_NAME_CHARS:
        raise CostModelError(f"--name has {len(name):,} characters, more than the "
                             f"{limits.MAX_PROFILE_NAME_CHARS} allowed (limit "
                             "MAX_PROFILE_NAME_CHARS)")
    if any(unicodedata.category(c) == "Cs" for c in name):
        raise CostModelError("--name holds bytes that are not UTF-8 text; give a UTF-8 name")


@dataclass(frozen=True)
class Calibration:
    name: str
    library: str
    threads: int
    peak_macs_per_second: float
    bandwidth_bytes_per_second: float
    matmul_size: int
    copy_bytes: int
    repeats: int
    machine: str
    overhead_seconds: float = 0.0

    def toml(self) -> str:
        """The profile as a TOML file `costmodel latency --hw PATH` reads."""
        return "\n".join([
            f"# Measured by `costmodel calibrate` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
            f'name = "{_escape(self.name)}"',
            f'description = "{_escape(self.machine)}, {self.threads} thread(s), {self.library}"',
            'dtype = "fp32"',
            f"# fastest of {self.repeats} runs of a {self.matmul_size}x{self.matmul_size} fp32 "
            "matrix multiply (n^3 MACs each)",
            f"peak_macs_per_second = {self.peak_macs_per_second:.6g}",
            f"# fastest of {self.repeats} copies of {self.copy_bytes // 2**20} MiB (read + write "
            "counted)",
            f"bandwidth_bytes_per_second = {self.bandwidth_bytes_per_second:.6g}",
            "# fastest time of one call of a tiny op (ReLU on one element) through the library: "
            "the fixed cost per kernel (0 when not measured)",
            f"overhead_seconds_per_layer = {self.overhead_seconds:.6g}",
            f'source = "costmodel calibrate ({self.library}, {self.threads} thread(s))"', ""])


def _escape(text: str) -> str:
    """``text`` as the inside of a TOML basic string: backslash and quote escaped, and every
    control character (a newline in ``--name`` would end the string and break the file) as
    a ``\\uXXXX`` escape; a lone surrogate, which UTF-8 cannot hold, as U+FFFD."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(char)
    return "".join(out)


def _fastest_seconds(run: Callable[[], object], repeats: int) -> float:
    run()  # warm up: first-touch page faults, library initialization
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return max(min(times), 1e-9)  # a clock too coarse for the run must not divide by zero


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()} {platform.release()}"


def torch_available() -> bool:
    import importlib.util
    return importlib.util.find_spec("torch") is not None


def calibrate(name: str = "this_machine", threads: int = 1, size: int = 1024,
              copy_mib: int = 256, repeats: int = 5, library: str = "auto") -> Calibration:
    """Measure matmul throughput and copy bandwidth with ``threads`` threads. Every option is
    checked against its bounds first; memory the machine cannot give is one error."""
    check_options(name, threads, size, copy_mib, repeats, library)
    use_torch = library == "torch" or (library == "auto" and torch_available())
    if library == "torch" and not use_torch:
        raise CostModelError("--library torch: torch is not installed (use numpy)")
    megabytes = (3 * 4 * size * size + 2 * copy_mib * 2**20) / 2**20
    try:
        result = (_measure_torch if use_torch else _measure_numpy)(threads, size,
                                                                  copy_mib * 2**20, repeats)
    except MemoryError:
        raise CostModelError(f"calibrate: this machine could not give the {megabytes:,.0f} MiB "
                             "the measurement needs (--size, --copy-mib); use smaller values"
                             ) from None
    except RuntimeError as exc:  # torch's allocator: "can't allocate memory"
        if "alloc" not in str(exc).lower():
            raise
        raise CostModelError(f"calibrate: this machine could not give the {megabytes:,.0f} MiB "
                             "the measurement needs (--size, --copy-mib); use smaller values"
                             ) from None
    matmul, copy, overhead, label = result
    copy_bytes = copy_mib * 2**20
    return Calibration(name, label, threads, size**3 / matmul, 2 * copy_bytes / copy, size,
                       copy_bytes, repeats, machine_description(), overhead)


def _measure_torch(threads: int, n: int, copy_bytes: int,
                   repeats: int) -> tuple[float, float, float, str]:
    import torch

    torch.set_num_threads(threads)
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    matmul = _fastest_seconds(lambda: torch.mm(a, b), repeats)
    del a, b
    src = torch.empty(copy_bytes // 4, dtype=torch.float32).fill_(1.0)
    dst = torch.empty_like(src)
    copy = _fastest_seconds(lambda: dst.copy_(src), repeats)
    del src, dst
    tiny = torch.zeros(1, 1, 1, 1)
    relu = torch.nn.ReLU()
    calls = 2000

    def many() -> None:
        with torch.inference_mode():
            for _ in range(calls):
                relu(tiny)

    overhead = _fastest_seconds(many, repeats) / calls
    return matmul, copy, overhead, f"torch {torch.__version__}"


def _measure_numpy(threads: int, n: int, copy_bytes: int,
                   repeats: int) -> tuple[float, float, float, str]:
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # only effective before BLAS loads
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    matmul = _fastest_seconds(lambda: a @ b, repeats)
    del a, b
    src = np.ones(copy_bytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    copy = _fastest_seconds(lambda: np.copyto(dst, src), repeats)
    return matmul, copy, 0.0, f"numpy {np.__version__}"
