"""Shared helpers for the benchmark scripts: wall time of whole processes, medians."""

from __future__ import annotations

import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall_time(command: list[str]) -> float:
    """Seconds one run of ``command`` takes as a whole process (stdout discarded)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_times(commands: dict[str, list[str]], repeat: int) -> dict[str, float]:
    """Median wall time of each command over ``repeat`` runs, interleaved so that a change in
    machine load affects all of them alike; one warm-up run each fills the file cache."""
    for command in commands.values():
        wall_time(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            times[name].append(wall_time(command))
    return {name: statistics.median(values) for name, values in times.items()}
