"""Sweep speed of this checkout against a previous commit, measured in one run.

The previous commit is exported with ``git archive`` into a temporary folder (no worktree is
registered, nothing in the repository changes). Each sweep then runs as a whole process
(``python -m costmodel sweep ...``, with ``PYTHONPATH`` set to one tree or the other),
interleaved, ``REPEAT`` times each after one warm-up run each; the medians of wall and CPU time
and their ratio (this checkout / previous) are printed. The CSVs the two trees write are
compared byte for byte first: the same numbers, or the ratio means nothing.

Usage: python benchmarks/bench_sweep_compare.py [REPEAT] [--against COMMIT]
(default: 7 runs, against a1b08e4, the main branch before issue 17's structure work).
"""

from __future__ import annotations

import io
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AGAINST = "a1b08e4"

#: name -> the sweep's arguments after ``costmodel sweep``
SWEEPS = {
    "mobilenet_v2 1000 alphas × 1000 resolutions": [
        "mobilenet_v2", "--alpha", "0.35:1.349:0.001", "--resolution", "96:1095:1"],
    "resnet50 resolution 32:1023 (992 points)": ["resnet50", "--resolution", "32:1023:1"],
    "mobilenet_v1 alpha × resolution with --memory (40,000 points)": [
        "mobilenet_v1", "--alpha", "0.25:2.24:0.01", "--resolution", "96:295:1", "--memory"],
}


def export(commit: str, folder: Path) -> Path:
    """The tree of ``commit``, written into ``folder`` by ``git archive``."""
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT,
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def run(tree: Path, arguments: list[str], output: Path) -> tuple[float, float]:
    """Wall and CPU seconds (the child's user + system) of one sweep from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-m", "costmodel", "sweep", *arguments, "--output",
               str(output), "--quiet"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=tree, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(repeat: int, against: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        previous = export(against, Path(folder) / "previous")
        trees = {"this checkout": ROOT, against: previous}
        print(f"sweeps as whole processes, {repeat} interleaved runs each (after a warm-up), "
              f"medians; this checkout vs {against}")
        ratios = []
        for name, arguments in SWEEPS.items():
            outputs = {label: Path(folder) / f"{i}.csv" for i, label in enumerate(trees)}
            for label, tree in trees.items():  # warm-up, and the outputs compared
                run(tree, arguments, outputs[label])
            texts = [path.read_bytes() for path in outputs.values()]
            if texts[0] != texts[1]:
                raise SystemExit(f"{name}: the two trees write different CSVs")
            times: dict[str, list[tuple[float, float]]] = {label: [] for label in trees}
            for _ in range(repeat):
                for label, tree in trees.items():
                    times[label].append(run(tree, arguments, outputs[label]))
            wall = {label: statistics.median(t[0] for t in runs) for label, runs in times.items()}
            cpu = {label: statistics.median(t[1] for t in runs) for label, runs in times.items()}
            now, before = trees
            ratios.append(cpu[now] / cpu[before])
            rows = texts[0].count(b"\n") - 1
            print(f"  {name} ({rows:,} rows, identical CSVs)")
            print(f"    wall {wall[now]:.3f} s vs {wall[before]:.3f} s: "
                  f"{wall[now] / wall[before]:.2f}×; CPU {cpu[now]:.3f} s vs "
                  f"{cpu[before]:.3f} s: {cpu[now] / cpu[before]:.2f}×")
        print(f"  CPU ratio, this checkout / {against}: "
              f"{min(ratios):.2f}–{max(ratios):.2f}× (target ≤ 1.10)")


if __name__ == "__main__":
    args = sys.argv[1:]
    commit = args[args.index("--against") + 1] if "--against" in args else DEFAULT_AGAINST
    numbers = [a for a in args if a.isdigit()]
    main(int(numbers[0]) if numbers else 7, commit)
