"""Wall time of `costmodel derive NAME` as a whole process, for every derivation and a few
zoo models, against floors measured on the same machine: `python -c "import sympy"`, the
import every command pays, and `costmodel --help`.

Issue #4's target: each `costmodel derive NAME` prints in under a second. Each command runs
as a fresh process REPEAT times (after one warm-up run that fills the file cache); medians
are reported, with the CPU time derive adds over importing the command line
(`import costmodel.cli.app`, which every command pays; sympy is imported by the commands
that count, not by the command line itself).

Usage: python benchmarks/bench_derive.py [REPEAT]
"""

from __future__ import annotations

import statistics
import sys

from timing import ROOT, wall_and_cpu

sys.path.insert(0, str(ROOT))

MODELS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v2:rounding=none", "shufflenet_v2",
          "resnet50", "resnet152", "googlenet", "xception")
TARGET = 1.0  # seconds


def median_time(command: list[str], repeat: int) -> tuple[float, float]:
    wall_and_cpu(command)  # warm the file cache
    runs = [wall_and_cpu(command) for _ in range(repeat)]
    return (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))


def main(repeat: int = 5) -> dict[str, tuple[float, float]]:
    from costmodel.analysis.derive import names

    cli = [sys.executable, "-m", "costmodel"]
    floors = {"python -c 'import sympy'": [sys.executable, "-c", "import sympy"],
              "import costmodel.cli.app (every command)": [
                  sys.executable, "-c", "import costmodel.cli.app"],
              "costmodel --help": [*cli, "--help"]}
    results = {label: median_time(command, repeat) for label, command in floors.items()}
    base = results["import costmodel.cli.app (every command)"]
    print(f"Medians of {repeat} cold processes each (target: under {TARGET:.1f} s). CPU = user + "
          "system time of the process, less sensitive than wall time to other load.")
    print(f"{'command':44s} {'wall':>7s} {'CPU':>7s} {'CPU over import':>16s} {'wall < 1 s':>11s}")
    for label, (wall, cpu) in results.items():
        print(f"{label:44s} {wall:6.3f}s {cpu:6.3f}s {'':>16s} "
              f"{'yes' if wall < TARGET else 'no':>11s}")
    for name in (*names(), *MODELS):
        wall, cpu = median_time([*cli, "derive", name], repeat)
        results[f"derive {name}"] = (wall, cpu)
        print(f"{'costmodel derive ' + name:44s} {wall:6.3f}s {cpu:6.3f}s "
              f"{cpu - base[1]:+15.3f}s {'yes' if wall < TARGET else 'no':>11s}")
    return results


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
