"""Shared helpers for the benchmark scripts: wall time of whole processes, medians."""

from __future__ import annotations

import resource
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def wall_and_cpu(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, of the child alone) of one run of ``command``
    as a whole process (stdout discarded). CPU time is less sensitive to other load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def wall_time(command: list[str]) -> float:
    """Seconds one run of ``command`` takes as a whole process (stdout discarded)."""
    return wall_and_cpu(command)[0]


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
