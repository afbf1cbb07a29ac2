"""Cold start of `costmodel compare mobilenet_v1 vgg16`, against `python -c "import sympy"`.

Issue #2's target: the whole process takes at most 1.5 times as long as importing sympy on the
same machine. Each command runs as a fresh process, alternately, REPEAT times; medians are
reported. Usage: python benchmarks/bench_startup.py [REPEAT]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "import sympy": [sys.executable, "-c", "import sympy"],
    "costmodel compare mobilenet_v1 vgg16": [sys.executable, "-m", "costmodel", "compare",
                                             "mobilenet_v1", "vgg16"],
}


def wall_time(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(repeat: int = 9) -> dict[str, float]:
    for command in COMMANDS.values():  # warm the file cache and the .pyc files once
        wall_time(command)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(repeat):
        for name, command in COMMANDS.items():
            times[name].append(wall_time(command))
    medians = {name: statistics.median(values) for name, values in times.items()}
    base = medians["import sympy"]
    for name, value in medians.items():
        print(f"{name:40s} median {value:.3f} s  ({value / base:.2f}× import sympy)")
    return medians


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
