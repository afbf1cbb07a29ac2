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
from collections.abc import Callable
from dataclasses import dataclass


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
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _fastest_seconds(run: Callable[[], object], repeats: int) -> float:
    run()  # warm up: first-touch page faults, library initialization
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


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
    """Measure matmul throughput and copy bandwidth with ``threads`` threads."""
    use_torch = library == "torch" or (library == "auto" and torch_available())
    n = size
    copy_bytes = copy_mib * 2**20
    if use_torch:
        import torch

        torch.set_num_threads(threads)
        a = torch.randn(n, n)
        b = torch.randn(n, n)
        matmul = _fastest_seconds(lambda: torch.mm(a, b), repeats)
        src = torch.empty(copy_bytes // 4, dtype=torch.float32).fill_(1.0)
        dst = torch.empty_like(src)
        copy = _fastest_seconds(lambda: dst.copy_(src), repeats)
        tiny = torch.zeros(1, 1, 1, 1)
        relu = torch.nn.ReLU()
        calls = 2000

        def many() -> None:
            with torch.inference_mode():
                for _ in range(calls):
                    relu(tiny)

        overhead = _fastest_seconds(many, repeats) / calls
        label = f"torch {torch.__version__}"
    else:
        import numpy as np

        os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # only effective before BLAS loads
        rng = np.random.default_rng(0)
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        matmul = _fastest_seconds(lambda: a @ b, repeats)
        src = np.ones(copy_bytes // 4, dtype=np.float32)
        dst = np.empty_like(src)
        copy = _fastest_seconds(lambda: np.copyto(dst, src), repeats)
        overhead = 0.0
        label = f"numpy {np.__version__}"
    return Calibration(name, label, threads, n**3 / matmul, 2 * copy_bytes / copy, n,
                       copy_bytes, repeats, machine_description(), overhead)
